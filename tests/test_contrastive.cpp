// Streamed InfoNCE and the intent/mask primitives against dense formulas (ALGORITHMS.md §0).
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "data/graph_builder.hpp"
#include "recgrid/ops.hpp"
#include "reference_math.hpp"
#include "test_support.hpp"

using namespace recgrid;

TEST(Contrastive, ChunkedNceEqualsDenseValueAndGradient) {
  at::manual_seed(2);
  // 150 rows: several 64-row tiles, shared by the threads.
  const at::Tensor x = at::randn({150, 8}, at::kDouble).requires_grad_(true);
  const at::Tensor y = at::randn({150, 8}, at::kDouble).requires_grad_(true);
  const at::Tensor all = at::randn({53, 8}, at::kDouble).requires_grad_(true);
  const at::Tensor want = test::ref_nce_a(x, y, all, 0.2);
  const auto gw = test::grads(want, {x, y, all});
  for (int64_t chunk : {1, 7, 53, 1000}) {  // one row, uneven blocks, exact fit, one block
    SCOPED_TRACE(chunk);
    const at::Tensor got = ops::nce_a(x, y, all, 0.2, chunk);
    EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-9);
    const auto gg = test::grads(got, {x, y, all});
    for (size_t k = 0; k < 3; ++k) EXPECT_TRUE(at::allclose(gg[k], gw[k], 1e-8, 1e-10)) << k;
  }
}

TEST(Contrastive, LogSumExpStaysFiniteAtLargeScales) {
  // inv_tau * |q| * |k| far above exp's range: the max-shifted path must be taken.
  const at::Tensor q = at::full({2, 3}, 10.0), k = at::full({4, 3}, 10.0);
  const at::Tensor lse = ops::logsumexp_similarity(q, k, 1.0, 3);
  EXPECT_NEAR(lse[0].item<double>(), 300.0 + std::log(4.0), 1e-3);
}

// Many keys with similarities just below the old fixed bound (80): each exp fits in float, but
// their sum n e^79 (n = 300,000: about e^91.6) does not. The path must depend on n too.
TEST(Contrastive, LogSumExpStaysFiniteWithManyKeysNearTheBound) {
  const int64_t n = 300000;
  const at::Tensor q = at::full({1, 1}, 1.0), k = at::full({n, 1}, 79.0);  // every similarity exactly 79
  const at::Tensor lse = ops::logsumexp_similarity(q, k, 1.0, 4096);
  EXPECT_TRUE(std::isfinite(lse[0].item<double>()));
  EXPECT_NEAR(lse[0].item<double>(), 79.0 + std::log(static_cast<double>(n)), 1e-3);
  // The gradient (softmax weights 1 / n per key) stays finite as well.
  const at::Tensor kg = k.clone().requires_grad_(true);
  ops::logsumexp_similarity(q, kg, 1.0, 4096).sum().backward();
  EXPECT_NEAR(kg.grad().sum().item<double>(), 1.0, 1e-3);
  // With few keys the same bound stays on the fast unshifted path and is exact.
  EXPECT_NEAR(ops::logsumexp_similarity(q, k.narrow(0, 0, 10), 1.0, 4096)[0].item<double>(), 79.0 + std::log(10.0), 1e-4);
}

TEST(Contrastive, NceBMatchesTheFormulaValueAndGradient) {
  at::manual_seed(3);
  const at::Tensor x = at::randn({130, 4}, at::kDouble).requires_grad_(true);
  const at::Tensor y = at::randn({130, 4}, at::kDouble).requires_grad_(true);
  const at::Tensor want = test::ref_nce_b(x, y, 0.3);
  const auto gw = test::grads(want, {x, y});
  for (int64_t chunk : {7, 1024}) {
    const at::Tensor got = ops::nce_b(x, y, 0.3, chunk);
    EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-12);
    const auto gg = test::grads(got, {x, y});
    EXPECT_TRUE(at::allclose(gg[0], gw[0], 1e-9, 1e-12));
    EXPECT_TRUE(at::allclose(gg[1], gw[1], 1e-9, 1e-12));
  }
}

TEST(AdaptiveMask, RowsSumToOneAndMatchDense) {
  const data::Dataset ds = test::tiny_dataset();
  const Graph g = data::build_graph(ds, at::kCPU);
  at::manual_seed(5);
  const at::Tensor x = at::randn({g.n_nodes, 6}, at::kDouble).requires_grad_(true);
  const at::Tensor m = ops::adaptive_mask(g, x);
  const at::Tensor row_sums = at::zeros({g.n_nodes}, at::kDouble).index_add(0, g.row, m.detach());
  EXPECT_TRUE(at::allclose(row_sums, at::ones_like(row_sums), 1e-12, 1e-12));
  const at::Tensor ref = test::ref_adaptive_mask(g, x);
  EXPECT_TRUE(at::allclose(test::dense(g, m), ref, 1e-12, 1e-12));
  // Gradients flow through alpha: compare d/dx of the propagated result.
  const at::Tensor e = at::randn({g.n_nodes, 6}, at::kDouble);
  const auto got = test::grads((ops::spmm(g, m, e) * e).sum(), {x});
  const auto want = test::grads((ref.mm(e) * e).sum(), {x});
  EXPECT_TRUE(at::allclose(got[0], want[0], 1e-10, 1e-12));
}

TEST(Intents, AggregationIsSoftmaxMixtureOfPrototypes) {
  at::manual_seed(6);
  const at::Tensor x = at::randn({5, 4}), c = at::randn({4, 3});
  const at::Tensor z = ops::intent_aggregate(x, c);
  EXPECT_TRUE(at::allclose(z, test::ref_intents(x, c)));
  // Each row is a convex combination of the prototypes (columns of C).
  const at::Tensor w = x.mm(c).softmax(1);
  EXPECT_TRUE(at::allclose(w.sum(1), at::ones({5})));
}

TEST(Contrastive, RowIndexedNceEqualsNceOnGatheredRows) {
  at::manual_seed(12);
  const at::Tensor x = at::randn({20, 6}, at::kDouble).requires_grad_(true);
  const at::Tensor y = at::randn({20, 6}, at::kDouble).requires_grad_(true);
  const at::Tensor idx = at::tensor({3, 7, 3, 3, 19, 0, 7}, at::kLong);  // repeats
  const at::Tensor want = ops::nce_a(x.index_select(0, idx), y.index_select(0, idx), y, 0.2, 5);
  const at::Tensor got = ops::nce_a_rows(x, y, idx, y, 0.2, 5);
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-10);
  const auto gw = test::grads(want, {x, y}), gg = test::grads(got, {x, y});
  EXPECT_TRUE(at::allclose(gg[0], gw[0], 1e-9, 1e-12));
  EXPECT_TRUE(at::allclose(gg[1], gw[1], 1e-9, 1e-12));
}

// The three numeric paths of the streamed log-sum-exp (folded backward below |q.k| < 30, shift and
// scale per tile below 80, max-shifted above) agree with the dense log-sum-exp, value and gradient.
TEST(Contrastive, LogSumExpPathsMatchDenseValueAndGradient) {
  at::manual_seed(4);
  const at::Tensor q0 = at::randn({70, 5}, at::kDouble), k0 = at::randn({33, 5}, at::kDouble);
  const at::Tensor qn = q0 / q0.norm(2, 1, true), kn = k0 / k0.norm(2, 1, true);
  for (double inv_tau : {2.0, 50.0, 120.0}) {
    SCOPED_TRACE(inv_tau);
    const at::Tensor q = qn.clone().requires_grad_(true), k = kn.clone().requires_grad_(true);
    const at::Tensor weights = at::rand({70}, at::kDouble);
    const at::Tensor want = ((q.mm(k.t()) * inv_tau).logsumexp(1) * weights).sum();
    const at::Tensor got = (ops::logsumexp_similarity(q, k, inv_tau, 8) * weights).sum();
    EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-9 * std::abs(want.item<double>()));
    const auto gw = test::grads(want, {q, k}), gg = test::grads(got, {q, k});
    EXPECT_TRUE(at::allclose(gg[0], gw[0], 1e-8, 1e-10));
    EXPECT_TRUE(at::allclose(gg[1], gw[1], 1e-8, 1e-10));
  }
}

// The in-batch form on distinct rows with counts equals NCE_A on the gathered batch (repeats included).
TEST(Contrastive, InBatchNceOnDistinctRowsEqualsTheGatheredBatch) {
  at::manual_seed(6);
  const at::Tensor x = at::randn({9, 6}, at::kDouble).requires_grad_(true);
  const at::Tensor y = at::randn({9, 6}, at::kDouble).requires_grad_(true);
  const at::Tensor idx = at::tensor({4, 1, 4, 4, 7, 0, 1, 8, 4, 2, 7}, at::kLong);
  const at::Tensor xb = x.index_select(0, idx), yb = y.index_select(0, idx);
  const at::Tensor want = test::ref_nce_a(xb, yb, yb, 0.3);
  const at::Tensor got = ops::nce_a_batch(x, y, idx, 0.3, 2);
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-10);
  const auto gw = test::grads(want, {x, y}), gg = test::grads(got, {x, y});
  EXPECT_TRUE(at::allclose(gg[0], gw[0], 1e-9, 1e-12));
  EXPECT_TRUE(at::allclose(gg[1], gw[1], 1e-9, 1e-12));
}

TEST(Contrastive, WeightedLogSumExpSumMatchesDenseValueAndGradient) {
  at::manual_seed(11);
  // 300 rows: two row blocks of the single-sweep path; float, as on the CPU training path.
  const at::Tensor q = at::randn({300, 6}).requires_grad_(true);
  const at::Tensor k = at::randn({77, 6}).requires_grad_(true);
  const at::Tensor c = at::rand({300}) * 3;
  const at::Tensor lw = at::rand({77}).log();
  for (double inv_tau : {0.7, 40.0}) {  // single sweep (bound < 30), and the fallback (lse + its backward)
    for (bool with_log_weight : {false, true}) {
      SCOPED_TRACE(std::to_string(inv_tau) + (with_log_weight ? " with key weights" : ""));
      at::Tensor sims = q.to(at::kDouble).mm(k.to(at::kDouble).t()) * inv_tau;
      if (with_log_weight) sims = sims + lw.to(at::kDouble).unsqueeze(0);
      const at::Tensor want = (sims.logsumexp(1) * c.to(at::kDouble)).sum();
      const auto gw = test::grads(want, {q, k});
      for (int64_t chunk : {10, 1024}) {
        const at::Tensor got =
            ops::weighted_logsumexp_similarity_sum(q, k, inv_tau, c, with_log_weight ? lw : at::Tensor(), chunk);
        EXPECT_NEAR(got.item<double>(), want.item<double>(), 2e-6 * std::abs(want.item<double>()));
        const auto gg = test::grads(got, {q, k});
        for (size_t i = 0; i < 2; ++i)
          EXPECT_LT((gg[i] - gw[i]).abs().max().item<double>(), 1e-4 * gw[i].abs().max().item<double>()) << i;  // fp32, exponents up to ~200
      }
    }
  }
}

namespace {

// The denominator nce_b_sampled used for its single query (row 0 of y is the positive), recovered
// from the loss: loss = -log(P / (den + 1e-8) + 1e-8).
double sampled_denominator(const at::Tensor& q, const at::Tensor& keys, double tau, int64_t n_rows) {
  const double loss = ops::nce_b_sampled(q, keys, tau, n_rows).item<double>();
  const double positive = std::exp(ops::unit_rows(q).mul(ops::unit_rows(keys.narrow(0, 0, 1))).sum().item<double>() / tau);
  return positive / (std::exp(-loss) - 1e-8) - 1e-8;
}

}  // namespace

// IRLLRec's translation_keys: a query's positive plus k-1 uniformly sampled other keys, those scaled by
// (N-1)/(k-1), estimate the sum over all N keys without bias; scaling the whole sample sum by N/k (the
// positive included) would not, and the test tells the two apart.
TEST(Contrastive, SampledNceBEstimatesTheSumOverEveryKeyWithoutBias) {
  at::manual_seed(11);
  const int64_t n = 300, k = 12, draws = 4000;
  const double tau = 0.5;
  const at::Tensor x = at::randn({n, 8}, at::kDouble), y = at::randn({n, 8}, at::kDouble);
  const double exact = ops::unit_rows(x.narrow(0, 0, 1)).mm(ops::unit_rows(y).t()).div(tau).exp().sum().item<double>();
  double sum = 0, sum_sq = 0, naive_sum = 0;
  for (int64_t d = 0; d < draws; ++d) {
    const at::Tensor others = at::randperm(n - 1, at::kLong).narrow(0, 0, k - 1).add(1);
    const at::Tensor keys = y.index_select(0, at::cat({at::zeros({1}, at::kLong), others}));
    const double den = sampled_denominator(x.narrow(0, 0, 1), keys, tau, n);
    sum += den, sum_sq += den * den;
    naive_sum += static_cast<double>(n) / k * ops::unit_rows(x.narrow(0, 0, 1)).mm(ops::unit_rows(keys).t()).div(tau).exp().sum().item<double>();
  }
  const double mean = sum / draws, sd = std::sqrt(sum_sq / draws - mean * mean), se = sd / std::sqrt(static_cast<double>(draws));
  EXPECT_LT(std::abs(mean - exact), 4 * se) << "mean " << mean << " exact " << exact << " se " << se;
  EXPECT_GT(std::abs(naive_sum / draws - exact), 4 * se) << "the control: N/k on the whole sample is biased by the positive";
}

TEST(Contrastive, SampledNceBOverEveryRowIsTheExactLoss) {
  at::manual_seed(12);
  const at::Tensor x = at::randn({40, 6}), y = at::randn({40, 6});
  EXPECT_NEAR(ops::nce_b_sampled(x, y, 0.3, 40).item<double>(), ops::nce_b(x, y, 0.3).item<double>(), 1e-5);
}

// SGL's and SimGCL's contrast_keys (ops::nce_a_rows_sampled). With every row drawn it is the exact term.
TEST(Contrastive, SampledNceARowsOverEveryRowIsTheExactTerm) {
  at::manual_seed(13);
  const at::Tensor x = at::randn({30, 6}, at::kDouble).requires_grad_(true);
  const at::Tensor y = at::randn({30, 6}, at::kDouble).requires_grad_(true);
  const at::Tensor idx = at::tensor(std::vector<int64_t>{4, 0, 4, 29, 7}, at::kLong);
  const at::Tensor exact = ops::nce_a_rows(x, y, idx, y, 0.3, 4);
  const at::Tensor sampled = ops::nce_a_rows_sampled(x, y, idx, at::randperm(30, at::kLong), 0.3, 4);
  EXPECT_NEAR(sampled.item<double>(), exact.item<double>(), 1e-10);
  const auto ge = test::grads(exact, {x, y}), gs = test::grads(sampled, {x, y});
  for (size_t i = 0; i < 2; ++i) EXPECT_TRUE(at::allclose(gs[i], ge[i], 1e-9, 1e-12)) << i;
}

namespace {

// The denominator nce_a_rows_sampled used for one query (row q): loss = -s_qq / tau + log(den).
double sampled_nce_a_denominator(const at::Tensor& x, const at::Tensor& y, int64_t q, const at::Tensor& keys,
                                 double tau) {
  const at::Tensor idx = at::tensor(std::vector<int64_t>{q}, at::kLong);
  const double loss = ops::nce_a_rows_sampled(x, y, idx, keys, tau).item<double>();
  const at::Tensor xn = ops::normalize_rows_eps(x.narrow(0, q, 1)), yn = ops::normalize_rows_eps(y.narrow(0, q, 1));
  return std::exp(loss + (xn * yn).sum().item<double>() / tau);
}

}  // namespace

// The sampled denominator is unbiased for the sum over every key whether or not the query's own row
// is drawn (k = n/2: half the draws hold it). The control counts the positive twice when it is drawn
// (positive + (n-1)/k x the whole sample sum), and the test tells the two apart.
TEST(Contrastive, SampledNceARowsEstimatesTheSumOverEveryKeyWithoutBias) {
  at::manual_seed(14);
  const int64_t n = 60, k = 30, draws = 4000;
  const double tau = 0.5;
  const at::Tensor x = at::randn({n, 8}, at::kDouble), y = at::randn({n, 8}, at::kDouble);
  y[0] = x[0];  // a large positive term (e^{1/tau}), so that counting it twice shows
  const at::Tensor s = ops::normalize_rows_eps(x.narrow(0, 0, 1)).mm(ops::normalize_rows_eps(y).t()).div(tau).exp();
  const double exact = s.sum().item<double>(), positive = s[0][0].item<double>();
  double sum = 0, sum_sq = 0, control = 0;
  int64_t held = 0;
  for (int64_t d = 0; d < draws; ++d) {
    const at::Tensor keys = at::randperm(n, at::kLong).narrow(0, 0, k);
    const double den = sampled_nce_a_denominator(x, y, 0, keys, tau);
    sum += den, sum_sq += den * den;
    control += positive + static_cast<double>(n - 1) / k * s.index_select(1, keys).sum().item<double>();
    held += (keys == 0).any().item<bool>();
  }
  const double mean = sum / draws, sd = std::sqrt(sum_sq / draws - mean * mean), se = sd / std::sqrt(static_cast<double>(draws));
  EXPECT_GT(held, draws / 4) << "both branches are exercised";
  EXPECT_LT(std::abs(mean - exact), 4 * se) << "mean " << mean << " exact " << exact << " se " << se;
  EXPECT_GT(std::abs(control / draws - exact), 4 * se) << "the control counts the drawn positive twice";
}

// On a proper subset of keys, value and gradients against the estimate written densely: query b's
// denominator is its positive plus (n-1)/(keys other than b) x the sum of those keys' terms.
TEST(Contrastive, SampledNceARowsMatchesTheDenseEstimate) {
  at::manual_seed(15);
  const int64_t n = 20;
  const double tau = 0.4;
  const at::Tensor x = at::randn({n, 5}, at::kDouble).requires_grad_(true);
  const at::Tensor y = at::randn({n, 5}, at::kDouble).requires_grad_(true);
  const std::vector<int64_t> rows{3, 3, 11, 5}, drawn{3, 8, 0, 17, 12, 9};  // 3 is drawn, 11 and 5 are not
  const at::Tensor keys = at::tensor(drawn, at::kLong);
  auto unit = [](const at::Tensor& t) { return t / (t.pow(2).sum(1, true) + 1e-8).sqrt(); };
  at::Tensor want = at::zeros({}, at::kDouble);
  for (int64_t b : rows) {
    const at::Tensor s = unit(x.narrow(0, b, 1)).mm(unit(y).t()).squeeze(0).div(tau);
    at::Tensor others = at::zeros({}, at::kDouble);
    int64_t n_others = 0;
    for (int64_t j : drawn)
      if (j != b) others = others + s[j].exp(), ++n_others;
    want = want - s[b] + (s[b].exp() + others * (static_cast<double>(n - 1) / n_others)).log();
  }
  const at::Tensor got = ops::nce_a_rows_sampled(x, y, at::tensor(rows, at::kLong), keys, tau, 4);
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-10);
  const auto gg = test::grads(got, {x, y}), gw = test::grads(want, {x, y});
  for (size_t i = 0; i < 2; ++i) EXPECT_TRUE(at::allclose(gg[i], gw[i], 1e-9, 1e-12)) << i;
}
