// text.reduce_dim: principal components of a text table (data/pca.hpp) and their use by the loader.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "data/npy.hpp"
#include "data/pca.hpp"
#include "train/text_inputs.hpp"

using namespace recgrid;

namespace {

// A table with a known decomposition: X = 1 c^T + U diag(s) V^T, with U's columns orthonormal and
// centred (so they are the principal directions' scores up to scale) and V's columns orthonormal.
struct Planted {
  at::Tensor table, u, v, s;
};

Planted planted(int64_t rows, int64_t cols, std::vector<double> strengths) {
  at::manual_seed(7);
  const int64_t r = static_cast<int64_t>(strengths.size());
  at::Tensor a = at::randn({rows, r}, at::kDouble);
  a = a - a.mean(0, true);
  const at::Tensor u = std::get<0>(at::linalg_qr(a));  // combinations of centred columns stay centred
  const at::Tensor v = std::get<0>(at::linalg_qr(at::randn({cols, r}, at::kDouble)));
  const at::Tensor s = at::tensor(strengths, at::kDouble);
  const at::Tensor offset = at::randn({1, cols}, at::kDouble) * 3;
  return {(offset + (u * s).matmul(v.t())).to(at::kFloat), u, v, s};
}

// Expected scores: column k is u_k s_k, signed so that the axis v_k has its largest entry positive.
at::Tensor expected_scores(const Planted& p, int64_t n) {
  at::Tensor out = at::empty({p.u.size(0), n}, at::kDouble);
  for (int64_t k = 0; k < n; ++k) {
    const at::Tensor axis = p.v.select(1, k);
    const double sign = axis[axis.abs().argmax().item<int64_t>()].item<double>() < 0 ? -1.0 : 1.0;
    out.select(1, k).copy_(p.u.select(1, k) * p.s[k] * sign);
  }
  return out.to(at::kFloat);
}

void expect_recovers(int64_t rows, int64_t cols) {
  const Planted p = planted(rows, cols, {5.0, 3.0, 1.0});
  const data::Pca pca = data::principal_components(p.table, 2);
  ASSERT_EQ(pca.scores.sizes(), (at::IntArrayRef{rows, 2}));
  EXPECT_TRUE(at::allclose(pca.scores, expected_scores(p, 2), 1e-4, 1e-4)) << pca.scores << expected_scores(p, 2);
  EXPECT_NEAR(pca.explained, (25.0 + 9.0) / (25.0 + 9.0 + 1.0), 1e-5);
}

}  // namespace

TEST(Pca, RecoversAPlantedDecompositionTall) { expect_recovers(12, 5); }

TEST(Pca, RecoversAPlantedDecompositionWide) { expect_recovers(5, 16); }  // solved on the rows x rows side

TEST(Pca, RejectsAWidthItCannotReduceTo) {
  const at::Tensor t = at::randn({6, 4});
  EXPECT_THROW(data::principal_components(t, 4), std::invalid_argument);
  EXPECT_THROW(data::principal_components(t, 0), std::invalid_argument);
  EXPECT_THROW(data::principal_components(at::randn({3, 8}), 4), std::invalid_argument);
}

TEST(Pca, TheLoaderReducesAnyWidthTablesOnceAndKeepsFixedWidthOnes) {
  const Planted p = planted(4, 6, {2.0, 1.0, 0.5});
  data::FloatTable t{4, 6, std::vector<float>(p.table.data_ptr<float>(), p.table.data_ptr<float>() + 24)};
  const std::string path = ::testing::TempDir() + "/pca_items.npy";
  data::write_table_npy(path, t);
  const rg_input_spec any_width[] = {{"a", RG_ROWS_ITEMS, 0, ""}, {"b", RG_ROWS_ITEMS, 0, ""}};
  std::vector<std::string> reports;
  const train::TextReduction reduce{2, [&](const std::string& line) { reports.push_back(line); }};
  train::TableCache cache;
  const NamedTensors got =
      train::load_text_inputs("probe", any_width, 2, {{"a", path}, {"b", path}}, 3, 4, at::kCPU, cache, reduce);
  EXPECT_TRUE(at::allclose(got.at("a"), expected_scores(p, 2), 1e-4, 1e-4));
  EXPECT_TRUE(got.at("a").is_same(got.at("b")));  // one PCA for one file
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("PCA 6 -> 2 columns"), std::string::npos) << reports[0];

  const rg_input_spec fixed[] = {{"a", RG_ROWS_ITEMS, 6, ""}};
  EXPECT_EQ(train::load_text_inputs("probe", fixed, 1, {{"a", path}}, 3, 4, at::kCPU, cache, reduce).at("a").size(1), 6);
  const train::TextReduction too_many{5, nullptr};  // 5 < 6 columns but more than the 4 rows
  train::TableCache fresh;
  try {
    train::load_text_inputs("probe", any_width, 1, {{"a", path}}, 3, 4, at::kCPU, fresh, too_many);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("text.reduce_dim 5 exceeds the table's 4 rows"), std::string::npos) << e.what();
  }
}
