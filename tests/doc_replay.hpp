// A documentation page, replayed: the code blocks under `<!-- replay: KIND -->` markers, read from the
// page as written and run by the tests (docs/YOUR_DATA.md, docs/CLUSTER.md), so the page cannot drift
// from what the commands do.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace recgrid::test {

// The page's replayed blocks: "import <format>", "file <name>", and "step" (in page order).
struct Walkthrough {
  std::map<std::string, std::string> imports, files;
  std::vector<std::string> steps;
};

inline Walkthrough read_walkthrough(const std::string& page) {
  std::ifstream in(page);
  Walkthrough w;
  std::string line, marker;
  while (std::getline(in, line)) {
    if (line.rfind("<!-- replay: ", 0) == 0) {
      marker = line.substr(13, line.find(" -->") - 13);
      continue;
    }
    if (marker.empty() || line.rfind("```", 0) != 0) continue;
    std::string block;
    while (std::getline(in, line) && line.rfind("```", 0) != 0) block += line + "\n";
    if (marker.rfind("import ", 0) == 0) w.imports[marker.substr(7)] = block;
    else if (marker.rfind("file ", 0) == 0) w.files[marker.substr(5)] = block;
    else w.steps.push_back(block);
    marker.clear();
  }
  return w;
}

// Runs one block in `dir` (bash, -euo pipefail) with the built recgrid first on the PATH; what it
// printed is left in dir/block.out.
inline void run_block(const std::filesystem::path& dir, const std::string& block) {
  const std::filesystem::path script = dir / "block.sh";
  std::ofstream(script) << "set -euo pipefail\nexport PATH=" + binary_dir() + "/bin:$PATH\ncd " + dir.string() + "\n" + block;
  const std::string cmd = "bash " + script.string() + " > " + (dir / "block.out").string() + " 2>&1";
  const int code = std::system(cmd.c_str());
  std::ifstream out(dir / "block.out");
  const std::string printed((std::istreambuf_iterator<char>(out)), {});
  ASSERT_EQ(code, 0) << block << "\n--- printed:\n" << printed;
}

}  // namespace recgrid::test
