#include "eval/groups.hpp"

#include <algorithm>
#include <numeric>

namespace recgrid::eval {

UserBuckets UserBuckets::quantiles(std::vector<int64_t> n_train, int buckets) {
  UserBuckets b;
  if (n_train.empty()) return b;
  std::sort(n_train.begin(), n_train.end());
  const auto n = static_cast<double>(n_train.size());
  b.lower.push_back(n_train.front());
  b.largest = n_train.back();
  for (int q = 1; q < buckets; ++q) {
    // Users of one count stay together, so a bucket can only end between two counts: at the end of the
    // run of equal counts that holds quantile q / buckets, or at its start, whichever is nearer to it
    // (the end on a tie). A split at the very start or end of the users is no split.
    const double target = q * n / buckets;
    const int64_t at = n_train[std::min(n_train.size() - 1, static_cast<size_t>(target))];
    const auto start = std::lower_bound(n_train.begin(), n_train.end(), at) - n_train.begin();
    const auto end = std::upper_bound(n_train.begin(), n_train.end(), at) - n_train.begin();
    const bool start_ok = start > 0, end_ok = end < static_cast<std::ptrdiff_t>(n_train.size());
    if (!start_ok && !end_ok) continue;
    const bool use_end = !start_ok || (end_ok && static_cast<double>(end) - target <= target - static_cast<double>(start));
    const int64_t edge = n_train[static_cast<size_t>(use_end ? end : start)];
    if (edge > b.lower.back()) b.lower.push_back(edge);
  }
  return b;
}

int UserBuckets::bucket_of(int64_t n_train) const {
  const auto it = std::upper_bound(lower.begin(), lower.end(), n_train);
  return std::max(0, static_cast<int>(it - lower.begin()) - 1);
}

std::string UserBuckets::name(int bucket) { return bucket == 0 ? "sparse" : "g" + std::to_string(bucket + 1); }

int64_t UserBuckets::upper(int bucket) const {
  return bucket + 1 < size() ? lower[static_cast<size_t>(bucket) + 1] - 1 : largest;
}

ItemGroups ItemGroups::by_share(const std::vector<int64_t>& item_counts, double share) {
  ItemGroups g;
  g.share = share;
  g.is_head.assign(item_counts.size(), 0);
  g.total_interactions = std::accumulate(item_counts.begin(), item_counts.end(), int64_t{0});
  std::vector<int64_t> order(item_counts.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return item_counts[static_cast<size_t>(a)] > item_counts[static_cast<size_t>(b)];
  });
  // share x total can round up past a whole number (0.07 x 100 = 7.000000000000001): a relative
  // tolerance keeps the head the smallest prefix holding the share.
  const double target = share * static_cast<double>(g.total_interactions) * (1 - 1e-12);
  for (int64_t i : order) {
    if (g.total_interactions == 0 || static_cast<double>(g.head_interactions) >= target) break;
    g.is_head[static_cast<size_t>(i)] = 1;
    ++g.head_items;
    g.head_interactions += item_counts[static_cast<size_t>(i)];
  }
  return g;
}

}  // namespace recgrid::eval
