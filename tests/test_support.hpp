// Paths and small helpers shared by the tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "data/dataset.hpp"

namespace recgrid::test {

inline std::string source_dir() { return RECGRID_SOURCE_DIR; }
inline std::string binary_dir() { return RECGRID_BINARY_DIR; }
// Runs the built `recgrid` with `args` (stdout and stderr together); `env` is prefixed, e.g. "A=1".
struct CliResult {
  int code;  // exit status, -1 when killed by a signal
  std::string output;
};
inline CliResult run_cli(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + binary_dir() + "/bin/recgrid " + args + " 2>&1 </dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline std::string fixture(const std::string& rel) { return source_dir() + "/tests/fixtures/" + rel; }
// The read-only real datasets beside the checkout (never copied into the repository).
inline std::string shared_data() {
  const char* env = std::getenv("RECGRID_DATA_ROOT");
  return env && *env ? env : source_dir() + "/../shared/data";
}

// A 3-user x 4-item training graph:
//   user 0: items 0, 1      user 1: item 1      user 2: items 1, 2, 3
inline data::Dataset tiny_dataset() {
  data::Dataset ds;
  ds.name = "tiny";
  ds.n_users = 3;
  ds.n_items = 4;
  ds.train.user = {0, 0, 1, 2, 2, 2};
  ds.train.item = {0, 1, 1, 1, 2, 3};
  ds.valid.user = {0, 1};
  ds.valid.item = {2, 3};
  ds.test.user = {0, 2};
  ds.test.item = {3, 0};
  return ds;
}

}  // namespace recgrid::test

namespace recgrid::test {
inline data::Dataset load_tsv_scientific() { return data::load_tsv(shared_data() + "/scientific"); }
}  // namespace recgrid::test

#include <fstream>
#include <sstream>
namespace recgrid {
inline std::string read_text_for_test(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
}  // namespace recgrid
