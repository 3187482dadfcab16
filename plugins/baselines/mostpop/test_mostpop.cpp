// MostPop through its plugin boundary: every user's scores are the items' training counts.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "baseline_support.hpp"

using namespace recgrid;

TEST(MostPop, ScoresAreTrainingPopularityForEveryUser) {
  const data::Dataset ds = test::random_dataset(9, 7, 0.35, 3);
  test::HostContext host(ds);
  auto model = host.create(plugin::load_plugin(test::plugin_path("mostpop")));
  ASSERT_TRUE(model->plugin().is_fitted());
  EXPECT_TRUE(model->fit().empty());  // one step: no sweeps to report
  const at::Tensor want = test::dense_x(ds).sum(0).unsqueeze(0).expand({9, 7});
  EXPECT_TRUE(at::equal(test::all_scores(*model, 9, 7), want));
  EXPECT_TRUE(at::equal(model->score(at::tensor({4, 1}, at::kLong), 2, 5).to(at::kDouble), want.narrow(0, 0, 2).narrow(1, 2, 3)));
}
