// SimGCL (ALGORITHMS.md §2.3): the perturbation's norm, and the loss against the formula.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "plugin_support.hpp"
#include "recgrid/ops.hpp"
#include "reference_math.hpp"

using namespace recgrid;

TEST(SimGCL, EachNodesNoiseHasNormEps) {
  test::HostContext host(test::load_tsv_scientific());
  const double eps = 0.3;
  auto model = host.create(plugin::load_plugin(test::plugin_path("simgcl")), {{"layers", 2}, {"eps", eps}});
  const NamedTensors enc = model->encode(RG_MODE_TRAIN, nullptr);
  const at::Tensor e0 = enc.at("layer.0");
  for (const char* view : {"view1.", "view2."}) {
    // Layer 1 of a perturbed view = Â E0 + noise; the noise of every node has norm eps.
    const at::Tensor h = ops::spmm(host.graph, host.graph.norm, e0);
    const at::Tensor noise = enc.at(std::string(view) + "layer.1") - h;
    // Nodes without training edges (some scientific items) have H = 0, and sign(0) = 0: no noise.
    const at::Tensor connected = (h != 0).all(1);
    ASSERT_GT(connected.sum().item<int64_t>(), 2000);  // of 800 users + 1,469 items
    const at::Tensor norms = noise.norm(2, 1).masked_select(connected);
    EXPECT_NEAR(norms.min().item<double>(), eps, 1e-4) << view;
    EXPECT_NEAR(norms.max().item<double>(), eps, 1e-4) << view;
    EXPECT_EQ(noise.norm(2, 1).masked_select(h.abs().sum(1) == 0).sum().item<double>(), 0.0);
    // Its sign follows H (sign(H) ⊙ |Δ|/‖Δ‖ with Δ >= 0).
    EXPECT_TRUE(((noise * h) >= 0).all().item<bool>());
  }
  EXPECT_FALSE(at::allclose(enc.at("view1.user"), enc.at("view2.user")));
}

TEST(SimGCL, LossAndGradientMatchTheFormula) {
  test::HostContext host(test::tiny_dataset());
  const double tau = 0.2, w = 0.1;
  auto model = host.create(plugin::load_plugin(test::plugin_path("simgcl")),
                           {{"layers", 2}, {"cl_weight", w}, {"temperature", tau}, {"chunk", 3}});
  NamedTensors b;
  b.add("users", at::tensor({0, 1, 2, 2}, at::kLong));
  b.add("pos", at::tensor({0, 1, 2, 3}, at::kLong));
  b.add("neg", at::tensor({3, 3, 0, 0}, at::kLong));
  const NamedTensors enc = model->encode(RG_MODE_TRAIN, nullptr);
  const NamedTensors terms = model->loss(b, enc);
  const at::Tensor users = b.at("users"), pos = b.at("pos"), neg = b.at("neg");
  const at::Tensor &u1 = enc.at("view1.user"), &u2 = enc.at("view2.user"), &i1 = enc.at("view1.item"),
                   &i2 = enc.at("view2.item");
  const at::Tensor bpr = test::ref_bpr(enc.at("user").index_select(0, users), enc.at("item").index_select(0, pos),
                                       enc.at("item").index_select(0, neg));
  const at::Tensor cl = (test::ref_nce_a(u1.index_select(0, users), u2.index_select(0, users), u2, tau) +
                         test::ref_nce_a(i1.index_select(0, pos), i2.index_select(0, pos), i2, tau)) * (w / 4);
  EXPECT_NEAR(terms.at("bpr").item<double>(), bpr.item<double>(), 1e-6);
  EXPECT_NEAR(terms.at("cl").item<double>(), cl.item<double>(), 1e-5);
  const std::vector<at::Tensor> params{model->parameters().at("user_emb"), model->parameters().at("item_emb")};
  const auto got = test::grads(terms.at("bpr") + terms.at("cl"), params);
  const auto want = test::grads(bpr + cl, params);
  for (size_t k = 0; k < 2; ++k) EXPECT_TRUE(at::allclose(got[k], want[k], 1e-4, 1e-6)) << k;
}

// contrast_keys = k: NCE_A on k drawn users, then k drawn items, as keys (its positive items only); 1 is refused.
TEST(SimGCL, ContrastKeysSampleEachSidesKeys) {
  test::HostContext host(test::tiny_dataset());
  const double tau = 0.2, w = 0.1;
  auto model = host.create(plugin::load_plugin(test::plugin_path("simgcl")),
                           {{"layers", 2}, {"cl_weight", w}, {"temperature", tau}, {"contrast_keys", 2}});
  NamedTensors b;
  b.add("users", at::tensor({0, 1, 2, 2}, at::kLong));
  b.add("pos", at::tensor({0, 1, 2, 3}, at::kLong));
  b.add("neg", at::tensor({3, 3, 0, 0}, at::kLong));
  const NamedTensors enc = model->encode(RG_MODE_TRAIN, nullptr);
  at::manual_seed(9);
  const at::Tensor got = model->loss(b, enc).at("cl");
  const at::Tensor want = test::two_view_infonce_on_drawn_keys(enc, b.at("users"), b.at("pos"), 2, tau, 9) * (w / 4);
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-6);
  EXPECT_THROW(host.create(plugin::load_plugin(test::plugin_path("simgcl")), {{"contrast_keys", 1}}), std::exception);
}
