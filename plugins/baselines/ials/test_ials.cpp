// iALS through its plugin boundary: the objective falls every sweep, the reported objective is the
// dense loss, and the last item sweep is the weighted least-squares solve written densely here.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "baseline_support.hpp"

using namespace recgrid;

namespace {

constexpr double kAlpha = 0.3, kReg = 0.05, kNu = 1.0;

std::unique_ptr<plugin::Instance> fitted(test::HostContext& host, int64_t sweeps, NamedTensors& out) {
  at::manual_seed(7);
  auto model = host.create(plugin::load_plugin(test::plugin_path("ials")),
                           {{"factors", 3}, {"iterations", sweeps}, {"alpha0", kAlpha}, {"reg", kReg}, {"nu", kNu}, {"init_std", 1.0}});
  out = model->fit();
  return model;
}

}  // namespace

TEST(iALS, TheObjectiveFallsEverySweepAndIsTheDenseLoss) {
  const data::Dataset ds = test::random_dataset(8, 6, 0.35, 9);
  test::HostContext host(ds);
  NamedTensors out;
  auto model = fitted(host, 6, out);
  const at::Tensor loss = out.at("sweep.loss");
  ASSERT_EQ(loss.numel(), 6);
  for (int64_t s = 1; s < 6; ++s) EXPECT_LT(loss[s].item<double>(), loss[s - 1].item<double>()) << "sweep " << s;
  // The loss written out: weights 1 + alpha0 on observed pairs (target 1 / (1 + alpha0)) and alpha0 elsewhere
  // is the same objective up to a constant; here it is the plain form of Rendle et al.
  const at::Tensor x = test::dense_x(ds);
  const at::Tensor w = model->buffers().at("user_factors").to(at::kDouble), h = model->buffers().at("item_factors").to(at::kDouble);
  const at::Tensor y = w.mm(h.t());
  double want = ((y - 1).pow(2) * x).sum().item<double>() + kAlpha * y.pow(2).sum().item<double>();
  want += kReg * ((x.sum(1) + kAlpha * 6).pow(kNu) * w.pow(2).sum(1)).sum().item<double>();
  want += kReg * ((x.sum(0) + kAlpha * 8).pow(kNu) * h.pow(2).sum(1)).sum().item<double>();
  EXPECT_NEAR(loss[5].item<double>(), want, 1e-6 * want);
  EXPECT_TRUE(at::allclose(test::all_scores(*model, 8, 6), y, 1e-5, 1e-6));
}

TEST(iALS, TheItemSweepIsTheExactWeightedLeastSquaresSolve) {
  const data::Dataset ds = test::random_dataset(8, 6, 0.35, 12);
  test::HostContext host(ds);
  NamedTensors out;
  auto model = fitted(host, 2, out);
  const at::Tensor x = test::dense_x(ds);
  const at::Tensor w = model->buffers().at("user_factors").to(at::kDouble), h = model->buffers().at("item_factors").to(at::kDouble);
  // Hu et al.'s form: confidence c_ui = 1 + alpha0 (observed) or alpha0, preference p_ui = 1 / (1 + alpha0)
  // or 0: h_i = (W^T C_i W + lambda_i I)^-1 W^T C_i p_i, solved one item at a time.
  for (int64_t i = 0; i < 6; ++i) {
    const at::Tensor c = x.select(1, i) + kAlpha, p = x.select(1, i) / (1 + kAlpha);
    const double lambda_i = kReg * std::pow(x.select(1, i).sum().item<double>() + kAlpha * 8, kNu);
    const at::Tensor a = w.t().mm(w * c.unsqueeze(1)) + lambda_i * at::eye(3, at::kDouble);
    const at::Tensor want = at::linalg_solve(a, w.t().mv(c * p));
    EXPECT_TRUE(at::allclose(h[i], want, 1e-4, 1e-5)) << "item " << i << ": " << h[i] << " vs " << want;
  }
}
