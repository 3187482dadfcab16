#include "report/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace recgrid::report {

namespace {

// splitmix64 (Steele, Lea and Flood 2014): a tiny generator with a fixed, documented output stream.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A uniform index in [0, n): the high half of the 128-bit product (Lemire's multiply-shift; the bias
// is below n / 2^64, far under anything a report shows).
size_t index_below(uint64_t& state, size_t n) {
  return static_cast<size_t>((static_cast<unsigned __int128>(splitmix64(state)) * n) >> 64);
}

}  // namespace

bool Interval::valid() const { return std::isfinite(low) && std::isfinite(high); }

std::vector<double> bootstrap_means(const std::vector<double>& d, int resamples, uint64_t seed) {
  if (d.empty() || resamples < 1) return {};
  std::vector<double> means(static_cast<size_t>(resamples));
  uint64_t state = seed;
  for (double& m : means) {
    double s = 0;
    for (size_t k = 0; k < d.size(); ++k) s += d[index_below(state, d.size())];
    m = s / static_cast<double>(d.size());
  }
  return means;
}

double quantile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty() || !(q >= 0 && q <= 1)) return std::numeric_limits<double>::quiet_NaN();
  const double h = (static_cast<double>(sorted.size()) - 1) * q;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

Interval paired_bootstrap_ci(const std::vector<double>& d, double level, int resamples, uint64_t seed) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!(level > 0 && level < 1)) throw std::invalid_argument("paired_bootstrap_ci: level outside (0, 1)");
  if (d.size() < 2 || std::any_of(d.begin(), d.end(), [](double v) { return !std::isfinite(v); })) return {nan, nan};
  std::vector<double> means = bootstrap_means(d, resamples, seed);
  std::sort(means.begin(), means.end());
  return {quantile_sorted(means, (1 - level) / 2), quantile_sorted(means, (1 + level) / 2)};
}

}  // namespace recgrid::report
