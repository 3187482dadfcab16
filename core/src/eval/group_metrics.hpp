// Recall/NDCG@K per user group and, per item group (head / tail), its share of the top-K slots and
// its recall (docs/METRICS.md), accumulated user by user from the ranked lists.
//   user group: the mean Recall@K and NDCG@K of its users (the same per-user values as the totals).
//   slot_share@K of an item group: its items' top-K slots over all users / all top-K slots filled.
//   recall@K of an item group: the mean, over users with at least one ground-truth item in the group, of
//   (hits in the top K among the user's ground-truth items in the group) / (the user's ground-truth
//   items in the group).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "eval/groups.hpp"

namespace recgrid::eval {

class GroupMetrics {
 public:
  GroupMetrics(std::vector<int> ks, UserBuckets buckets, ItemGroups items);
  // recall[q], ndcg[q]: the user's values at ks[q]; n_train: the user's training interactions.
  void add_user(int64_t n_train, const int64_t* ranked, int n_ranked, const int64_t* truth_begin,
                const int64_t* truth_end, const double* recall, const double* ndcg);
  // {"user_groups": {...}, "item_groups": {...}} (keys in docs/METRICS.md).
  nlohmann::json to_json() const;

 private:
  void add_item_groups(const int64_t* ranked, int n_ranked, const int64_t* truth_begin, const int64_t* truth_end);
  nlohmann::json user_groups_json() const;
  nlohmann::json item_groups_json() const;

  std::vector<int> ks_;
  UserBuckets buckets_;
  ItemGroups items_;
  std::vector<int64_t> bucket_users_;
  std::vector<std::vector<double>> bucket_recall_, bucket_ndcg_;  // [bucket][K index]: sums
  // [group: 0 head, 1 tail][K index]
  std::vector<std::vector<int64_t>> slots_;
  std::vector<std::vector<double>> group_recall_;
  std::vector<int64_t> group_users_;  // users with ground truth in the group
};

}  // namespace recgrid::eval
