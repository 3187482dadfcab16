// Beyond-accuracy metrics and the user / item groups against hand-computed small cases
// (docs/METRICS.md). Each case is chosen so that a plausible wrong formula gives another number: Gini
// normalised by n - 1 or without the never-recommended items, novelty over all interactions or with
// natural logarithms, popularity averaged over slots instead of users, group recall over all users.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "eval/beyond_accuracy.hpp"
#include "eval/group_metrics.hpp"
#include "eval/groups.hpp"

using namespace recgrid::eval;

namespace {

// Five items with 4, 2, 1, 1, 0 training interactions among 4 users.
TrainingCounts five_items() {
  TrainingCounts c;
  c.per_item = {4, 2, 1, 1, 0};
  c.per_user = {2, 2, 2, 2};
  c.users_with_train = 4;
  c.total = 8;
  return c;
}

}  // namespace

TEST(BeyondAccuracy, GiniIndexHandComputed) {
  // sorted 0, 0, 1, 3 (n = 4): (1 * 1 + 3 * 3) / (4 * 4).
  EXPECT_NEAR(gini_index({3, 0, 1, 0}), 10.0 / 16.0, 1e-12);
  EXPECT_NEAR(gini_index({2, 2, 2}), 0.0, 1e-12);      // equal exposure
  EXPECT_NEAR(gini_index({0, 0, 0, 5}), 3.0 / 4.0, 1e-12);  // all on one item: (n - 1) / n
  EXPECT_EQ(gini_index({0, 0}), 0.0);                   // nothing recommended
}

TEST(BeyondAccuracy, SelfInformationOfTrainingPopularity) {
  EXPECT_NEAR(self_information(1, 8), 3.0, 1e-12);  // -log2(1/8)
  EXPECT_NEAR(self_information(8, 8), 0.0, 1e-12);
  EXPECT_NEAR(self_information(0, 8), 3.0, 1e-12);  // never in training: counted as one interaction
}

// Users' lists (ks 1, 2): A [0, 1], B [0, 2], C [3, 0], D [4, 3], E [1] (a short list).
// Self-information -log2(c / 4): items 0..4 -> 0, 1, 2, 2, 2 (item 4: no training interaction -> 1).
TEST(BeyondAccuracy, HandComputedCase) {
  const TrainingCounts counts = five_items();
  BeyondAccuracy m({1, 2}, counts, {"coverage", "gini", "novelty", "arp"});
  ASSERT_EQ(m.per_user_names(), (std::vector<std::string>{"novelty", "arp"}));
  const std::vector<std::vector<int64_t>> lists = {{0, 1}, {0, 2}, {3, 0}, {4, 3}, {1}};
  std::vector<std::vector<double>> per_user;
  for (const auto& l : lists) {
    std::vector<double> v(4);
    m.add_user(l.data(), static_cast<int>(l.size()), v.data());
    per_user.push_back(v);
  }
  // Per user (K-major: novelty@1, arp@1, novelty@2, arp@2). D: novelty@2 (2 + 2) / 2, arp@2 (0 + 1) / 2.
  EXPECT_EQ(per_user[3], (std::vector<double>{2.0, 0.0, 2.0, 0.5}));
  EXPECT_EQ(per_user[4], (std::vector<double>{1.0, 2.0, 1.0, 2.0}));  // E's list holds one item at K = 2
  const auto r = m.means();
  // K = 1 exposure: items 0, 0, 3, 4, 1 -> counts 2, 1, 0, 1, 1: 4 of 5 items; sorted 0 1 1 1 2:
  // (-2 * 1 + 0 * 1 + 2 * 1 + 4 * 2) / (5 * 5).
  EXPECT_NEAR(r.at("coverage@1"), 0.8, 1e-12);
  EXPECT_NEAR(r.at("gini@1"), 8.0 / 25.0, 1e-12);
  // K = 2: counts 3, 2, 1, 2, 1: every item; sorted 1 1 2 2 3: (-4 - 2 + 0 + 4 + 12) / (5 * 9).
  EXPECT_NEAR(r.at("coverage@2"), 1.0, 1e-12);
  EXPECT_NEAR(r.at("gini@2"), 10.0 / 45.0, 1e-12);
  // Novelty, the mean over users of each list's mean: K = 1: (0 + 0 + 2 + 2 + 1) / 5; K = 2: (0.5 + 1 + 1 + 2 + 1) / 5
  // (over the 9 slots it would be 10 / 9).
  EXPECT_NEAR(r.at("novelty@1"), 1.0, 1e-12);
  EXPECT_NEAR(r.at("novelty@2"), 1.1, 1e-12);
  // ARP: K = 1: (4 + 4 + 1 + 0 + 2) / 5; K = 2: (3 + 2.5 + 2.5 + 0.5 + 2) / 5 (over slots: 19 / 9).
  EXPECT_NEAR(r.at("arp@1"), 2.2, 1e-12);
  EXPECT_NEAR(r.at("arp@2"), 2.1, 1e-12);
}

TEST(BeyondAccuracy, OnlyTheSelectedMetricsAndUnknownNamesRefused) {
  const TrainingCounts counts = five_items();
  BeyondAccuracy m({1}, counts, {"arp"});
  const int64_t list[] = {1};
  double v = 0;
  m.add_user(list, 1, &v);
  EXPECT_EQ(v, 2.0);
  EXPECT_EQ(m.means(), (std::map<std::string, double>{{"arp@1", 2.0}}));
  EXPECT_THROW(BeyondAccuracy({1}, counts, {"serendipity"}), std::invalid_argument);
}

TEST(Groups, UserBucketsFromQuantilesMergeEqualEdges) {
  // Sorted 1 1 1 1 2 3 5 8, 4 buckets, quantile positions 2, 4, 6: the run of 1s (positions 0-3) can
  // only end at 4 (a split at 0 is none), then 4 again (merged), then 6: lower edges 1, 2, 5.
  const UserBuckets b = UserBuckets::quantiles({8, 1, 3, 1, 5, 1, 2, 1}, 4);
  ASSERT_EQ(b.lower, (std::vector<int64_t>{1, 2, 5}));
  EXPECT_EQ(b.bucket_of(1), 0);
  EXPECT_EQ(b.bucket_of(2), 1);
  EXPECT_EQ(b.bucket_of(4), 1);
  EXPECT_EQ(b.bucket_of(5), 2);
  EXPECT_EQ(b.bucket_of(8), 2);
  EXPECT_EQ(b.upper(0), 1);
  EXPECT_EQ(b.upper(1), 4);
  EXPECT_EQ(b.upper(2), 8);
  EXPECT_EQ(UserBuckets::name(0), "sparse");
  EXPECT_EQ(UserBuckets::name(2), "g3");
  // Distinct counts, 2 buckets: the lower half and the upper half.
  EXPECT_EQ(UserBuckets::quantiles({1, 2, 3, 4}, 2).lower, (std::vector<int64_t>{1, 3}));
  // One count for everyone: one bucket.
  EXPECT_EQ(UserBuckets::quantiles({4, 4, 4}, 3).lower, (std::vector<int64_t>{4}));
}

TEST(Groups, BucketsEndAtTheCountBoundaryNearestEachQuantile) {
  // As on 5-core data: 1 user at 2, 40 at 3, 25 at 4, 15 at 5, 10 at 6, 9 at 9 (100 users), 4 buckets.
  // Quantile 25: the 3s span positions 1-40; boundary 41 is nearer than 1 -> edge 4. Quantile 50: the
  // 4s span 41-65, 41 is nearer -> 4 again (merged). Quantile 75: the 5s span 66-80, 81 is nearer -> 6.
  std::vector<int64_t> n_train;
  for (auto [count, users] : {std::pair{2, 1}, {3, 40}, {4, 25}, {5, 15}, {6, 10}, {9, 9}})
    n_train.insert(n_train.end(), static_cast<size_t>(users), count);
  const UserBuckets b = UserBuckets::quantiles(n_train, 4);
  ASSERT_EQ(b.lower, (std::vector<int64_t>{2, 4, 6}));  // sparse: 41 users, not the one user at 2
  // Against a brute-force restatement on random counts: the boundaries are {argmin over the positions p
  // between two distinct counts of |p - q n / G|, the later p on a tie : q = 1 .. G - 1}.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<int64_t> v(1 + rng() % 40);
    for (auto& x : v) {
      const auto base = static_cast<int64_t>(rng() % 6);  // two draws in two statements: a fixed order
      x = 1 + base * static_cast<int64_t>(1 + rng() % 3);
    }
    std::sort(v.begin(), v.end());
    const int buckets = 1 + static_cast<int>(rng() % 6);
    std::set<int64_t> expected = {v.front()};
    for (int q = 1; q < buckets; ++q) {
      const double target = q * static_cast<double>(v.size()) / buckets;
      int best = -1;
      for (size_t p = 1; p < v.size(); ++p)
        if (v[p - 1] < v[p] && (best < 0 || std::fabs(p - target) <= std::fabs(best - target))) best = static_cast<int>(p);
      if (best > 0) expected.insert(v[static_cast<size_t>(best)]);
    }
    std::shuffle(v.begin(), v.end(), rng);
    EXPECT_EQ(UserBuckets::quantiles(v, buckets).lower, std::vector<int64_t>(expected.begin(), expected.end()))
        << "trial " << trial;
  }
}

TEST(Groups, HeadItemsHoldTheShareOfTrainingInteractions) {
  // Counts 4, 2, 1, 1, 0 (8 interactions).
  const std::vector<int64_t> counts = {1, 4, 0, 2, 1};
  const ItemGroups g20 = ItemGroups::by_share(counts, 0.2);  // 1.6: item 1 alone
  EXPECT_EQ(g20.is_head, (std::vector<char>{0, 1, 0, 0, 0}));
  EXPECT_EQ(g20.head_interactions, 4);
  EXPECT_EQ(ItemGroups::by_share(counts, 0.5).head_items, 1);  // exactly 4 of 8: still item 1 alone
  const ItemGroups g60 = ItemGroups::by_share(counts, 0.6);    // 4.8: items 1 and 3
  EXPECT_EQ(g60.is_head, (std::vector<char>{0, 1, 0, 1, 0}));
  // Ties go to the lower item index: the first of 0 and 4 (one interaction each).
  EXPECT_EQ(ItemGroups::by_share(counts, 0.8).is_head, (std::vector<char>{1, 1, 0, 1, 0}));
  // 0.07 x 100 is 7.000000000000001 in floating point: the head is still the 7 items holding 7 %.
  EXPECT_EQ(ItemGroups::by_share(std::vector<int64_t>(100, 1), 0.07).head_items, 7);
}

// Three users, K = 2, item 0 the only head item; user buckets [1, 3) "sparse" and [3, 5] "g2".
//   X: n_train 1, list [0, 1], truth {1, 2}    Y: n_train 4, list [2, 3], truth {0, 3}
//   Z: n_train 3, list [0, 2], truth {0}
TEST(Groups, HandComputedGroupMetrics) {
  UserBuckets buckets;
  buckets.lower = {1, 3};
  buckets.largest = 5;
  ItemGroups items;
  items.is_head = {1, 0, 0, 0};
  items.head_items = 1;
  GroupMetrics g({2}, buckets, items);
  const int64_t lx[] = {0, 1}, tx[] = {1, 2}, ly[] = {2, 3}, ty[] = {0, 3}, lz[] = {0, 2}, tz[] = {0};
  const double rx = 0.5, nx = 0.3, ry = 0.5, ny = 0.2, rz = 1.0, nz = 1.0;  // given per-user values
  g.add_user(1, lx, 2, tx, tx + 2, &rx, &nx);
  g.add_user(4, ly, 2, ty, ty + 2, &ry, &ny);
  g.add_user(3, lz, 2, tz, tz + 1, &rz, &nz);
  const auto j = g.to_json();
  const auto& ub = j["user_groups"]["buckets"];
  ASSERT_EQ(ub.size(), 2u);
  EXPECT_EQ(ub[0]["name"], "sparse");
  EXPECT_EQ(ub[0]["n_train_min"], 1);
  EXPECT_EQ(ub[0]["n_train_max"], 2);
  EXPECT_EQ(ub[0]["users"], 1);
  EXPECT_NEAR(ub[0]["recall@2"].get<double>(), 0.5, 1e-12);
  EXPECT_NEAR(ub[1]["recall@2"].get<double>(), 0.75, 1e-12);
  EXPECT_NEAR(ub[1]["ndcg@2"].get<double>(), 0.6, 1e-12);
  EXPECT_EQ(ub[1]["n_train_max"], 5);
  const auto& ig = j["item_groups"]["groups"];
  // Slots: head X 1, Z 1; tail 4 of 6.
  EXPECT_NEAR(ig[0]["slot_share@2"].get<double>(), 2.0 / 6.0, 1e-12);
  EXPECT_NEAR(ig[1]["slot_share@2"].get<double>(), 4.0 / 6.0, 1e-12);
  // Head recall over Y (0 of 1) and Z (1 of 1); tail recall over X (1 of 2) and Y (1 of 1).
  EXPECT_EQ(ig[0]["users_with_truth"], 2);
  EXPECT_NEAR(ig[0]["recall@2"].get<double>(), 0.5, 1e-12);
  EXPECT_NEAR(ig[1]["recall@2"].get<double>(), 0.75, 1e-12);
}
