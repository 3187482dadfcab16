#include "data/data_root.hpp"

#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace recgrid::data {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : "";
}
}  // namespace

std::string user_data_dir() {
  // The XDG base-directory specification: a relative XDG_DATA_HOME is invalid and ignored.
  const std::string xdg = env("XDG_DATA_HOME");
  if (!xdg.empty() && fs::path(xdg).is_absolute()) return (fs::path(xdg) / "recgrid" / "data").string();
  const std::string home = env("HOME");
  return (fs::path(home.empty() ? "." : home) / ".local" / "share" / "recgrid" / "data").string();
}

std::string resolve_data_root(const std::string& configured) {
  if (configured != kDefaultDataRoot) return configured;
  if (const std::string root = env("RECGRID_DATA_ROOT"); !root.empty()) return root;
  std::error_code ec;
  if (fs::is_directory(kDefaultDataRoot, ec)) return kDefaultDataRoot;
  return user_data_dir();
}

}  // namespace recgrid::data
