#include "report/signed_rank.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace recgrid::report {

namespace {

// The number of sign patterns of ranks 1..n whose positive ranks sum to s, for s = 0..n(n+1)/2,
// divided by 2^n (a probability, built rank by rank so it never overflows).
std::vector<double> signed_rank_pmf(int n) {
  std::vector<double> p(static_cast<size_t>(n) * (n + 1) / 2 + 1, 0.0);
  p[0] = 1;
  int top = 0;
  for (int r = 1; r <= n; ++r) {
    top += r;
    for (int s = top; s >= 0; --s) p[s] = 0.5 * (p[s] + (s >= r ? p[s - r] : 0.0));
  }
  return p;
}

struct Ranked {
  std::vector<double> rank;  // average ranks of |d|, same order as the nonzero d
  std::vector<double> sign;  // +1 or -1
  double tie_term = 0;       // sum over tie groups of t^3 - t
  bool ties = false;
};

// Drops zeros, ranks |d| with average ranks for ties.
Ranked rank_nonzero(const std::vector<double>& d, double resolution, int& zeros) {
  std::vector<std::pair<double, double>> v;  // (|d|, sign)
  zeros = 0;
  for (double x : d) {
    if (std::fabs(x) <= resolution && (resolution > 0 || x == 0)) {
      ++zeros;
      continue;
    }
    v.push_back({std::fabs(x), x > 0 ? 1.0 : -1.0});
  }
  std::sort(v.begin(), v.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
  Ranked out;
  for (size_t i = 0; i < v.size();) {
    size_t j = i + 1;
    while (j < v.size() && v[j].first - v[i].first <= resolution) ++j;
    const double t = static_cast<double>(j - i), average = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    if (j - i > 1) out.ties = true, out.tie_term += t * t * t - t;
    for (size_t k = i; k < j; ++k) out.rank.push_back(average), out.sign.push_back(v[k].second);
    i = j;
  }
  return out;
}

}  // namespace

double signed_rank_cdf(int n, double w) {
  if (n < 0 || n > 1000) throw std::invalid_argument("signed_rank_cdf: n outside [0, 1000]");
  const std::vector<double> p = signed_rank_pmf(n);
  double c = 0;
  for (size_t s = 0; s < p.size() && static_cast<double>(s) <= w + 1e-9; ++s) c += p[s];
  return std::min(1.0, c);
}

SignedRankTest wilcoxon_signed_rank(const std::vector<double>& d, double tie_resolution) {
  SignedRankTest r;
  r.t = r.p = std::numeric_limits<double>::quiet_NaN();
  for (double x : d)
    if (!std::isfinite(x)) {
      r.n = static_cast<int>(d.size());
      r.why_none = "a value is NaN or infinite";
      return r;
    }
  const Ranked k = rank_nonzero(d, tie_resolution, r.zeros);
  r.n = static_cast<int>(k.rank.size());
  if (r.n == 0) {
    r.why_none = d.empty() ? "fewer than 2 pairs" : "every difference is zero";
    return r;
  }
  if (r.n + r.zeros < 2) {
    r.why_none = "fewer than 2 pairs";
    return r;
  }
  for (size_t i = 0; i < k.rank.size(); ++i) r.w_plus += k.sign[i] > 0 ? k.rank[i] : 0.0;
  const double n = r.n, total = n * (n + 1) / 2, centre = total / 2;
  r.exact = r.n <= 50 && r.zeros == 0 && !k.ties;
  if (r.exact) {
    r.t = std::min(r.w_plus, total - r.w_plus);
    r.p = r.w_plus == centre ? 1.0 : std::min(1.0, 2 * signed_rank_cdf(r.n, r.t));
    return r;
  }
  const double variance = (n * (n + 1) * (2 * n + 1) - k.tie_term / 2) / 24;
  if (!(variance > 0)) {
    r.why_none = "zero variance";
    return r;
  }
  r.t = (std::min(r.w_plus, total - r.w_plus) - centre) / std::sqrt(variance);
  r.p = normal_p_two_sided(r.t);
  return r;
}

}  // namespace recgrid::report
