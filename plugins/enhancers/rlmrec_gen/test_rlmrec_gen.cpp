// RLMRec-Gen (ALGORITHMS.md §3.3): masking, and the reconstruction loss and its gradients against the
// dense formula.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "plugin_support.hpp"
#include "reference_math.hpp"

using namespace recgrid;
using J = nlohmann::json;

namespace {

// LightGCN (no edge drop, 2 layers) + RLMRec-Gen with 10-wide profiles: 3 users + 4 items = 7 nodes.
struct GenSetup : test::EnhancerOnTiny {
  explicit GenSetup(const nlohmann::json& options)
      : EnhancerOnTiny(tables(), {{"keep_rate", 1.0}, {"layers", 2}}, "rlmrec_gen", options), gen(enhancer) {}
  static NamedTensors tables() {
    at::manual_seed(5);
    NamedTensors t;
    t.add("profile_user", at::randn({3, 10}));
    t.add("profile_item", at::randn({4, 10}));
    return t;
  }
  at::Tensor profiles() const { return at::cat({table("profile_user"), table("profile_item")}, 0); }
  std::unique_ptr<plugin::Instance>& gen;
};

NamedTensors batch() {
  NamedTensors b;
  b.add("users", at::tensor({0, 2}, at::kLong));
  b.add("pos", at::tensor({1, 3}, at::kLong));
  b.add("neg", at::tensor({3, 0}, at::kLong));
  return b;
}

}  // namespace

TEST(RlmrecGen, MasksFloorRatioTimesNodesWithTheTokenOnlyInTraining) {
  GenSetup s(J{{"mask_ratio", 0.5}});
  const at::Tensor e0 = s.base->layer0();
  const at::Tensor masked = s.gen->transform_inputs(RG_MODE_TRAIN, e0);
  // The token starts at 0: masked rows are the zero rows; the others are untouched.
  const at::Tensor zero_rows = (masked.abs().sum(1) == 0);
  EXPECT_EQ(zero_rows.sum().item<int64_t>(), 3);  // floor(0.5 * 7)
  const at::Tensor kept = at::nonzero(~zero_rows).squeeze(1);
  EXPECT_TRUE(at::equal(masked.index_select(0, kept), e0.index_select(0, kept)));
  EXPECT_TRUE(at::equal(s.gen->transform_inputs(RG_MODE_EVAL, e0), e0));
  // mask_forward false (REF BIGCF-Gen): seeds drawn, layer 0 unchanged.
  GenSetup ref(J{{"mask_ratio", 0.5}, {"mask_forward", false}});
  EXPECT_TRUE(at::equal(ref.gen->transform_inputs(RG_MODE_TRAIN, ref.base->layer0()), ref.base->layer0()));
}

TEST(RlmrecGen, LossAndGradientsMatchTheFormula) {
  const double w = 0.4, tau = 0.3;
  GenSetup s(J{{"mask_ratio", 0.6}, {"recon_weight", w}, {"recon_temperature", tau}, {"chunk", 2}});
  const NamedTensors p = s.gen->parameters();
  const at::Tensor &token = p.at("mask_token"), &w1 = p.at("mlp_g.w1"), &b1 = p.at("mlp_g.b1"), &w2 = p.at("mlp_g.w2"),
                   &b2 = p.at("mlp_g.b2");
  EXPECT_EQ(w1.sizes(), (at::IntArrayRef{21, 32}));  // TextMLP(32 -> 10), hidden (32 + 10) / 2
  EXPECT_EQ(w2.sizes(), (at::IntArrayRef{10, 21}));
  // Move the token off zero so its gradient path is exercised; find the seeds as the token's rows.
  { at::NoGradGuard g; token.uniform_(-0.5, 0.5); }
  const at::Tensor e0 = s.base->layer0();
  const at::Tensor masked = s.gen->transform_inputs(RG_MODE_TRAIN, e0);
  const at::Tensor seeds = at::nonzero((masked - token).abs().sum(1) == 0).squeeze(1);
  ASSERT_EQ(seeds.size(0), 4);  // floor(0.6 * 7)
  const NamedTensors enc = s.base->encode(RG_MODE_TRAIN, &masked);
  const at::Tensor got = s.gen->enhancer_loss(batch(), enc).at("rec");

  // Independently: the masked layer 0 built by hand, the same encoder, the dense NCE_B.
  at::Tensor mask = at::zeros({7, 1});
  mask.index_fill_(0, seeds, 1.0);
  const at::Tensor by_hand = e0 * (1 - mask) + token * mask;
  const NamedTensors enc_hand = s.base->encode(RG_MODE_TRAIN, &by_hand);
  const at::Tensor nodes = at::cat({enc_hand.at("user"), enc_hand.at("item")}, 0).index_select(0, seeds);
  const at::Tensor recon = at::leaky_relu(nodes.mm(w1.t()) + b1, 0.01).mm(w2.t()) + b2;
  const at::Tensor want = test::ref_nce_b(recon, s.profiles().index_select(0, seeds), tau) * w;
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-5);
  const NamedTensors bp = s.base->parameters();
  const std::vector<at::Tensor> params{bp.at("user_emb"), bp.at("item_emb"), token, w1, b1, w2, b2};
  const auto g_got = test::grads(got, params), g_want = test::grads(want, params);
  for (size_t k = 0; k < params.size(); ++k) EXPECT_TRUE(at::allclose(g_got[k], g_want[k], 1e-4, 1e-6)) << k;
  EXPECT_GT(g_got[2].abs().sum().item<double>(), 0);  // the token learns
}

// seed_keys = k: the first k seeds drawn (a uniform sample of the seeds) are the queries and the keys,
// each denominator's other terms scaled by (|S|-1)/(k-1); value and gradients against that estimate.
TEST(RlmrecGen, SeedKeysContrastTheFirstKSeedsScaledToAll) {
  const double w = 0.4, tau = 0.3;
  const int64_t k = 3, n_seeds = 5;  // floor(0.8 * 7)
  GenSetup s(J{{"mask_ratio", 0.8}, {"recon_weight", w}, {"recon_temperature", tau}, {"seed_keys", k}});
  const NamedTensors p = s.gen->parameters();
  const at::Tensor &w1 = p.at("mlp_g.w1"), &b1 = p.at("mlp_g.b1"), &w2 = p.at("mlp_g.w2"), &b2 = p.at("mlp_g.b2");
  at::manual_seed(21);
  const at::Tensor masked = s.gen->transform_inputs(RG_MODE_TRAIN, s.base->layer0());
  const NamedTensors enc = s.base->encode(RG_MODE_TRAIN, &masked);
  const at::Tensor got = s.gen->enhancer_loss(batch(), enc).at("rec");

  at::manual_seed(21);
  const at::Tensor used = at::randperm(7, at::kLong).narrow(0, 0, k);  // the seeds' draw, its first k
  const at::Tensor nodes = at::cat({enc.at("user"), enc.at("item")}, 0).index_select(0, used);
  const at::Tensor recon = at::leaky_relu(nodes.mm(w1.t()) + b1, 0.01).mm(w2.t()) + b2;
  auto unit = [](const at::Tensor& t) { return t / t.norm(2, 1, true).clamp_min(1e-12); };
  const at::Tensor e = unit(recon).mm(unit(s.profiles().index_select(0, used)).t()).div(tau).exp();
  const at::Tensor positive = e.diagonal();
  const at::Tensor den = positive + (n_seeds - 1.0) / (k - 1.0) * (e.sum(1) - positive);
  const at::Tensor want = -((positive / (den + 1e-8)) + 1e-8).log().mean() * w;
  EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-5);
  const std::vector<at::Tensor> params{s.base->parameters().at("user_emb"), w1, w2};
  const auto g_got = test::grads(got, params), g_want = test::grads(want, params);
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(at::allclose(g_got[i], g_want[i], 1e-4, 1e-6)) << i;
  EXPECT_THROW(GenSetup(J{{"seed_keys", 1}}), std::exception);
}

TEST(RlmrecGen, RejectsBadOptions) {
  EXPECT_THROW(GenSetup(J{{"mask_ratio", 0.0}}), std::exception);
  EXPECT_THROW(GenSetup(J{{"recon_temperature", -1.0}}), std::exception);
}
