// EASE^R through its plugin boundary, against its closed form computed densely (double) here.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "baseline_support.hpp"

using namespace recgrid;

TEST(EASE, BIsTheClosedFormWithAZeroDiagonal) {
  const data::Dataset ds = test::random_dataset(30, 12, 0.3, 4);
  test::HostContext host(ds);
  auto model = host.create(plugin::load_plugin(test::plugin_path("ease")), {{"lambda", 3.0}});
  model->fit();
  const at::Tensor x = test::dense_x(ds);
  const at::Tensor p = at::inverse(x.t().mm(x) + 3.0 * at::eye(12, at::kDouble));
  at::Tensor b = at::eye(12, at::kDouble) - p / p.diagonal().unsqueeze(0);  // B = I - P diag(1/diag(P))
  const at::Tensor got = model->buffers().at("B").to(at::kDouble);
  EXPECT_TRUE(at::allclose(got.diagonal(), at::zeros({12}, at::kDouble), 0, 1e-6));
  EXPECT_TRUE(at::allclose(got, b, 1e-4, 1e-6));
  // The scores are X B with the plugin's own B (sums of float rows; B's float rounding is checked above:
  // summed with cancellation it can exceed a tolerance relative to the small sums).
  EXPECT_TRUE(at::allclose(test::all_scores(*model, 30, 12), x.mm(got), 1e-5, 1e-5));
  // The plugin's B minimises |X - XB|^2 + lambda |B|^2 under diag(B) = 0: the gradient is 0 off the diagonal.
  const at::Tensor grad = x.t().mm(x.mm(got) - x) + 3.0 * got;
  EXPECT_LT((grad - at::diag(grad.diagonal())).abs().max().item<double>(), 1e-4);
}
