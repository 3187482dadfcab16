#include "eval/group_metrics.hpp"

#include <algorithm>

namespace recgrid::eval {

GroupMetrics::GroupMetrics(std::vector<int> ks, UserBuckets buckets, ItemGroups items)
    : ks_(std::move(ks)), buckets_(std::move(buckets)), items_(std::move(items)) {
  const size_t nb = static_cast<size_t>(buckets_.size()), nk = ks_.size();
  bucket_users_.assign(nb, 0);
  bucket_recall_.assign(nb, std::vector<double>(nk, 0.0));
  bucket_ndcg_.assign(nb, std::vector<double>(nk, 0.0));
  slots_.assign(2, std::vector<int64_t>(nk, 0));
  group_recall_.assign(2, std::vector<double>(nk, 0.0));
  group_users_.assign(2, 0);
}

void GroupMetrics::add_user(int64_t n_train, const int64_t* ranked, int n_ranked, const int64_t* truth_begin,
                            const int64_t* truth_end, const double* recall, const double* ndcg) {
  if (buckets_.size() > 0) {
    const size_t b = static_cast<size_t>(buckets_.bucket_of(n_train));
    ++bucket_users_[b];
    for (size_t q = 0; q < ks_.size(); ++q) {
      bucket_recall_[b][q] += recall[q];
      bucket_ndcg_[b][q] += ndcg[q];
    }
  }
  add_item_groups(ranked, n_ranked, truth_begin, truth_end);
}

// Group 0 is the head, 1 the tail.
void GroupMetrics::add_item_groups(const int64_t* ranked, int n_ranked, const int64_t* truth_begin,
                                   const int64_t* truth_end) {
  const auto group_of = [&](int64_t item) { return items_.is_head[static_cast<size_t>(item)] ? 0 : 1; };
  int64_t truth_in[2] = {0, 0};
  for (const int64_t* t = truth_begin; t != truth_end; ++t) ++truth_in[group_of(*t)];
  for (int g = 0; g < 2; ++g) group_users_[static_cast<size_t>(g)] += truth_in[g] > 0;
  for (size_t q = 0; q < ks_.size(); ++q) {
    const int n = std::min(ks_[q], n_ranked);
    int64_t hits[2] = {0, 0};
    for (int j = 0; j < n; ++j) {
      const int g = group_of(ranked[j]);
      ++slots_[static_cast<size_t>(g)][q];
      hits[g] += std::binary_search(truth_begin, truth_end, ranked[j]);
    }
    for (int g = 0; g < 2; ++g)
      if (truth_in[g] > 0)
        group_recall_[static_cast<size_t>(g)][q] += static_cast<double>(hits[g]) / static_cast<double>(truth_in[g]);
  }
}

nlohmann::json GroupMetrics::user_groups_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (int b = 0; b < buckets_.size(); ++b) {
    const auto bu = static_cast<size_t>(b);
    nlohmann::json g = {{"name", UserBuckets::name(b)}, {"n_train_min", buckets_.lower[bu]},
                        {"n_train_max", buckets_.upper(b)}, {"users", bucket_users_[bu]}};
    const double users = static_cast<double>(bucket_users_[bu]);
    for (size_t q = 0; q < ks_.size(); ++q) {
      const std::string at = "@" + std::to_string(ks_[q]);
      g["recall" + at] = users > 0 ? nlohmann::json(bucket_recall_[bu][q] / users) : nlohmann::json(nullptr);
      g["ndcg" + at] = users > 0 ? nlohmann::json(bucket_ndcg_[bu][q] / users) : nlohmann::json(nullptr);
    }
    out.push_back(g);
  }
  return out;
}

nlohmann::json GroupMetrics::item_groups_json() const {
  nlohmann::json out = nlohmann::json::array();
  const int64_t head_items = items_.head_items, all_items = static_cast<int64_t>(items_.is_head.size());
  const int64_t head_train = items_.head_interactions;
  for (int g = 0; g < 2; ++g) {
    const auto gu = static_cast<size_t>(g);
    nlohmann::json j = {{"name", g == 0 ? "head" : "tail"},
                        {"items", g == 0 ? head_items : all_items - head_items},
                        {"train_interactions", g == 0 ? head_train : items_.total_interactions - head_train},
                        {"users_with_truth", group_users_[gu]}};
    for (size_t q = 0; q < ks_.size(); ++q) {
      const std::string at = "@" + std::to_string(ks_[q]);
      const double slots = static_cast<double>(slots_[0][q] + slots_[1][q]);
      j["slot_share" + at] = slots > 0 ? static_cast<double>(slots_[gu][q]) / slots : 0.0;
      j["recall" + at] = group_users_[gu] > 0 ? nlohmann::json(group_recall_[gu][q] / static_cast<double>(group_users_[gu]))
                                              : nlohmann::json(nullptr);
    }
    out.push_back(j);
  }
  return out;
}

nlohmann::json GroupMetrics::to_json() const {
  return {{"user_groups", {{"by", "n_train"}, {"buckets", user_groups_json()}}},
          {"item_groups", {{"head_share", items_.share}, {"groups", item_groups_json()}}}};
}

}  // namespace recgrid::eval
