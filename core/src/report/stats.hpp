// Small statistics for reports: mean, sample standard deviation, the Student t and normal
// distributions, and the paired t-test. The formulas are in docs/GRIDS.md ("The statistics").
#pragma once

#include <string>
#include <vector>

namespace recgrid::report {

double mean(const std::vector<double>& x);
// Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values.
double sample_std(const std::vector<double>& x);

// Regularised incomplete beta function I_x(a, b), by its continued fraction.
double incomplete_beta(double x, double a, double b);
// Two-sided p-value of Student's t with `df` degrees of freedom: P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2).
// NaN for a NaN t; 0 for an infinite one.
double student_t_p_two_sided(double t, double df);
// Two-sided p-value of a standard normal z: P(|Z| >= |z|) = erfc(|z| / sqrt 2). NaN for a NaN z.
double normal_p_two_sided(double z);

// A test's outcome. `p` is NaN when there is no test, and `why_none` then says why (fewer than two
// pairs, a NaN value, no variance, every difference zero).
struct PairedTest {
  int n = 0;        // pairs
  double t = 0;     // the statistic (t, or z for an approximated signed-rank test)
  double p = 1;     // two-sided
  std::string why_none;
  bool valid() const { return why_none.empty(); }
};
// Paired t-test of a[k] against b[k] (the same seed or user k); a and b have equal length.
// Equal differences (zero variance) give no test: t would be infinite or 0/0.
PairedTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b);
// The same on the differences d[k] = a[k] - b[k].
PairedTest one_sample_t_test(const std::vector<double>& d);

}  // namespace recgrid::report
