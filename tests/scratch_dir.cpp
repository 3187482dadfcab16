// Every test's scratch files go under this build tree's test-tmp/ (gtest's TempDir() reads
// TEST_TMPDIR), not a shared /tmp/: two test runs on one machine, say the CI's clean clone and a
// developer's build, then never write into each other's folders. Sharing /tmp/gridcli_kill that
// way made GridCli.KilledPartWayAndRerunEveryCellFinishesExactlyOnce fail three different ways.
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

const bool kScratchDirSet = [] {
  const char* given = std::getenv("TEST_TMPDIR");
  if (given != nullptr && given[0] != '\0') return false;  // ctest or the user chose one
  const std::string dir = std::string(RECGRID_BINARY_DIR) + "/test-tmp";
  std::filesystem::create_directories(dir);
  ::setenv("TEST_TMPDIR", dir.c_str(), 1);
  return true;
}();

}  // namespace
