// Graph construction and the §0 primitives against dense computations written here.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "data/dataset.hpp"
#include "data/graph_builder.hpp"
#include "recgrid/ops.hpp"
#include "test_support.hpp"

using namespace recgrid;

namespace {

// Â built densely from the interactions, independently of the builder.
at::Tensor dense_normalised(const data::Dataset& ds) {
  const int64_t V = ds.n_users + ds.n_items;
  at::Tensor A = at::zeros({V, V}, at::kDouble);
  for (size_t k = 0; k < ds.train.size(); ++k) {
    A[ds.train.user[k]][ds.n_users + ds.train.item[k]] = 1.0;
    A[ds.n_users + ds.train.item[k]][ds.train.user[k]] = 1.0;
  }
  const at::Tensor d = A.sum(1).pow(-0.5);
  return d.unsqueeze(1) * A * d.unsqueeze(0);
}

at::Tensor to_dense(const Graph& g, const at::Tensor& values) {
  at::Tensor S = at::zeros({g.n_nodes, g.n_nodes}, values.options());
  return S.index_put({g.row, g.col}, values);
}

}  // namespace

TEST(Graph, NormalisedAdjacencyMatchesDense) {
  const data::Dataset ds = test::tiny_dataset();
  const Graph g = data::build_graph(ds, at::kCPU);
  EXPECT_EQ(g.n_nodes, 7);
  EXPECT_EQ(g.n_edges(), 12);  // both directions of 6 interactions
  EXPECT_TRUE(at::allclose(to_dense(g, g.norm.to(at::kDouble)), dense_normalised(ds), 1e-6, 1e-7));
  // Hand value: user 0 (degree 2) - item 1 (degree 3).
  const at::Tensor dense = to_dense(g, g.norm);
  EXPECT_NEAR(dense[0][3 + 1].item<float>(), 1.0 / std::sqrt(6.0), 1e-7);
  // Rows sorted, row pointer consistent, transpose permutation exact.
  const auto row = g.row.accessor<int64_t, 1>(), col = g.col.accessor<int64_t, 1>();
  for (int64_t e = 1; e < g.n_edges(); ++e) EXPECT_TRUE(row[e - 1] < row[e] || (row[e - 1] == row[e] && col[e - 1] < col[e]));
  const auto perm = g.t_perm.accessor<int64_t, 1>(), tcol = g.t_col.accessor<int64_t, 1>();
  const auto tptr = g.t_rowptr.accessor<int64_t, 1>();
  for (int64_t c = 0; c < g.n_nodes; ++c)
    for (int64_t k = tptr[c]; k < tptr[c + 1]; ++k) {
      EXPECT_EQ(col[perm[k]], c);
      EXPECT_EQ(tcol[k], row[perm[k]]);
    }
}

TEST(Spmm, ValueAndGradientsMatchDense) {
  const data::Dataset ds = test::tiny_dataset();
  const Graph g = data::build_graph(ds, at::kCPU);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    for (int64_t d : {32, 5}) {  // the fixed-width kernel and the generic one
      SCOPED_TRACE(std::string(c10::toString(dtype)) + " d=" + std::to_string(d));
      at::manual_seed(3);
      at::Tensor values = at::rand({g.n_edges()}, dtype).requires_grad_(true);
      at::Tensor x = at::randn({g.n_nodes, d}, dtype).requires_grad_(true);
      const at::Tensor w = at::randn({g.n_nodes, d}, dtype);
      (ops::spmm(g, values, x) * w).sum().backward();
      const at::Tensor gv = values.grad().clone(), gx = x.grad().clone();
      values.mutable_grad().zero_();
      x.mutable_grad().zero_();
      const at::Tensor out_dense = to_dense(g, values).mm(x);
      EXPECT_TRUE(at::allclose(ops::spmm(g, values, x), out_dense, 1e-5, 1e-6));
      (out_dense * w).sum().backward();
      EXPECT_TRUE(at::allclose(gv, values.grad(), 1e-5, 1e-6));
      EXPECT_TRUE(at::allclose(gx, x.grad(), 1e-5, 1e-6));
    }
  }
}

// The sum over a row's entries in entry order, each product rounded before it is added: the
// baseline kernel's arithmetic, written here without the kernel (no fused multiply-add).
__attribute__((optimize("fp-contract=off"))) at::Tensor row_order_sum(const Graph& g, const at::Tensor& values,
                                                                       const at::Tensor& x) {
  at::Tensor out = at::zeros_like(x);
  const auto ptr = g.rowptr.accessor<int64_t, 1>(), col = g.col.accessor<int64_t, 1>();
  const auto val = values.accessor<float, 1>();
  const auto xa = x.accessor<float, 2>();
  auto oa = out.accessor<float, 2>();
  for (int64_t r = 0; r < g.n_nodes; ++r)
    for (int64_t c = 0; c < x.size(1); ++c) {
      float acc = 0;
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
        const float product = val[k] * xa[col[k]][c];
        acc += product;
      }
      oa[r][c] = acc;
    }
  return out;
}

// Whichever kernel the CPU gets (AVX2 or the baseline, fixed or generic width, with its prefetch),
// the product is the same to the last bit: results do not depend on the machine's vector unit.
TEST(Spmm, EveryKernelGivesTheRowOrderSumBitForBit) {
  data::Dataset ds;  // 900 users x 700 items, 8 random items each: more rows than one parallel chunk (512)
  ds.n_users = 900;
  ds.n_items = 700;
  for (int64_t u = 0; u < ds.n_users; ++u)
    for (int64_t j = 0; j < 8; ++j) {
      ds.train.user.push_back(u);
      ds.train.item.push_back((u * 37 + j * 101 + (u * j) % 13) % ds.n_items);
    }
  data::check_dataset(ds);  // (drops the repeats)
  const Graph g = data::build_graph(ds, at::kCPU);
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  for (int64_t d : {32, 64, 5, 80}) {
    SCOPED_TRACE("d=" + std::to_string(d));
    at::manual_seed(5);
    const at::Tensor values = at::rand({g.n_edges()});
    const at::Tensor x = at::randn({g.n_nodes, d});
    EXPECT_TRUE(at::equal(ops::spmm(g, values, x), row_order_sum(g, values, x)));
    // The backward is the same kernel over the transpose's rows.
    const at::Tensor xg = x.clone().requires_grad_(true), upstream = at::randn({g.n_nodes, d});
    (ops::spmm(g, values, xg) * upstream).sum().backward();
    Graph transpose = g;
    transpose.rowptr = g.t_rowptr;
    transpose.col = g.t_col;
    EXPECT_TRUE(at::equal(xg.grad(), row_order_sum(transpose, values.index_select(0, g.t_perm), upstream)));
  }
  at::set_num_threads(threads);
}

TEST(DropEdges, KeepsValuesUnscaledWithTheKeepRate) {
  at::manual_seed(1);
  const at::Tensor values = at::rand({200000}) + 0.5;
  EXPECT_TRUE(ops::drop_edges(values, 1.0).equal(values));
  const at::Tensor dropped = ops::drop_edges(values, 0.8);
  const at::Tensor kept = dropped != 0;
  EXPECT_NEAR(kept.to(at::kDouble).mean().item<double>(), 0.8, 0.005);
  EXPECT_TRUE(dropped.masked_select(kept).equal(values.masked_select(kept)));  // no rescaling
  at::manual_seed(9);
  const at::Tensor a = ops::drop_edges(values, 0.5);
  at::manual_seed(9);
  EXPECT_TRUE(ops::drop_edges(values, 0.5).equal(a));  // seeded => reproducible
  EXPECT_FALSE(ops::drop_edges(values, 0.5).equal(a));
}

TEST(Ops, XavierBoundsAndBpr) {
  at::manual_seed(0);
  const at::Tensor t = ops::xavier_uniform(11000, 32, at::kFloat);
  const double a = std::sqrt(6.0 / (11000 + 32));  // ≈ 0.0233, ALGORITHMS.md §0
  EXPECT_LE(t.abs().max().item<double>(), a);
  EXPECT_GT(t.abs().max().item<double>(), 0.99 * a);
  EXPECT_NEAR(t.std().item<double>(), a / std::sqrt(3.0), 0.01 * a);
  // BPR on one hand-checked row: u = (1, 2), p = (1, 0), n = (0, 1): softplus(2 - 1) = log(1 + e).
  const at::Tensor u = at::tensor({1.0, 2.0}).view({1, 2}), p = at::tensor({1.0, 0.0}).view({1, 2}),
                   n = at::tensor({0.0, 1.0}).view({1, 2});
  EXPECT_NEAR(ops::bpr_loss(u, p, n).item<double>(), std::log(1 + std::exp(1.0)), 1e-12);
}

TEST(Propagate, MatchesLayerByLayerSpmmWithGradients) {
  const data::Dataset ds = test::tiny_dataset();
  const Graph g = data::build_graph(ds, at::kCPU);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    for (int64_t layers : {0, 1, 3}) {
      SCOPED_TRACE(std::string(c10::toString(dtype)) + " L=" + std::to_string(layers));
      at::manual_seed(4);
      at::Tensor values = at::rand({g.n_edges()}, dtype).requires_grad_(true);
      at::Tensor e0 = at::randn({g.n_nodes, 32}, dtype).requires_grad_(true);
      const at::Tensor w0 = at::randn({g.n_nodes, 32}, dtype), w1 = at::randn({g.n_nodes, 32}, dtype);
      // A loss on the sum and on the first layer, so both gradient paths are exercised.
      auto loss = [&](const std::vector<at::Tensor>& out) {
        at::Tensor l = (out[0] * w0).sum();
        return layers > 0 ? l + (out[1] * w1).sum() : l;
      };
      const std::vector<at::Tensor> fused = ops::propagate(g, values, e0, layers);
      ASSERT_EQ(fused.size(), static_cast<size_t>(layers + 1));
      loss(fused).backward();
      const at::Tensor gv = values.grad().defined() ? values.grad().clone() : at::zeros_like(values);
      const at::Tensor ge = e0.grad().clone();
      values.mutable_grad() = at::Tensor();
      e0.mutable_grad() = at::Tensor();
      std::vector<at::Tensor> ref{e0};
      at::Tensor layer = e0;
      for (int64_t l = 0; l < layers; ++l) {
        layer = to_dense(g, values).mm(layer);
        ref[0] = ref[0] + layer;
        ref.push_back(layer);
      }
      for (int64_t l = 0; l <= layers; ++l) EXPECT_TRUE(at::allclose(fused[l], ref[l], 1e-5, 1e-6)) << l;
      loss(ref).backward();
      const at::Tensor gv_ref = values.grad().defined() ? values.grad() : at::zeros_like(values);
      EXPECT_TRUE(at::allclose(gv, gv_ref, 1e-4, 1e-6));
      EXPECT_TRUE(at::allclose(ge, e0.grad(), 1e-5, 1e-6));
    }
  }
}

TEST(EdgeDot, ValueAndGradientMatchGathers) {
  const data::Dataset ds = test::tiny_dataset();
  const Graph g = data::build_graph(ds, at::kCPU);
  at::manual_seed(8);
  const at::Tensor x = at::randn({g.n_nodes, 5}, at::kDouble).requires_grad_(true);
  const at::Tensor w = at::randn({g.n_edges()}, at::kDouble);
  const at::Tensor got = ops::edge_dot(g, x);
  const at::Tensor want = (x.index_select(0, g.row) * x.index_select(0, g.col)).sum(1);
  EXPECT_TRUE(at::allclose(got, want, 1e-12, 1e-12));
  (got * w).sum().backward();
  const at::Tensor gx = x.grad().clone();
  x.mutable_grad() = at::Tensor();
  (want * w).sum().backward();
  EXPECT_TRUE(at::allclose(gx, x.grad(), 1e-12, 1e-12));
}
