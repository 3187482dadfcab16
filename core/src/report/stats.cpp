#include "report/stats.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace recgrid::report {

double mean(const std::vector<double>& x) {
  if (x.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (double v : x) s += v;
  return s / static_cast<double>(x.size());
}

double sample_std(const std::vector<double>& x) {
  if (x.size() < 2) return 0;
  const double m = mean(x);
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(x.size() - 1));
}

namespace {

// The continued fraction of I_x(a, b) (modified Lentz), which converges fast for x < (a+1)/(a+b+2).
double beta_fraction(double x, double a, double b) {
  const double tiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double f = d;
  for (int m = 1; m <= 5000; ++m) {  // ~sqrt(max(a, b)) steps suffice
    // Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + num * d;
    c = 1 + num / c;
    if (std::fabs(d) < tiny) d = tiny;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    // Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    c = 1 + num / c;
    if (std::fabs(d) < tiny) d = tiny;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double step = d * c;
    f *= step;
    if (std::fabs(step - 1) < 1e-15) break;
  }
  return f;
}

}  // namespace

double incomplete_beta(double x, double a, double b) {
  if (x < 0 || x > 1) throw std::invalid_argument("incomplete_beta: x outside [0, 1]");
  if (x == 0 || x == 1) return x;
  // x^a (1-x)^b / (a B(a, b)), computed in logs.
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_fraction(x, a, b) / a;
  return 1 - front * beta_fraction(1 - x, b, a) / b;  // the symmetry I_x(a, b) = 1 - I_{1-x}(b, a)
}

double student_t_p_two_sided(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return 0;
  return incomplete_beta(df / (df + t * t), df / 2, 0.5);
}

double normal_p_two_sided(double z) {
  if (std::isnan(z)) return std::numeric_limits<double>::quiet_NaN();
  return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

PairedTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("paired_t_test: the samples differ in length");
  std::vector<double> d(a.size());
  for (size_t k = 0; k < a.size(); ++k) d[k] = a[k] - b[k];
  return one_sample_t_test(d);
}

PairedTest one_sample_t_test(const std::vector<double>& d) {
  PairedTest r;
  r.n = static_cast<int>(d.size());
  r.t = r.p = std::numeric_limits<double>::quiet_NaN();
  for (double v : d)
    if (!std::isfinite(v)) {
      r.why_none = "a value is NaN or infinite";
      return r;
    }
  if (r.n < 2) {
    r.why_none = "fewer than 2 pairs";
    return r;
  }
  const double m = mean(d), s = sample_std(d);
  // Every pair differs by the same amount (exactly, or to float precision: 0.31 - 0.3 and 0.21 - 0.2
  // differ in the 17th digit): t would be +-inf or 0/0, or ~1e15 from rounding alone; not evidence.
  if (s == 0 || s <= 1e-12 * std::fabs(m)) {
    r.why_none = m == 0 ? "every difference is zero" : "zero variance (every pair differs by the same amount)";
    return r;
  }
  r.t = m / (s / std::sqrt(static_cast<double>(r.n)));
  r.p = student_t_p_two_sided(r.t, r.n - 1);
  return r;
}

}  // namespace recgrid::report
