// Shared by the fuzz targets: a private scratch folder per process (readers take paths) and the rule
// every target follows: a reader may refuse an input only with a std::exception carrying a message;
// anything else (a crash, a sanitizer report, a hang, a non-std exception) is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace recgrid::fuzz {

inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string d = std::string(base && *base ? base : "/tmp") + "/recgrid-fuzz-" + std::to_string(::getpid());
    std::string cmd = "mkdir -p '" + d + "'";
    if (std::system(cmd.c_str()) != 0) std::abort();
    return d;
  }();
  return dir;
}

inline std::string write_scratch(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

inline std::string as_text(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// Runs `body`; a refusal must be a std::exception with a non-empty message.
template <class F>
void expect_clean(F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    if (std::string(e.what()).empty()) std::abort();  // an error the user cannot read
  }
}

}  // namespace recgrid::fuzz
