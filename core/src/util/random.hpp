// Small, portable random helpers: the same seed gives the same numbers with any standard library
// (std::uniform_int_distribution and std::shuffle are implementation-defined).
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "recgrid/splitmix.hpp"

namespace recgrid {

// Uniform integer in [0, n) by multiply-shift (Lemire); bias < n / 2^64, negligible here.
inline int64_t uniform_below(std::mt19937_64& rng, int64_t n) {
  return static_cast<int64_t>((static_cast<unsigned __int128>(rng()) * static_cast<uint64_t>(n)) >> 64);
}

// Fisher-Yates with uniform_below.
template <class T>
void shuffle_in_place(std::vector<T>& v, std::mt19937_64& rng) {
  for (int64_t k = static_cast<int64_t>(v.size()) - 1; k > 0; --k) std::swap(v[k], v[uniform_below(rng, k + 1)]);
}

// A seed for one (run seed, stream, step) triple, so each epoch's randomness is independent of how
// the run got there: a resumed run draws exactly what an uninterrupted run would have.
inline uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t step) {
  return splitmix64_mix(seed * kGoldenGamma ^ (stream + 0x632BE59BD9B4E019ULL) * 0xBF58476D1CE4E5B9ULL ^ step);
}

}  // namespace recgrid
