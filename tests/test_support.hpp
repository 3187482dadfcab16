// Paths and small helpers shared by the tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "data/data_root.hpp"
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
// The data root of the tests' own small datasets (tests/fixtures/data: a cut of the scientific
// dataset, made by tests/fixtures/data/make_scientific_subset.py).
inline std::string fixture_data() { return fixture("data"); }

// The paper's full datasets (amazon, yelp, movie), where `recgrid run` finds them (dataset.root at
// its default, resolved from the source tree). Tests that need them start with REQUIRE_PAPER_DATA,
// carry the ctest label paper_data (their suite is PaperData), and are skipped by name when the data
// is absent; RECGRID_REQUIRE_PAPER_DATA=1 (CI) makes that a failure.
inline std::string paper_data_root() {
  const std::string root = data::resolve_data_root(data::kDefaultDataRoot);
  return root == data::kDefaultDataRoot ? source_dir() + "/" + root : root;
}
#define REQUIRE_PAPER_DATA(name)                                                                          \
  do {                                                                                                    \
    const std::string dir_ = recgrid::test::paper_data_root() + "/" + (name);                             \
    if (std::ifstream(dir_ + "/trn_mat.pkl").good()) break;                                               \
    const char* need_ = std::getenv("RECGRID_REQUIRE_PAPER_DATA");                                        \
    if (need_ && std::string(need_) == "1") FAIL() << "the paper's dataset is not in " << dir_;           \
    GTEST_SKIP() << "the paper's dataset " << (name) << " is not in " << dir_                             \
                 << ": get it with `build/bin/recgrid data get amazon yelp movie`";                       \
  } while (0)

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
inline data::Dataset load_tsv_scientific() { return data::load_tsv(fixture_data() + "/scientific"); }
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
