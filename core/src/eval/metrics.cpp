#include "eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace recgrid::eval {

MetricSums::MetricSums(std::vector<int> ks) : ks_(std::move(ks)), recall_(ks_.size(), 0.0), ndcg_(ks_.size(), 0.0) {}

void MetricSums::add_user(const int64_t* ranked, int n_ranked, const int64_t* truth_begin, const int64_t* truth_end) {
  const int64_t n_truth = truth_end - truth_begin;
  if (n_truth <= 0) return;
  ++users_;
  for (size_t q = 0; q < ks_.size(); ++q) {
    const int K = std::min(ks_[q], n_ranked);
    double hits = 0, dcg = 0, idcg = 0;
    for (int j = 0; j < K; ++j) {
      if (std::binary_search(truth_begin, truth_end, ranked[j])) {
        hits += 1;
        dcg += 1.0 / std::log2(j + 2.0);
      }
    }
    for (int64_t j = 0; j < std::min<int64_t>(ks_[q], n_truth); ++j) idcg += 1.0 / std::log2(j + 2.0);
    recall_[q] += hits / static_cast<double>(n_truth);
    ndcg_[q] += idcg > 0 ? dcg / idcg : 0.0;
  }
}

void MetricSums::merge(const MetricSums& other) {
  for (size_t q = 0; q < ks_.size(); ++q) {
    recall_[q] += other.recall_[q];
    ndcg_[q] += other.ndcg_[q];
  }
  users_ += other.users_;
}

std::map<std::string, double> MetricSums::means() const {
  std::map<std::string, double> m;
  for (size_t q = 0; q < ks_.size(); ++q) {
    const std::string k = std::to_string(ks_[q]);
    m["recall@" + k] = users_ ? recall_[q] / static_cast<double>(users_) : 0.0;
    m["ndcg@" + k] = users_ ? ndcg_[q] / static_cast<double>(users_) : 0.0;
  }
  return m;
}

}  // namespace recgrid::eval
