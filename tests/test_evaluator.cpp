// Full-ranking evaluation on a tiny dataset with hand-chosen embeddings (ALGORITHMS.md §1.4).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <random>

#include "eval/evaluator.hpp"
#include "eval/metrics.hpp"
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

// The running top-K over tiles equals top_k over the whole row, ties (to the lower index) and NaN
// (last) included.
TEST(Evaluator, RunningTopKOverPiecesEqualsTopKOverTheRow) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t n = 1 + static_cast<int64_t>(rng() % 90);
    const int k = 1 + static_cast<int>(rng() % 25);
    std::vector<float> row(static_cast<size_t>(n));
    for (float& v : row) v = static_cast<float>(rng() % 7);  // many ties
    if (trial % 5 == 0) row[rng() % n] = std::nanf("");
    std::vector<int64_t> whole(static_cast<size_t>(k)), pieces(static_cast<size_t>(k));
    const int n_whole = eval::top_k(row.data(), n, k, whole.data());
    eval::RunningTopK running(k);
    for (int64_t lo = 0; lo < n;) {
      const int64_t len = std::min<int64_t>(n - lo, 1 + static_cast<int64_t>(rng() % 13));
      running.offer(row.data() + lo, len, lo);
      lo += len;
    }
    ASSERT_EQ(running.take(pieces.data()), n_whole);
    for (int j = 0; j < n_whole; ++j) ASSERT_EQ(pieces[j], whole[j]) << "trial " << trial << " rank " << j;
  }
}

// Any tile size gives the numbers of one tile of every item: training items masked across tile
// edges, ties broken the same way. Integer-valued embeddings make every score exact, so the check
// does not depend on how the matrix product sums.
TEST(Evaluator, TiledScoringGivesTheNumbersOfWholeRows) {
  std::mt19937_64 rng(9);
  data::Dataset ds;
  ds.n_users = 60, ds.n_items = 97;
  for (int64_t u = 0; u < ds.n_users; ++u)
    for (int k = 0; k < 12; ++k) {
      data::Interactions& split = k < 8 ? ds.train : k < 10 ? ds.valid : ds.test;
      split.user.push_back(u), split.item.push_back(static_cast<int64_t>((u * 7 + k * 13) % ds.n_items));
    }
  const at::Tensor users = at::randint(-3, 4, {60, 8}, at::kFloat), items = at::randint(-3, 4, {97, 8}, at::kFloat);
  const auto encode = [&] { return eval::Embeddings{users, items}; };
  const auto whole = eval::Evaluator(ds, ds.test, {1, 5, 20}, 16, /*tile_items=*/97).run(encode);
  for (int64_t tile : {1, 5, 32, 96, 500}) {
    SCOPED_TRACE("tile " + std::to_string(tile));
    EXPECT_EQ(eval::Evaluator(ds, ds.test, {1, 5, 20}, 16, tile).run(encode), whole);
  }
  EXPECT_EQ(eval::Evaluator(ds, ds.test, {1, 5, 20}, 16).run(encode), whole);  // the default tile
  EXPECT_GT(whole.at("recall@20"), 0.0);
}
