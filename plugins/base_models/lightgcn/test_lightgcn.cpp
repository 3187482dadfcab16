// LightGCN (ALGORITHMS.md §2.1) through its plugin boundary, against dense math written here.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "plugin_support.hpp"

using namespace recgrid;

namespace {

const plugin::LoadedPlugin& lightgcn() { return plugin::load_plugin(test::plugin_path("lightgcn")); }

}  // namespace

TEST(LightGCN, EvalEncodingIsTheLayerSumOverTheNormalisedGraph) {
  test::HostContext host(test::tiny_dataset());
  auto model = host.create(lightgcn(), {{"layers", 3}, {"embedding_size", 8}});
  const at::Tensor e0 = model->layer0();
  ASSERT_EQ(e0.sizes(), (at::IntArrayRef{7, 8}));
  const NamedTensors enc = model->encode(RG_MODE_EVAL, nullptr);
  const int64_t V = host.graph.n_nodes;
  const at::Tensor A = at::zeros({V, V}).index_put({host.graph.row, host.graph.col}, host.graph.norm);
  at::Tensor e = e0.detach(), want = e;
  for (int l = 1; l <= 3; ++l) {
    e = A.mm(e);
    want = want + e;
    EXPECT_TRUE(at::allclose(enc.at("layer." + std::to_string(l)), e, 1e-5, 1e-6)) << "layer " << l;
  }
  EXPECT_TRUE(at::allclose(enc.at("final"), want, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(enc.at("user"), want.narrow(0, 0, 3), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(enc.at("item"), want.narrow(0, 3, 4), 1e-5, 1e-6));
}

TEST(LightGCN, TrainingDropsEdgesEvaluationDoesNot) {
  test::HostContext host(test::load_tsv_scientific());
  auto model = host.create(lightgcn(), {{"keep_rate", 0.8}});
  at::manual_seed(1);
  const at::Tensor a = model->encode(RG_MODE_TRAIN, nullptr).at("final");
  const at::Tensor b = model->encode(RG_MODE_TRAIN, nullptr).at("final");
  EXPECT_FALSE(at::allclose(a, b));  // a fresh mask every step
  const at::Tensor c = model->encode(RG_MODE_EVAL, nullptr).at("final");
  EXPECT_TRUE(model->encode(RG_MODE_EVAL, nullptr).at("final").equal(c));
  // Dropout without rescaling: E[S_train] = keep * Â, so layer 1 regresses on its eval value
  // with slope ~ keep_rate (a rescaled dropout would give slope 1).
  const at::Tensor l1_train = model->encode(RG_MODE_TRAIN, nullptr).at("layer.1");
  const at::Tensor l1_eval = model->encode(RG_MODE_EVAL, nullptr).at("layer.1");
  EXPECT_NEAR(((l1_train * l1_eval).sum() / (l1_eval * l1_eval).sum()).item<double>(), 0.8, 0.02);
}

TEST(LightGCN, LossIsBprOnTheFinalEmbeddings) {
  test::HostContext host(test::tiny_dataset());
  auto model = host.create(lightgcn(), {{"keep_rate", 1.0}});
  const NamedTensors enc = model->encode(RG_MODE_TRAIN, nullptr);
  NamedTensors batch;
  batch.add("users", at::tensor({0, 2}, at::kLong));
  batch.add("pos", at::tensor({1, 3}, at::kLong));
  batch.add("neg", at::tensor({2, 0}, at::kLong));
  const NamedTensors terms = model->loss(batch, enc);
  ASSERT_EQ(terms.size(), 1u);
  const at::Tensor U = enc.at("user").detach(), I = enc.at("item").detach();
  double want = 0;
  const int64_t users[] = {0, 2}, pos[] = {1, 3}, neg[] = {2, 0};
  for (int b = 0; b < 2; ++b) {
    const double x = (U[users[b]] * I[neg[b]]).sum().item<double>() - (U[users[b]] * I[pos[b]]).sum().item<double>();
    want += std::log1p(std::exp(x)) / 2;
  }
  EXPECT_NEAR(terms.at("bpr").item<double>(), want, 1e-6);
}

TEST(LightGCN, LayerMeanAndBprWeightForAlphaRec) {
  test::HostContext host(test::tiny_dataset());
  at::manual_seed(4);
  auto sum = host.create(lightgcn(), {{"layers", 2}, {"embedding_size", 8}});
  const at::Tensor e0 = sum->layer0().detach();
  auto mean = host.create(lightgcn(), {{"layers", 2}, {"embedding_size", 8}, {"layer_combination", "mean"}, {"bpr_weight", 0.0}});
  const at::Tensor s = sum->encode(RG_MODE_EVAL, &e0).at("final"), m = mean->encode(RG_MODE_EVAL, &e0).at("final");
  EXPECT_TRUE(at::allclose(m, s / 3, 1e-6, 1e-7));  // (E0 + E1 + E2) / 3
  NamedTensors b;
  b.add("users", at::tensor({0}, at::kLong));
  b.add("pos", at::tensor({1}, at::kLong));
  b.add("neg", at::tensor({2}, at::kLong));
  EXPECT_TRUE(mean->loss(b, mean->encode(RG_MODE_TRAIN, &e0)).empty());
  auto half = host.create(lightgcn(), {{"layers", 2}, {"embedding_size", 8}, {"keep_rate", 1.0}, {"bpr_weight", 0.5}});
  auto full = host.create(lightgcn(), {{"layers", 2}, {"embedding_size", 8}, {"keep_rate", 1.0}});
  EXPECT_NEAR(half->loss(b, half->encode(RG_MODE_TRAIN, &e0)).at("bpr").item<double>(),
              0.5 * full->loss(b, full->encode(RG_MODE_TRAIN, &e0)).at("bpr").item<double>(), 1e-7);
  EXPECT_THROW(host.create(lightgcn(), {{"layer_combination", "max"}}), std::exception);
}
