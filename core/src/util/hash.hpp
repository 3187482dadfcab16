// 64-bit FNV-1a: a small, stable, non-cryptographic hash (the same on every machine and build), for
// names of grid cells and checksums of files we wrote ourselves.
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

namespace recgrid {

class Fnv1a64 {
 public:
  void update(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t k = 0; k < n; ++k) {
      h_ ^= p[k];
      h_ *= 1099511628211ULL;  // the FNV prime
    }
  }
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, h_);
    return buf;
  }

 private:
  uint64_t h_ = 14695981039346656037ULL;  // the offset basis
};

inline std::string fnv1a64_hex(const std::string& s) {
  Fnv1a64 h;
  h.update(s);
  return h.hex();
}

}  // namespace recgrid
