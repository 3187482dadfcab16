// Small statistics for reports: mean, sample standard deviation, and the paired t-test across seeds.
#pragma once

#include <vector>

namespace recgrid::report {

double mean(const std::vector<double>& x);
// Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values.
double sample_std(const std::vector<double>& x);

// Regularised incomplete beta function I_x(a, b), by its continued fraction.
double incomplete_beta(double x, double a, double b);
// Two-sided p-value of Student's t with `df` degrees of freedom: P(|T| >= |t|).
double student_t_p_two_sided(double t, double df);

struct PairedTest {
  int n = 0;        // pairs
  double t = 0;     // statistic of the mean difference a - b
  double p = 1;     // two-sided; NaN when n < 2
};
// Paired t-test of a[k] against b[k] (the same seed k); a and b have equal length.
PairedTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace recgrid::report
