#include "eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace recgrid::eval {

MetricSums::MetricSums(std::vector<int> ks) : ks_(std::move(ks)), recall_(ks_.size(), 0.0), ndcg_(ks_.size(), 0.0) {}

void user_recall_ndcg(const std::vector<int>& ks, const int64_t* ranked, int n_ranked, const int64_t* truth_begin,
                      const int64_t* truth_end, double* recall, double* ndcg) {
  const int64_t n_truth = truth_end - truth_begin;
  for (size_t q = 0; q < ks.size(); ++q) {
    const int K = std::min(ks[q], n_ranked);
    double hits = 0, dcg = 0, idcg = 0;
    for (int j = 0; j < K; ++j) {
      if (std::binary_search(truth_begin, truth_end, ranked[j])) {
        hits += 1;
        dcg += 1.0 / std::log2(j + 2.0);
      }
    }
    for (int64_t j = 0; j < std::min<int64_t>(ks[q], n_truth); ++j) idcg += 1.0 / std::log2(j + 2.0);
    recall[q] = hits / static_cast<double>(n_truth);
    ndcg[q] = idcg > 0 ? dcg / idcg : 0.0;
  }
}

void MetricSums::add_user(const int64_t* ranked, int n_ranked, const int64_t* truth_begin, const int64_t* truth_end) {
  if (truth_end - truth_begin <= 0) return;
  ++users_;
  std::vector<double> recall(ks_.size()), ndcg(ks_.size());
  user_recall_ndcg(ks_, ranked, n_ranked, truth_begin, truth_end, recall.data(), ndcg.data());
  for (size_t q = 0; q < ks_.size(); ++q) {
    recall_[q] += recall[q];
    ndcg_[q] += ndcg[q];
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
