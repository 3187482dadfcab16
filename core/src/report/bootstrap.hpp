// The paired bootstrap confidence interval of a mean difference: resample the paired differences
// (users) with replacement B times, take each resample's mean, and report the percentile interval.
// Seeded with its own generator (splitmix64, index = high 64 bits of r * n), so the same differences
// and seed give the same interval on every machine and standard library.
#pragma once

#include <cstdint>
#include <vector>

namespace recgrid::report {

struct Interval {
  double low = 0, high = 0;
  bool valid() const;
};

// The means of `resamples` bootstrap resamples of d (each of d's size, drawn with replacement).
std::vector<double> bootstrap_means(const std::vector<double>& d, int resamples, uint64_t seed);

// The q-quantile of sorted values by linear interpolation between order statistics at position
// h = (B - 1) q (numpy's default "linear" method, Hyndman and Fan's type 7).
double quantile_sorted(const std::vector<double>& sorted, double q);

// The percentile interval [q_{(1-level)/2}, q_{(1+level)/2}] of the bootstrap means; NaN bounds for
// fewer than 2 differences or a non-finite one.
Interval paired_bootstrap_ci(const std::vector<double>& d, double level, int resamples, uint64_t seed);

// The seed and the number of resamples the report uses (stated in its footnote).
inline constexpr uint64_t kBootstrapSeed = 20240501;
inline constexpr int kBootstrapResamples = 2000;

}  // namespace recgrid::report
