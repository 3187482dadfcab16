// RP3beta through its plugin boundary, against the 3-step walk written densely here.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <recgrid/interactions.hpp>

#include "baseline_support.hpp"

using namespace recgrid;

namespace {

const plugin::LoadedPlugin& rp3beta() { return plugin::load_plugin(test::plugin_path("rp3beta")); }

// W_ij = sum_u (x_ui / n_i)^alpha (x_uj / n_u)^alpha / n_j^beta: item i -> user u -> item j, then the
// popularity penalty of the arrival item; the diagonal is excluded.
at::Tensor dense_walk(const at::Tensor& x, double alpha, double beta) {
  const at::Tensor item_to_user = (x / x.sum(0).unsqueeze(0)).t().pow(alpha);  // [items x users]
  const at::Tensor user_to_item = (x / x.sum(1).unsqueeze(1)).pow(alpha);      // [users x items]
  at::Tensor w = item_to_user.mm(user_to_item) / x.sum(0).pow(beta).unsqueeze(0);
  w.fill_diagonal_(0.0);
  return w;
}

}  // namespace

TEST(RP3beta, KeepingEveryNeighbourScoresXTimesThePenalisedWalk) {
  const data::Dataset ds = test::random_dataset(15, 10, 0.3, 11);
  test::HostContext host(ds);
  auto model = host.create(rp3beta(), {{"alpha", 0.8}, {"beta", 0.3}, {"k", 100}, {"normalize", false}});
  model->fit();
  const at::Tensor x = test::dense_x(ds), w = dense_walk(x, 0.8, 0.3);
  EXPECT_TRUE(at::allclose(test::dense_neighbours(model->buffers(), 10), w, 1e-6, 1e-9));
  EXPECT_TRUE(at::allclose(test::all_scores(*model, 15, 10), x.mm(w), 1e-5, 1e-7));
}

TEST(RP3beta, EachRowKeepsItsKLargestStepsRowNormalised) {
  const data::Dataset ds = test::random_dataset(25, 12, 0.3, 2);
  test::HostContext host(ds);
  auto model = host.create(rp3beta(), {{"alpha", 1.0}, {"beta", 0.6}, {"k", 4}, {"normalize", true}});
  model->fit();
  const at::Tensor x = test::dense_x(ds), full = dense_walk(x, 1.0, 0.6);
  const at::Tensor w = test::dense_neighbours(model->buffers(), 12);
  test::expect_top_k_rows(w, full, 4, "walk row");
  const at::Tensor kept = full * (w != 0);
  EXPECT_TRUE(at::allclose(w, kept / kept.sum(1, true), 1e-6, 1e-7));  // each row sums to 1
  EXPECT_TRUE(at::allclose(test::all_scores(*model, 25, 12), x.mm(w), 1e-5, 1e-6));
}

// A user weight of exactly 0 ((1/n_u)^alpha underflows at a large alpha) must not list a neighbour
// twice: each row's candidates are distinct, and their sums are the weighted co-occurrences.
TEST(RP3beta, AZeroUserWeightListsEachNeighbourOnce) {
  // Users 0 and 1 weigh 0, user 2 weighs 1; all three hold items 0 and 1, user 2 also item 2.
  const at::Tensor users = at::tensor({0, 0, 1, 1, 2, 2, 2}, at::kLong), items = at::tensor({0, 1, 0, 1, 0, 1, 2}, at::kLong);
  const baselines::Csr by_user = baselines::csr_of(users, items, 3), by_item = baselines::csr_of(items, users, 3);
  std::vector<std::vector<int64_t>> rows(3);
  std::vector<std::vector<double>> sums(3);
  baselines::for_each_cooccurrence_row(by_user, by_item, {0.0, 0.0, 1.0},
                                       [&](int64_t i, const std::vector<int64_t>& touched, std::vector<double>& acc) {
                                         rows[i] = touched;
                                         for (int64_t j : touched) sums[i].push_back(acc[j]);
                                       });
  EXPECT_EQ(rows[0], (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(sums[0], (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(rows[2], (std::vector<int64_t>{0, 1, 2}));
}
