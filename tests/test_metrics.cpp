// Top-K and Recall/NDCG against hand-computed cases (ALGORITHMS.md §1.4).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "eval/metrics.hpp"

using recgrid::eval::MetricSums;
using recgrid::eval::top_k;

TEST(TopK, TiesGoToTheLowerIndex) {
  const float s[] = {1, 3, 3, 2, 3};
  int64_t out[5];
  ASSERT_EQ(top_k(s, 5, 3, out), 3);
  EXPECT_EQ(std::vector<int64_t>(out, out + 3), (std::vector<int64_t>{1, 2, 4}));
  ASSERT_EQ(top_k(s, 5, 4, out), 4);
  EXPECT_EQ(std::vector<int64_t>(out, out + 4), (std::vector<int64_t>{1, 2, 4, 3}));
}

TEST(TopK, KLargerThanNAndNaNLast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float s[] = {nan, -1e8f, 0.5f};
  int64_t out[5];
  ASSERT_EQ(top_k(s, 3, 5, out), 3);
  EXPECT_EQ(std::vector<int64_t>(out, out + 3), (std::vector<int64_t>{2, 1, 0}));
}

TEST(Metrics, HandComputedRecallAndNdcg) {
  MetricSums m({2, 5});
  // User A: hits at ranks 2 and 5 (1-based), |T| = 3.
  const int64_t ranked_a[] = {4, 1, 7, 2, 9};
  const int64_t truth_a[] = {1, 3, 9};
  m.add_user(ranked_a, 5, truth_a, truth_a + 3);
  // User B: more ground truth (7) than K; all top-5 are hits.
  const int64_t ranked_b[] = {0, 1, 2, 3, 4};
  const int64_t truth_b[] = {0, 1, 2, 3, 4, 5, 6};
  m.add_user(ranked_b, 5, truth_b, truth_b + 7);
  // A user without ground truth is not an evaluation user.
  m.add_user(ranked_b, 5, truth_b, truth_b);
  EXPECT_EQ(m.users(), 2);

  const double l3 = 1 / std::log2(3.0), l4 = 0.5, l6 = 1 / std::log2(6.0);
  const auto r = m.means();
  // Recall@2: A 1/3, B 2/7.   Recall@5: A 2/3, B 5/7 (denominator |T| even when |T| > K).
  EXPECT_NEAR(r.at("recall@2"), (1.0 / 3 + 2.0 / 7) / 2, 1e-12);
  EXPECT_NEAR(r.at("recall@5"), (2.0 / 3 + 5.0 / 7) / 2, 1e-12);
  // NDCG@2: A = (1/log2 3) / (1 + 1/log2 3), B = 1.   NDCG@5: A = (1/log2 3 + 1/log2 6) / (1 + 1/log2 3 + 1/2).
  EXPECT_NEAR(r.at("ndcg@2"), (l3 / (1 + l3) + 1.0) / 2, 1e-12);
  EXPECT_NEAR(r.at("ndcg@5"), ((l3 + l6) / (1 + l3 + l4) + 1.0) / 2, 1e-12);
}

TEST(Metrics, ShortRankedListCountsMissingPositionsAsMisses) {
  MetricSums m({5});
  const int64_t ranked[] = {3};
  const int64_t truth[] = {3, 8};
  m.add_user(ranked, 1, truth, truth + 2);
  EXPECT_NEAR(m.means().at("recall@5"), 0.5, 1e-12);
  EXPECT_NEAR(m.means().at("ndcg@5"), 1.0 / (1 + 1 / std::log2(3.0)), 1e-12);
}
