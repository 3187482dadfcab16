// The clock a run times its setup, epochs and evaluations with, and the median it reports of them.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace recgrid::train {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace recgrid::train
