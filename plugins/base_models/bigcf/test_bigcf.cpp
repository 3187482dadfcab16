// BIGCF (ALGORITHMS.md §2.5): noise at evaluation as an option, and the loss against the formula.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "plugin_support.hpp"
#include "reference_math.hpp"

using namespace recgrid;

TEST(BIGCF, EvaluationNoiseIsAnOption) {
  test::HostContext host(test::tiny_dataset());
  const plugin::LoadedPlugin& p = plugin::load_plugin(test::plugin_path("bigcf"));
  EXPECT_TRUE(p.info->flags & RG_FLAG_ENCODE_PER_EVAL_BATCH);
  auto quiet = host.create(p, {{"eval_noise", false}});
  const at::Tensor a = quiet->encode(RG_MODE_EVAL, nullptr).at("final");
  EXPECT_TRUE(quiet->encode(RG_MODE_EVAL, nullptr).at("final").equal(a));  // deterministic scores
  EXPECT_TRUE(a.equal(quiet->encode(RG_MODE_EVAL, nullptr).at("clean")));
  auto noisy = host.create(p, {{"eval_noise", true}});
  EXPECT_FALSE(noisy->encode(RG_MODE_EVAL, nullptr).at("final").equal(noisy->encode(RG_MODE_EVAL, nullptr).at("final")));
}

TEST(BIGCF, LossAndGradientMatchTheFormula) {
  test::HostContext host(test::tiny_dataset());
  const double tau = 0.2, w = 0.05, cen = 0.01;
  auto model = host.create(plugin::load_plugin(test::plugin_path("bigcf")),
                           {{"layers", 2}, {"intents", 6}, {"cl_weight", w}, {"temperature", tau}, {"cen_weight", cen}});
  const NamedTensors params = model->parameters();
  const at::Tensor &U = params.at("user_emb"), &I = params.at("item_emb"), &Cu = params.at("user_intents"),
                   &Ci = params.at("item_intents");
  const int64_t M = host.ds.n_users;
  const NamedTensors enc = model->encode(RG_MODE_TRAIN, nullptr);
  // The clean part and the intents against a dense re-implementation.
  const at::Tensor A = test::dense(host.graph, host.graph.norm);
  const at::Tensor e0 = at::cat({U, I}), s = e0 + A.mm(e0) + A.mm(A.mm(e0));
  EXPECT_TRUE(at::allclose(enc.at("clean"), s, 1e-5, 1e-6));
  const at::Tensor zc = at::cat({test::ref_intents(s.narrow(0, 0, M), Cu), test::ref_intents(s.narrow(0, M, 4), Ci)});
  EXPECT_TRUE(at::allclose(enc.at("intent"), zc, 1e-5, 1e-6));

  NamedTensors b;
  b.add("users", at::tensor({0, 2, 2}, at::kLong));
  b.add("pos", at::tensor({1, 3, 2}, at::kLong));
  b.add("neg", at::tensor({3, 0, 0}, at::kLong));
  const NamedTensors terms = model->loss(b, enc);
  const at::Tensor& f = enc.at("final");
  const at::Tensor users = b.at("users"), pos = b.at("pos") + M, neg = b.at("neg") + M;
  const at::Tensor eu = f.index_select(0, users), ei = f.index_select(0, pos);
  const at::Tensor zu = enc.at("intent").index_select(0, users), zi = enc.at("intent").index_select(0, pos);
  const at::Tensor bpr = test::ref_bpr(eu, ei, f.index_select(0, neg));
  const at::Tensor cl = (test::ref_nce_b(eu, eu, tau) + test::ref_nce_b(ei, ei, tau) + test::ref_nce_b(eu, ei, tau) +
                         test::ref_nce_b(zu, zu, tau) + test::ref_nce_b(zi, zi, tau)) * w;
  const at::Tensor cen_term = (Cu.pow(2).sum() + Ci.pow(2).sum()) * cen;
  EXPECT_NEAR(terms.at("bpr").item<double>(), bpr.item<double>(), 1e-6);
  EXPECT_NEAR(terms.at("cl").item<double>(), cl.item<double>(), 1e-6);
  EXPECT_NEAR(terms.at("cen").item<double>(), cen_term.item<double>(), 1e-9);
  const std::vector<at::Tensor> p{U, I, Cu, Ci};
  const auto got = test::grads(terms.at("bpr") + terms.at("cl") + terms.at("cen"), p);
  const auto want = test::grads(bpr + cl + cen_term, p);
  for (size_t k = 0; k < p.size(); ++k) EXPECT_TRUE(at::allclose(got[k], want[k], 1e-4, 1e-7)) << k;
}
