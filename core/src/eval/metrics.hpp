// Ranking metrics of ALGORITHMS.md §1.4, on one user's ranked list. Pure C++ (no tensors), so the
// tests can check them on hand-computed cases.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "eval/ranking.hpp"  // the ranked lists the metrics are computed on

namespace recgrid::eval {

// One user's Recall@K (hits in the top K / |T|) and NDCG@K (binary relevance, DCG over the top K, ideal
// DCG over min(K, |T|) positions) for every K of `ks`, into recall[q] and ndcg[q] (docs/METRICS.md).
// `ranked` holds the user's top max(ks) items (n_ranked of them); [truth_begin, truth_end) the sorted,
// non-empty ground truth T.
void user_recall_ndcg(const std::vector<int>& ks, const int64_t* ranked, int n_ranked, const int64_t* truth_begin,
                      const int64_t* truth_end, double* recall, double* ndcg);

// Sums of per-user Recall@K and NDCG@K over evaluation users.
class MetricSums {
 public:
  explicit MetricSums(std::vector<int> ks);
  // `ranked` holds the user's top max(ks) items; [truth_begin, truth_end) the sorted ground truth
  // (non-empty: users without ground truth are not evaluation users).
  void add_user(const int64_t* ranked, int n_ranked, const int64_t* truth_begin, const int64_t* truth_end);
  void merge(const MetricSums& other);
  // "recall@K" and "ndcg@K" -> mean over the users added.
  std::map<std::string, double> means() const;
  int64_t users() const { return users_; }
  const std::vector<int>& ks() const { return ks_; }

 private:
  std::vector<int> ks_;
  std::vector<double> recall_, ndcg_;
  int64_t users_ = 0;
};

}  // namespace recgrid::eval
