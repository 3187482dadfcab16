// RLMRec-Con (ALGORITHMS.md §3.2): the alignment loss and its gradients against the dense formula.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "plugin_support.hpp"
#include "reference_math.hpp"

using namespace recgrid;

TEST(RlmrecCon, LossAndGradientsMatchTheFormula) {
  test::HostContext host(test::tiny_dataset());
  at::manual_seed(21);
  rg_tensor_list inputs;
  inputs.items.add("profile_user", at::randn({3, 10}));
  inputs.items.add("profile_item", at::randn({4, 10}));
  host.ctx.inputs = &inputs;
  auto base = host.create_base(plugin::load_plugin(test::plugin_path("lightgcn")), {{"keep_rate", 1.0}, {"layers", 2}});
  const double w = 0.3, tau = 0.25;
  auto con = host.create(plugin::load_plugin(test::plugin_path("rlmrec_con")),
                         {{"kd_weight", w}, {"kd_temperature", tau}, {"chunk", 2}});
  const NamedTensors p = con->parameters();
  const at::Tensor &w1 = p.at("mlp_p.w1"), &b1 = p.at("mlp_p.b1"), &w2 = p.at("mlp_p.w2"), &b2 = p.at("mlp_p.b2");
  EXPECT_EQ(w1.sizes(), (at::IntArrayRef{21, 10}));  // hidden (10 + 32) / 2
  EXPECT_EQ(w2.sizes(), (at::IntArrayRef{32, 21}));

  NamedTensors b;
  b.add("users", at::tensor({0, 2, 2, 1}, at::kLong));
  b.add("pos", at::tensor({1, 3, 1, 1}, at::kLong));
  b.add("neg", at::tensor({3, 0, 2, 0}, at::kLong));
  const NamedTensors enc = base->encode(RG_MODE_TRAIN, nullptr);
  const at::Tensor got = con->enhancer_loss(b, enc).at("kd");

  auto mlp = [&](const at::Tensor& x) { return at::leaky_relu(x.mm(w1.t()) + b1, 0.01).mm(w2.t()) + b2; };
  const at::Tensor zu = mlp(inputs.items.at("profile_user")), zi = mlp(inputs.items.at("profile_item"));
  const at::Tensor &U = enc.at("user"), &I = enc.at("item");
  const at::Tensor u = b.at("users"), pos = b.at("pos"), neg = b.at("neg");
  const at::Tensor zp = zi.index_select(0, pos), zn = zi.index_select(0, neg);
  const at::Tensor want = (test::ref_nce_a(U.index_select(0, u), zu.index_select(0, u), zu, tau) +
                           test::ref_nce_a(I.index_select(0, pos), zp, zp, tau) +
                           test::ref_nce_a(I.index_select(0, neg), zn, zn, tau)) * (w / 4);
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-5);
  const NamedTensors bp = base->parameters();
  const std::vector<at::Tensor> params{bp.at("user_emb"), bp.at("item_emb"), w1, b1, w2, b2};
  const auto g_got = test::grads(got, params), g_want = test::grads(want, params);
  for (size_t k = 0; k < params.size(); ++k) EXPECT_TRUE(at::allclose(g_got[k], g_want[k], 1e-4, 1e-6)) << k;
  // What `recgrid export` writes as its text side: the projected profiles Zp of every user and item.
  const NamedTensors side = con->text_side();
  EXPECT_TRUE(at::allclose(side.at("user"), zu, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(side.at("item"), zi, 1e-5, 1e-6));
  EXPECT_TRUE(base->text_side().empty());  // a base model has none
}
