// Corrections for many comparisons: every comparison of a report is one test of one family.
//   Holm (1979), step-down, controls the family-wise error rate:
//     p_(i) sorted ascending, i = 1..m:  adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))
//   Benjamini-Hochberg (1995), step-up, controls the false discovery rate:
//     adj_(i) = min_{j >= i} min(1, m p_(j) / j)
// NaN p-values (comparisons without a test) are not tests: they stay NaN and do not count in m.
#pragma once

#include <string>
#include <vector>

namespace recgrid::report {

enum class Correction { holm, bh };

std::vector<double> holm_adjust(const std::vector<double>& p);
std::vector<double> bh_adjust(const std::vector<double>& p);
std::vector<double> adjust(const std::vector<double>& p, Correction c);

Correction correction_from_name(const std::string& name);  // "holm" | "bh"; throws otherwise
std::string correction_name(Correction c);                 // "Holm-Bonferroni" | "Benjamini-Hochberg"

}  // namespace recgrid::report
