// ItemKNN through its plugin boundary, against the similarity and the top-k written densely here.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "baseline_support.hpp"

using namespace recgrid;

namespace {

const plugin::LoadedPlugin& itemknn() { return plugin::load_plugin(test::plugin_path("itemknn")); }

// S_ij = (X^T X)_ij / (sqrt(n_i) sqrt(n_j) + shrink) off the diagonal (0 on it); raw counts unnormalised.
at::Tensor dense_similarity(const at::Tensor& x, double shrink, bool normalize) {
  const at::Tensor co = x.t().mm(x), n = x.sum(0).sqrt();
  at::Tensor s = normalize ? co / (n.unsqueeze(1) * n.unsqueeze(0) + shrink) : co.clone();
  s.fill_diagonal_(0.0);
  return s;
}

}  // namespace

TEST(ItemKNN, KeepingEveryNeighbourScoresXTimesTheShrunkCosine) {
  const data::Dataset ds = test::random_dataset(14, 9, 0.3, 5);
  test::HostContext host(ds);
  for (const bool normalize : {true, false}) {
    auto model = host.create(itemknn(), {{"k", 100}, {"shrink", 2.5}, {"normalize", normalize}});
    model->fit();
    const at::Tensor x = test::dense_x(ds), s = dense_similarity(x, 2.5, normalize);
    EXPECT_TRUE(at::allclose(test::dense_neighbours(model->buffers(), 9), s, 1e-6, 1e-7)) << "normalize " << normalize;
    EXPECT_TRUE(at::allclose(test::all_scores(*model, 14, 9), x.mm(s), 1e-5, 1e-6)) << "normalize " << normalize;
  }
}

TEST(ItemKNN, EachItemIsScoredByItsKMostSimilarItems) {
  const data::Dataset ds = test::random_dataset(20, 11, 0.3, 8);
  test::HostContext host(ds);
  auto model = host.create(itemknn(), {{"k", 3}, {"shrink", 1.0}});
  model->fit();
  const at::Tensor x = test::dense_x(ds), s = dense_similarity(x, 1.0, true);
  const at::Tensor w = test::dense_neighbours(model->buffers(), 11);
  // Column j of W holds the neighbours allowed to score item j: the 3 largest of S's column j.
  test::expect_top_k_rows(w.t(), s.t(), 3, "neighbours of item");
  EXPECT_TRUE(at::allclose(w, s * (w != 0), 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(test::all_scores(*model, 20, 11), x.mm(w), 1e-5, 1e-6));
}
