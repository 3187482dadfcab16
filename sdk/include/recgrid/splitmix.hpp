// The splitmix64 finaliser: a bijective mix of 64 bits (Steele, Lea and Flood, 2014). It is the core
// of the counter-based random streams (ops::drop_edges hashes key + e * golden for entry e) and of the
// host's per-(seed, stream, step) seeds, so it lives once, here.
#pragma once

#include <cstdint>

namespace recgrid {

inline constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;  // 2^64 / golden ratio: splitmix64's step

inline constexpr uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace recgrid
