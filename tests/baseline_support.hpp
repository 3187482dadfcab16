// Test helpers shared by the baselines' tests: a small random training matrix, its dense 0/1 form,
// every score of a fitted model, and a sparse item x item buffer as a dense matrix.
#pragma once

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <memory>
#include <random>
#include <string>

#include "plugin_support.hpp"

namespace recgrid::test {

// `users` x `items`, each pair a training interaction with probability `density` (every user and
// every item has at least one), drawn from `seed`.
inline data::Dataset random_dataset(int64_t users, int64_t items, double density, uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution take(density);
  data::Dataset ds;
  ds.name = "random";
  ds.n_users = users;
  ds.n_items = items;
  std::vector<char> x(static_cast<size_t>(users * items), 0);
  for (int64_t u = 0; u < users; ++u)
    for (int64_t i = 0; i < items; ++i) x[u * items + i] = take(rng);
  for (int64_t k = 0; k < std::max(users, items); ++k) x[(k % users) * items + (k % items)] = 1;
  for (int64_t u = 0; u < users; ++u)
    for (int64_t i = 0; i < items; ++i)
      if (x[u * items + i]) ds.train.user.push_back(u), ds.train.item.push_back(i);
  ds.valid.user = {0};
  ds.valid.item = {0};
  ds.test.user = {0};
  ds.test.item = {0};
  return ds;
}

// The training matrix X as dense 0/1 doubles [users x items].
inline at::Tensor dense_x(const data::Dataset& ds) {
  at::Tensor x = at::zeros({ds.n_users, ds.n_items}, at::kDouble);
  for (size_t k = 0; k < ds.train.size(); ++k) x[ds.train.user[k]][ds.train.item[k]] = 1.0;
  return x;
}

// Every user's score of every item, asked in two item tiles (the host asks tile by tile).
inline at::Tensor all_scores(plugin::Instance& model, int64_t users, int64_t items) {
  const at::Tensor all = at::arange(users, at::kLong);
  const int64_t half = items / 2;
  return at::cat({model.score(all, 0, half), model.score(all, half, items)}, 1).to(at::kDouble);
}

// The buffers "neighbours.rowptr/col/weight" as a dense [items x items] matrix.
inline at::Tensor dense_neighbours(const NamedTensors& buffers, int64_t items) {
  const at::Tensor ptr = buffers.at("neighbours.rowptr"), col = buffers.at("neighbours.col");
  const at::Tensor val = buffers.at("neighbours.weight").to(at::kDouble);
  at::Tensor w = at::zeros({items, items}, at::kDouble);
  for (int64_t i = 0; i < items; ++i)
    for (int64_t e = ptr[i].item<int64_t>(); e < ptr[i + 1].item<int64_t>(); ++e)
      w[i][col[e].item<int64_t>()] = val[e].item<double>();
  return w;
}

// Row r of `kept` (a top-k selection of `full`'s rows, diagonal excluded) keeps min(k, candidates)
// entries, and every kept value is at least every dropped candidate's (ties may go either way).
inline void expect_top_k_rows(const at::Tensor& kept, const at::Tensor& full, int64_t k, const std::string& what) {
  for (int64_t r = 0; r < full.size(0); ++r) {
    double min_kept = 1e300, max_dropped = -1e300;
    int64_t n_kept = 0, candidates = 0;
    for (int64_t c = 0; c < full.size(1); ++c) {
      if (c == r || full[r][c].item<double>() == 0.0) continue;
      ++candidates;
      if (kept[r][c].item<double>() != 0.0) ++n_kept, min_kept = std::min(min_kept, full[r][c].item<double>());
      else max_dropped = std::max(max_dropped, full[r][c].item<double>());
    }
    EXPECT_EQ(n_kept, std::min(k, candidates)) << what << " row " << r;
    EXPECT_GE(min_kept, max_dropped - 1e-9) << what << " row " << r;
  }
}

}  // namespace recgrid::test
