// Replays fuzz inputs through a target's LLVMFuzzerTestOneInput without libFuzzer: the regression
// cases of the ctest suite (tests/fixtures/fuzz-regressions/<target>/, every crash ever found plus the seeds).
// Usage: replay_<target> FILE_OR_FOLDER...   exit 0 when every input was read without a crash.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> inputs;
  for (int k = 1; k < argc; ++k) {
    if (!std::filesystem::exists(argv[k])) continue;  // tests/fixtures/fuzz-regressions/<target>/ before its first case
    if (std::filesystem::is_directory(argv[k])) {
      for (const auto& e : std::filesystem::directory_iterator(argv[k]))
        if (e.is_regular_file()) inputs.push_back(e.path());
    } else {
      inputs.emplace_back(argv[k]);
    }
  }
  for (const auto& p : inputs) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    const std::string bytes = s.str();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("replayed %zu input(s)\n", inputs.size());
  return inputs.empty() ? 1 : 0;
}
