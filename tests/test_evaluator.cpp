// Full-ranking evaluation on a tiny dataset with hand-chosen embeddings (ALGORITHMS.md §1.4).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "eval/evaluator.hpp"
#include "test_support.hpp"

using namespace recgrid;

namespace {

// One-dimensional embeddings: every user scores items 0 > 1 > 2 > 3.
eval::Embeddings fixed_embeddings() {
  return {at::ones({3, 1}), at::tensor({4.f, 3.f, 2.f, 1.f}).view({4, 1})};
}

}  // namespace

TEST(Evaluator, MasksTrainingItemsOnly) {
  const data::Dataset ds = test::tiny_dataset();
  // Validation: user 0 -> item 2 (items 0, 1 masked: rank 1); user 1 -> item 3 (item 1 masked:
  // ranking 0, 2, 3: rank 3); user 2 has no validation item and is skipped.
  const eval::Evaluator valid(ds, ds.valid, {1, 3}, 1024);
  EXPECT_EQ(valid.n_users(), 2);
  const auto v = valid.run(fixed_embeddings);
  EXPECT_DOUBLE_EQ(v.at("recall@1"), 0.5);
  EXPECT_DOUBLE_EQ(v.at("recall@3"), 1.0);
  EXPECT_DOUBLE_EQ(v.at("ndcg@1"), 0.5);
  EXPECT_DOUBLE_EQ(v.at("ndcg@3"), (1.0 + 1.0 / std::log2(4.0)) / 2);
  // Test: user 0 -> item 3; its validation item 2 is NOT masked, so item 3 ranks 2nd.
  // User 2 -> item 0, ranked first (its training items 1, 2, 3 are masked).
  const eval::Evaluator test(ds, ds.test, {1, 3}, 1024);
  const auto t = test.run(fixed_embeddings);
  EXPECT_DOUBLE_EQ(t.at("recall@1"), 0.5);
  EXPECT_DOUBLE_EQ(t.at("recall@3"), 1.0);
  EXPECT_DOUBLE_EQ(t.at("ndcg@3"), (1.0 / std::log2(3.0) + 1.0) / 2);
}

TEST(Evaluator, PerBatchEncodingGivesTheSameNumbers) {
  const data::Dataset ds = test::tiny_dataset();
  const eval::Evaluator valid(ds, ds.valid, {1, 3}, /*batch_users=*/1);
  int calls = 0;
  const auto per_batch = valid.run([&] { ++calls; return fixed_embeddings(); }, /*encode_per_batch=*/true);
  EXPECT_EQ(calls, 2);  // one encoding per user batch
  calls = 0;
  const auto once = valid.run([&] { ++calls; return fixed_embeddings(); });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(per_batch, once);
}
