// The user and item groups of the final evaluation (docs/METRICS.md).
// Users: quantile buckets of the evaluation users' training-interaction counts (n_train). Bucket b holds
// the users with lower[b] <= n_train < lower[b + 1] (the last: up to the largest n_train), so a user's
// bucket follows from its n_train alone (the per-user results file has it). Users of one count stay in
// one bucket, so a bucket boundary (between two distinct counts, the users sorted by count) is placed
// at the boundary nearest to each quantile position q n / buckets (q = 1 .. buckets - 1; the later one
// on a tie); boundaries chosen twice merge, so there can be fewer buckets than asked. Why nearest: on
// 5-core data one count holds ~40 % of the users, and a rule that always rounds down names a handful of
// users "sparse" (17 of 2,903 on scientific), one that always rounds up can merge everyone into one.
// The lowest bucket is named "sparse".
// Items: head = the most popular items (training interactions, ties to the lower item index) that
// together hold at least `share` of all training interactions (the smallest such prefix); tail = the rest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace recgrid::eval {

struct UserBuckets {
  std::vector<int64_t> lower;  // each bucket's smallest n_train, ascending
  int64_t largest = 0;         // the largest n_train among the users (the last bucket's upper end)

  // `n_train`: one count per evaluation user; `buckets` >= 1.
  static UserBuckets quantiles(std::vector<int64_t> n_train, int buckets);
  int size() const { return static_cast<int>(lower.size()); }
  int bucket_of(int64_t n_train) const;
  // "sparse" for the lowest, then "g2", "g3", ...
  static std::string name(int bucket);
  // The largest n_train of the bucket (inclusive).
  int64_t upper(int bucket) const;
};

struct ItemGroups {
  std::vector<char> is_head;  // per item
  int64_t head_items = 0, head_interactions = 0, total_interactions = 0;
  double share = 0;           // the share asked for

  static ItemGroups by_share(const std::vector<int64_t>& item_counts, double share);
};

}  // namespace recgrid::eval
