// DCCF (ALGORITHMS.md §2.4): the layer recursion and the loss against a dense re-implementation.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "plugin_support.hpp"
#include "reference_math.hpp"

using namespace recgrid;

TEST(DCCF, EncodingAndLossMatchADenseReimplementation) {
  test::HostContext host(test::tiny_dataset());
  const double tau = 0.25, w = 0.01;
  auto model = host.create(plugin::load_plugin(test::plugin_path("dccf")),
                           {{"layers", 2}, {"intents", 5}, {"cl_weight", w}, {"temperature", tau}, {"chunk", 2}});
  const NamedTensors params = model->parameters();
  const at::Tensor &U = params.at("user_emb"), &I = params.at("item_emb"), &Cu = params.at("user_intents"),
                   &Ci = params.at("item_intents");
  const int64_t M = host.ds.n_users;
  const at::Tensor A = test::dense(host.graph, host.graph.norm);

  // Dense reference of the recursion, layer by layer.
  at::Tensor e = at::cat({U, I}), sum = e;
  std::vector<std::array<at::Tensor, 4>> z;  // zg, zc, zga, zia per layer
  for (int l = 0; l < 2; ++l) {
    const at::Tensor zg = A.mm(e);
    const at::Tensor zc = at::cat({test::ref_intents(e.narrow(0, 0, M), Cu), test::ref_intents(e.narrow(0, M, 4), Ci)});
    const at::Tensor zga = test::ref_adaptive_mask(host.graph, zg).mm(e);
    const at::Tensor zia = test::ref_adaptive_mask(host.graph, zc).mm(e);
    z.push_back({zg, zc, zga, zia});
    e = zg + zc + zga + zia + e;
    sum = sum + e;
  }
  const NamedTensors enc = model->encode(RG_MODE_TRAIN, nullptr);
  EXPECT_TRUE(at::allclose(enc.at("final"), sum, 1e-4, 1e-6));
  EXPECT_TRUE(at::allclose(enc.at("zia.1"), z[1][3], 1e-4, 1e-6));

  NamedTensors b;
  b.add("users", at::tensor({0, 2, 2, 0}, at::kLong));  // duplicates: unique users {0, 2}
  b.add("pos", at::tensor({1, 3, 1, 0}, at::kLong));    // unique items {0, 1, 3}
  b.add("neg", at::tensor({3, 0, 0, 2}, at::kLong));
  const NamedTensors terms = model->loss(b, enc);
  const at::Tensor uq = at::tensor({0, 2}, at::kLong), iq = at::tensor({0, 1, 3}, at::kLong) + M;
  at::Tensor cl = at::zeros({});
  for (const auto& layer : z)
    for (int v = 1; v < 4; ++v)
      for (const at::Tensor& nodes : {uq, iq}) {
        const at::Tensor xs = layer[v].index_select(0, nodes);
        cl = cl + test::ref_nce_a(layer[0].index_select(0, nodes), xs, xs, tau);
      }
  cl = cl * (w / 2.0);  // divided by the number of unique users
  const at::Tensor bpr = test::ref_bpr(sum.index_select(0, b.at("users")), sum.index_select(0, b.at("pos") + M),
                                       sum.index_select(0, b.at("neg") + M));
  EXPECT_NEAR(terms.at("bpr").item<double>(), bpr.item<double>(), 1e-5);
  EXPECT_NEAR(terms.at("cl").item<double>(), cl.item<double>(), 1e-5);
  const std::vector<at::Tensor> p{U, I, Cu, Ci};
  const auto got = test::grads(terms.at("bpr") + terms.at("cl"), p);
  const auto want = test::grads(bpr + cl, p);
  for (size_t k = 0; k < p.size(); ++k) EXPECT_TRUE(at::allclose(got[k], want[k], 1e-3, 1e-6)) << k;
}
