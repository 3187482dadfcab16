// The report's comparisons and their tests: every row of a base model's group against its base row,
// and the highlighted stack against the best other row, in every (dataset, metric) column.
//
// Each comparison pairs the two rows on the seeds both ran as results, and (when the run folders have
// per-user files) on the users present in every one of those files: a user's value is their mean over
// those seeds, d_u = a_u - b_u. On the d_u: the mean difference with a 95 % paired bootstrap interval,
// a two-sided paired t-test and a Wilcoxon signed-rank test. The seed-level paired t-test over the
// same seeds is kept beside them. One test per comparison (the per-user t-test by default, or the
// Wilcoxon test; the seed-level t-test for runs without per-user files) enters one family: all
// comparisons of the report, corrected together (Holm by default, Benjamini-Hochberg as an option).
// The relative difference shown is computed on exactly the seeds and users its test used.
#pragma once

#include <string>
#include <vector>

#include "report/bootstrap.hpp"
#include "report/p_adjust.hpp"
#include "report/per_user.hpp"
#include "report/records.hpp"
#include "report/signed_rank.hpp"
#include "report/stats.hpp"
#include "report/table.hpp"

namespace recgrid::report {

struct SignificanceOptions {
  std::string run_dir, split = "test";
  std::vector<std::string> metrics;
  std::string highlight;  // "" = no Improv. comparison
  Correction correction = Correction::holm;
  std::string test = "t";  // the per-user test that is corrected: t | wilcoxon
};

// Two rows paired on seeds and users.
struct PairedUsers {
  std::vector<std::string> seeds;  // both rows have a result for these
  std::vector<int64_t> users;      // in every per-user file of those seeds
  std::vector<double> a, b;        // each user's mean over the seeds
  std::vector<double> n_train;     // each user's training interactions
  std::string why_none;            // "" = paired; else why there are no per-user values
};

// Seeds both settings ran as results (ascending as the records' seed labels sort).
std::vector<std::string> common_seeds(const Setting& a, const Setting& b);
PairedUsers paired_users(const Setting& a, const Setting& b, const std::string& metric, const std::string& run_dir,
                         PerUserCache& cache);

struct Comparison {
  std::string dataset, model, row, against, metric;
  bool improv = false;  // the highlighted stack against the best other row (the Improv. cell)
  std::vector<std::string> seeds;
  double seed_mean_a = 0, seed_mean_b = 0;  // over `seeds`
  PairedTest seed_t;
  std::string no_users;  // why there is no per-user test ("" = there is one)
  int users = 0;
  double mean_a = 0, mean_b = 0;  // over `users` (each their mean over `seeds`)
  Interval ci;                    // of mean_a - mean_b
  PairedTest user_t;
  SignedRankTest user_w;
  std::string tested_by;          // which test entered the family
  double p = 0, p_adjusted = 0;   // of that test; NaN when there is none
  bool star = false;
  std::string why_no_star;        // when there is no test
  double difference() const;      // mean_a - mean_b on the compared data (users, else seeds)
  double relative() const;        // 100 * difference / the compared row's mean
};

// Every comparison of the report, tested and corrected as one family.
std::vector<Comparison> compare_all(const Grouped& g, const SignificanceOptions& o);

// The Improv. cell of (dataset, model, metric), from its comparison (nullptr: "–").
TableCell improvement_cell(const Comparison* c);
const Comparison* find_improv(const std::vector<Comparison>& all, const std::string& dataset, const std::string& model,
                              const std::string& metric);

// The section: a table of every comparison, and the paragraph that says how it was computed.
Table significance_table(const std::vector<Comparison>& all);
std::string significance_note(const std::vector<Comparison>& all, const SignificanceOptions& o);

}  // namespace recgrid::report
