// The Wilcoxon signed-rank test, two-sided, on paired differences d[k] = a[k] - b[k].
//
// Conventions (those of scipy.stats.wilcoxon with zero_method="wilcox", correction=False):
// - zero differences are dropped before ranking (Wilcoxon's convention; n counts the rest);
// - tied |d| get the average of their ranks;
// - n <= 50 with no tie and no zero dropped: the exact null distribution of W+ (every sign pattern
//   equally likely), p = min(1, 2 min(P(W+ <= w), P(W+ >= w))), and p = 1 at the centre;
// - otherwise the normal approximation z = (W - n(n+1)/4) / sigma with
//   sigma^2 = (n(n+1)(2n+1) - sum_ties (t^3 - t) / 2) / 24, W = min(W+, W-), no continuity correction.
//   (scipy's "auto" uses its exact table for n <= 50 even with ties; RecGrid uses the tie-corrected
//   approximation there, which the exact table does not account for.)
#pragma once

#include <vector>

#include "report/stats.hpp"

namespace recgrid::report {

struct SignedRankTest : PairedTest {
  int zeros = 0;          // differences dropped as zero
  double w_plus = 0;      // sum of the ranks of the positive differences
  bool exact = false;     // exact null distribution, or the normal approximation
};

// `tie_resolution`: |d| values closer than this count as equal (and |d| below it as zero), so that
// float noise in mathematically equal per-user means neither breaks a tie nor makes a zero; 0 = exact
// comparison.
SignedRankTest wilcoxon_signed_rank(const std::vector<double>& d, double tie_resolution = 0);

// P(W+ <= w) under the null for n untied, nonzero differences (exact; n <= 1000).
double signed_rank_cdf(int n, double w);

}  // namespace recgrid::report
