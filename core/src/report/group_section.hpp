// The report's beyond-accuracy and group sections.
//   Beyond accuracy: coverage@K, gini@K, novelty@K, arp@K of each row (mean ± std over its result
//     seeds), from each run's results.json where the run recorded them.
//   Groups: Recall/NDCG@K per user group (training-interaction quantile buckets, the lowest "sparse")
//     and each item group's (head / tail) share of the top-K slots and its recall, from results.json.
//   The gain chart, per dataset and base model: each enhancer row's relative gain in Recall@K over its
//     base row, per user group, computed from the per-user files on the seeds and users both rows share
//     (the figure of the IRLLRec and RLMRec papers).
// Runs without these (older runs) leave the tables out and say so.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "report/records.hpp"

namespace recgrid::report {

struct GroupOptions {
  std::string run_dir, split;
  std::vector<std::string> metrics;  // the report's columns: K is taken from the first
};

struct GroupSection {
  std::string markdown, html;
  std::vector<std::pair<std::string, std::string>> svgs;  // report/<name>: the charts the Markdown links
};

GroupSection group_section(const Grouped& g, const GroupOptions& o);

// The users' groups by training interactions, formed by the evaluation's rule (eval::UserBuckets::quantiles,
// eval/groups.hpp): each group's smallest n_train, ascending. For runs that recorded no edges.
std::vector<double> quantile_lower_edges(const std::vector<double>& n_train, int buckets);
int group_of(const std::vector<double>& lower, double n_train);

// 100 (mean_G a - mean_G b) / mean_G b per group G of `lower` (NaN for an empty group or a zero base).
std::vector<double> relative_gain_by_group(const std::vector<double>& a, const std::vector<double>& b,
                                           const std::vector<double>& n_train, const std::vector<double>& lower);

}  // namespace recgrid::report
