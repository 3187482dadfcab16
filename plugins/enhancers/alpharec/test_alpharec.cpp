// AlphaRec (ALGORITHMS.md §3.6): user inputs from training items only, the layer-0 MLP, and the
// normalised softmax loss against its formula.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "plugin_support.hpp"
#include "reference_math.hpp"

using namespace recgrid;
using J = nlohmann::json;

namespace {

// LightGCN as the alpharec preset sets it (no edge drop, layer mean, no BPR) + AlphaRec, 10-wide items.
struct AlphaSetup : test::EnhancerOnTiny {
  explicit AlphaSetup(const nlohmann::json& options)
      : EnhancerOnTiny(tables(), {{"keep_rate", 1.0}, {"layers", 2}, {"layer_combination", "mean"}, {"bpr_weight", 0.0}},
                       "alpharec", options),
        alpha(enhancer) {}
  static NamedTensors tables() {
    at::manual_seed(13);
    NamedTensors t;
    t.add("profile_item", at::randn({4, 10}));
    return t;
  }
  at::Tensor mlp(const at::Tensor& x) const {
    const NamedTensors p = alpha->parameters();
    return at::leaky_relu(x.mm(p.at("mlp_a.w1").t()) + p.at("mlp_a.b1"), 0.01).mm(p.at("mlp_a.w2").t()) + p.at("mlp_a.b2");
  }
  std::unique_ptr<plugin::Instance>& alpha;
};

}  // namespace

TEST(AlphaRec, UserInputsAreTheMeanOfTrainingItemsOnly) {
  AlphaSetup s(J::object());
  // tiny_dataset training items: user 0 {0, 1}, user 1 {1}, user 2 {1, 2, 3}; its validation and
  // test items (user 0: 2 and 3, user 2: 0) must not enter.
  const at::Tensor P = s.table("profile_item");
  const at::Tensor means = at::stack({(P[0] + P[1]) / 2, P[1], (P[1] + P[2] + P[3]) / 3});
  const at::Tensor e0 = s.alpha->transform_inputs(RG_MODE_TRAIN, s.base->layer0());
  ASSERT_EQ(e0.sizes(), (at::IntArrayRef{7, 32}));
  EXPECT_TRUE(at::allclose(e0.narrow(0, 0, 3), s.mlp(means), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(e0.narrow(0, 3, 4), s.mlp(P), 1e-5, 1e-6));
  const NamedTensors p = s.alpha->parameters();
  EXPECT_EQ(p.at("mlp_a.w1").sizes(), (at::IntArrayRef{5, 10}));  // d_p / 2 hidden
  // The base model's ID tables do not reach layer 0.
  e0.sum().backward();
  EXPECT_FALSE(s.base->parameters().at("user_emb").grad().defined());
}

TEST(AlphaRec, SoftmaxLossWithTheBatchNegativeMatchesTheFormula) {
  const double tau = 0.2;
  AlphaSetup s(J{{"temperature", tau}, {"negatives", 1}});
  const at::Tensor e0 = s.alpha->transform_inputs(RG_MODE_TRAIN, s.base->layer0());
  const NamedTensors enc = s.base->encode(RG_MODE_TRAIN, &e0);
  NamedTensors b;
  b.add("users", at::tensor({0, 2, 1}, at::kLong));
  b.add("pos", at::tensor({1, 3, 1}, at::kLong));
  b.add("neg", at::tensor({2, 0, 3}, at::kLong));
  const at::Tensor got = s.alpha->enhancer_loss(b, enc).at("softmax");
  EXPECT_TRUE(s.base->loss(b, enc).empty());  // bpr_weight 0: AlphaRec's loss is the only one
  // Dense: cosines, then -log(e^{pos/tau} / (e^{pos/tau} + e^{neg/tau})), averaged.
  auto cos = [](const at::Tensor& a, const at::Tensor& c) { return (a * c).sum(1) / (a.norm(2, 1) * c.norm(2, 1)); };
  const at::Tensor U = enc.at("user"), I = enc.at("item");
  const at::Tensor u = U.index_select(0, b.at("users"));
  const at::Tensor sp = cos(u, I.index_select(0, b.at("pos"))) / tau, sn = cos(u, I.index_select(0, b.at("neg"))) / tau;
  const at::Tensor want = (-(sp.exp() / (sp.exp() + sn.exp())).log()).mean();
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-5);
  const NamedTensors p = s.alpha->parameters();
  const std::vector<at::Tensor> params{p.at("mlp_a.w1"), p.at("mlp_a.b1"), p.at("mlp_a.w2"), p.at("mlp_a.b2")};
  const auto g_got = test::grads(got, params), g_want = test::grads(want, params);
  for (size_t k = 0; k < params.size(); ++k) EXPECT_TRUE(at::allclose(g_got[k], g_want[k], 1e-4, 1e-6)) << k;
}

TEST(AlphaRec, ManySampledNegativesMakeTheTaskHarder) {
  // With K = 256 uniform negatives the softmax has 256 competitors instead of 1: a larger loss for
  // the same embeddings, and within [0, log(1 + K e^{2/tau})].
  AlphaSetup one(J{{"negatives", 1}}), many(J{{"negatives", 256}});
  NamedTensors b;
  b.add("users", at::tensor({0, 2}, at::kLong));
  b.add("pos", at::tensor({1, 3}, at::kLong));
  b.add("neg", at::tensor({2, 0}, at::kLong));
  auto loss = [&](AlphaSetup& s) {
    const at::Tensor e0 = s.alpha->transform_inputs(RG_MODE_TRAIN, s.base->layer0());
    return s.alpha->enhancer_loss(b, s.base->encode(RG_MODE_TRAIN, &e0)).at("softmax").item<double>();
  };
  const double l1 = loss(one), l256 = loss(many);
  EXPECT_GT(l256, l1);
  EXPECT_LT(l256, std::log(1 + 256 * std::exp(2 / 0.15)));
  EXPECT_GT(l256, std::log(1 + 256 * std::exp(-2 / 0.15)));
}
