// SGL (ALGORITHMS.md §2.2): views, and the loss and its gradient against the dense formula.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "plugin_support.hpp"
#include "reference_math.hpp"

using namespace recgrid;

namespace {

NamedTensors batch(std::vector<int64_t> u, std::vector<int64_t> p, std::vector<int64_t> n) {
  NamedTensors b;
  b.add("users", at::tensor(u, at::kLong));
  b.add("pos", at::tensor(p, at::kLong));
  b.add("neg", at::tensor(n, at::kLong));
  return b;
}

}  // namespace

TEST(SGL, ViewsDifferAndTheMainViewIsLightGCN) {
  test::HostContext host(test::load_tsv_scientific());
  auto model = host.create(plugin::load_plugin(test::plugin_path("sgl")), {{"layers", 2}});
  const NamedTensors enc = model->encode(RG_MODE_TRAIN, nullptr);
  EXPECT_FALSE(at::allclose(enc.at("view1.user"), enc.at("view2.user")));
  // View 3 (main) uses the full graph: it equals the evaluation encoding.
  EXPECT_TRUE(at::allclose(enc.at("final"), model->encode(RG_MODE_EVAL, nullptr).at("final")));
  EXPECT_FALSE(model->encode(RG_MODE_EVAL, nullptr).contains("view1.user"));
}

TEST(SGL, LossAndGradientMatchTheFormula) {
  test::HostContext host(test::tiny_dataset());
  const double tau = 0.3, w = 0.5;
  auto model = host.create(plugin::load_plugin(test::plugin_path("sgl")),
                           {{"layers", 2}, {"cl_weight", w}, {"temperature", tau}, {"chunk", 2}});
  const NamedTensors b = batch({0, 2, 2}, {1, 3, 1}, {3, 0, 0});
  const NamedTensors enc = model->encode(RG_MODE_TRAIN, nullptr);
  const NamedTensors terms = model->loss(b, enc);
  const at::Tensor &U = enc.at("user"), &I = enc.at("item");
  const at::Tensor &u1 = enc.at("view1.user"), &u2 = enc.at("view2.user"), &i1 = enc.at("view1.item"),
                   &i2 = enc.at("view2.item");
  const at::Tensor users = b.at("users"), pos = b.at("pos"), neg = b.at("neg");
  const at::Tensor bpr = test::ref_bpr(U.index_select(0, users), I.index_select(0, pos), I.index_select(0, neg));
  const at::Tensor cl = (test::ref_nce_a(u1.index_select(0, users), u2.index_select(0, users), u2, tau) +
                         test::ref_nce_a(i1.index_select(0, pos), i2.index_select(0, pos), i2, tau) +
                         test::ref_nce_a(i1.index_select(0, neg), i2.index_select(0, neg), i2, tau)) * (w / 3);
  EXPECT_NEAR(terms.at("bpr").item<double>(), bpr.item<double>(), 1e-6);
  EXPECT_NEAR(terms.at("cl").item<double>(), cl.item<double>(), 1e-5);
  const std::vector<at::Tensor> params{model->parameters().at("user_emb"), model->parameters().at("item_emb")};
  const auto got = test::grads(terms.at("bpr") + terms.at("cl"), params);
  const auto want = test::grads(bpr + cl, params);
  for (size_t k = 0; k < 2; ++k) EXPECT_TRUE(at::allclose(got[k], want[k], 1e-4, 1e-6)) << k;
}

// contrast_keys = k: each side's keys are a fresh uniform sample of k rows, users drawn first; 1 is refused.
TEST(SGL, ContrastKeysSampleEachSidesKeys) {
  test::HostContext host(test::tiny_dataset());
  const double tau = 0.3, w = 0.5;
  auto model = host.create(plugin::load_plugin(test::plugin_path("sgl")),
                           {{"layers", 2}, {"cl_weight", w}, {"temperature", tau}, {"contrast_keys", 2}});
  const NamedTensors b = batch({0, 2, 2}, {1, 3, 1}, {3, 0, 0});
  const NamedTensors enc = model->encode(RG_MODE_TRAIN, nullptr);
  at::manual_seed(5);
  const at::Tensor got = model->loss(b, enc).at("cl");
  const at::Tensor items = at::cat({b.at("pos"), b.at("neg")});
  const at::Tensor want = test::two_view_infonce_on_drawn_keys(enc, b.at("users"), items, 2, tau, 5) * (w / 3);
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-6);
  EXPECT_THROW(host.create(plugin::load_plugin(test::plugin_path("sgl")), {{"contrast_keys", 1}}), std::exception);
}
