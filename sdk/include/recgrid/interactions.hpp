// What fitted models (the baselines in plugins/baselines) share: the training interactions as CSR
// (users -> items, items -> users), item neighbourhoods (sparse item x item rows), and scoring a tile
// of users x items from them without a users x items matrix: score(u, j) = sum over the user's
// training items i of W[i, j].
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <utility>
#include <vector>

#include "recgrid/sdk.hpp"

namespace recgrid::baselines {

// A 0/1 matrix by rows: row r's columns are idx[ptr[r] .. ptr[r+1]), ascending, each once.
struct Csr {
  std::vector<int64_t> ptr, idx;
  int64_t rows() const { return static_cast<int64_t>(ptr.size()) - 1; }
  const int64_t* begin(int64_t r) const { return idx.data() + ptr[r]; }
  const int64_t* end(int64_t r) const { return idx.data() + ptr[r + 1]; }
  int64_t degree(int64_t r) const { return ptr[r + 1] - ptr[r]; }
};

// Rows of (row, col) pairs (duplicates kept once).
inline Csr csr_of(const at::Tensor& rows_t, const at::Tensor& cols_t, int64_t n_rows) {
  const at::Tensor r = rows_t.to(at::kCPU, at::kLong).contiguous(), c = cols_t.to(at::kCPU, at::kLong).contiguous();
  const int64_t* rp = r.data_ptr<int64_t>();
  const int64_t* cp = c.data_ptr<int64_t>();
  std::vector<std::pair<int64_t, int64_t>> pairs(static_cast<size_t>(r.numel()));
  for (size_t k = 0; k < pairs.size(); ++k) pairs[k] = {rp[k], cp[k]};
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  Csr m;
  m.ptr.assign(static_cast<size_t>(n_rows) + 1, 0);
  m.idx.reserve(pairs.size());
  for (const auto& [row, col] : pairs) {
    ++m.ptr[static_cast<size_t>(row) + 1];
    m.idx.push_back(col);
  }
  std::partial_sum(m.ptr.begin(), m.ptr.end(), m.ptr.begin());
  return m;
}

inline Csr user_items(const Context& ctx) { return csr_of(ctx.train_user, ctx.train_item, ctx.n_users); }
inline Csr item_users(const Context& ctx) { return csr_of(ctx.train_item, ctx.train_user, ctx.n_items); }

// A sparse item x item matrix by rows (row i: columns col[ptr[i] ..), weights val[...]).
struct SparseRows {
  std::vector<int64_t> ptr, col;
  std::vector<float> val;
};

// Row i of the weighted co-occurrence, for every item i: acc[j] = sum over users u of both i and j of
// user_weight[u], handed to `row_done(i, touched js, acc)` (acc is zeroed again afterwards). Rows are
// independent and each sums its users in id order: the result does not depend on the thread count.
inline void for_each_cooccurrence_row(const Csr& by_user, const Csr& by_item, const std::vector<double>& user_weight,
                                      const std::function<void(int64_t, const std::vector<int64_t>&, std::vector<double>&)>& row_done) {
  const int64_t n_items = by_item.rows();
  at::parallel_for(0, n_items, 64, [&](int64_t i0, int64_t i1) {
    std::vector<double> acc(static_cast<size_t>(n_items), 0.0);
    // Membership apart from the sum: a weight that is 0 (RP3beta's (1/n_u)^alpha underflows at a large
    // alpha) would otherwise list an item once per such user.
    std::vector<char> seen(static_cast<size_t>(n_items), 0);
    std::vector<int64_t> touched;
    for (int64_t i = i0; i < i1; ++i) {
      touched.clear();
      for (const int64_t* u = by_item.begin(i); u != by_item.end(i); ++u)
        for (const int64_t* j = by_user.begin(*u); j != by_user.end(*u); ++j) {
          if (!seen[static_cast<size_t>(*j)]) seen[static_cast<size_t>(*j)] = 1, touched.push_back(*j);
          acc[*j] += user_weight[*u];
        }
      std::sort(touched.begin(), touched.end());
      row_done(i, touched, acc);
      for (int64_t j : touched) acc[j] = 0.0, seen[static_cast<size_t>(j)] = 0;
    }
  });
}

// The k largest (weight, lowest index first on ties) of candidates `js` with weights w(j), i excluded.
inline std::vector<std::pair<int64_t, double>> top_k(int64_t i, const std::vector<int64_t>& js,
                                                      const std::function<double(int64_t)>& w, int64_t k) {
  std::vector<std::pair<int64_t, double>> c;
  c.reserve(js.size());
  for (int64_t j : js)
    if (j != i) c.emplace_back(j, w(j));
  const auto better = [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); };
  const size_t keep = std::min(c.size(), static_cast<size_t>(k));
  std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(keep), c.end(), better);
  c.resize(keep);
  std::sort(c.begin(), c.end());  // by column
  return c;
}

// Rows from per-row lists (row i: lists[i], by column).
inline SparseRows rows_of(const std::vector<std::vector<std::pair<int64_t, double>>>& lists) {
  SparseRows w;
  w.ptr.assign(lists.size() + 1, 0);
  for (size_t i = 0; i < lists.size(); ++i) {
    w.ptr[i + 1] = w.ptr[i] + static_cast<int64_t>(lists[i].size());
    for (const auto& [j, v] : lists[i]) {
      w.col.push_back(j);
      w.val.push_back(static_cast<float>(v));
    }
  }
  return w;
}

// The transpose: list j of the result holds (i, v) for every (j, v) in list i.
inline std::vector<std::vector<std::pair<int64_t, double>>> transpose(
    const std::vector<std::vector<std::pair<int64_t, double>>>& lists) {
  std::vector<std::vector<std::pair<int64_t, double>>> t(lists.size());
  for (size_t i = 0; i < lists.size(); ++i)
    for (const auto& [j, v] : lists[i]) t[static_cast<size_t>(j)].emplace_back(static_cast<int64_t>(i), v);
  return t;  // each list by column already (rows visited in order)
}

// Scores of `users` for items [lo, hi): sum of rows W[i] over each user's training items i, as a
// sparse x sparse product per user (float [B x (hi - lo)]).
inline at::Tensor score_rows(const Csr& x, const SparseRows& w, const at::Tensor& users, int64_t lo, int64_t hi) {
  const at::Tensor u = users.to(at::kCPU, at::kLong).contiguous();
  const int64_t b = u.numel(), n = hi - lo;
  at::Tensor out = at::zeros({b, n}, at::kFloat);
  float* s = out.data_ptr<float>();
  const int64_t* up = u.data_ptr<int64_t>();
  at::parallel_for(0, b, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (const int64_t* i = x.begin(up[r]); i != x.end(up[r]); ++i) {
        const int64_t first = w.ptr[*i], last = w.ptr[*i + 1];
        const int64_t* c = std::lower_bound(w.col.data() + first, w.col.data() + last, lo);
        for (; c != w.col.data() + last && *c < hi; ++c) s[r * n + (*c - lo)] += w.val[c - w.col.data()];
      }
  });
  return out;
}

// The same with a dense W [N x N] (EASE^R's B): row slices summed per user.
inline at::Tensor score_dense_rows(const Csr& x, const at::Tensor& w, const at::Tensor& users, int64_t lo, int64_t hi) {
  const at::Tensor u = users.to(at::kCPU, at::kLong).contiguous();
  const int64_t b = u.numel(), n = hi - lo, n_cols = w.size(1);
  TORCH_CHECK(w.is_contiguous() && w.scalar_type() == at::kFloat, "score_dense_rows: W must be a contiguous float matrix");
  at::Tensor out = at::zeros({b, n}, at::kFloat);
  float* s = out.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  const int64_t* up = u.data_ptr<int64_t>();
  at::parallel_for(0, b, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (const int64_t* i = x.begin(up[r]); i != x.end(up[r]); ++i) {
        const float* row = wp + *i * n_cols + lo;
        float* dst = s + r * n;
        for (int64_t j = 0; j < n; ++j) dst[j] += row[j];
      }
  });
  return out;
}

// A sparse item x item matrix as buffers (its state in the run folder).
inline void register_rows(const SparseRows& w, const std::function<void(std::string, at::Tensor)>& reg) {
  const auto n_rows = static_cast<int64_t>(w.ptr.size());
  reg("neighbours.rowptr", at::from_blob(const_cast<int64_t*>(w.ptr.data()), {n_rows}, at::kLong).clone());
  reg("neighbours.col", at::from_blob(const_cast<int64_t*>(w.col.data()), {static_cast<int64_t>(w.col.size())}, at::kLong).clone());
  reg("neighbours.weight", at::from_blob(const_cast<float*>(w.val.data()), {static_cast<int64_t>(w.val.size())}, at::kFloat).clone());
}

}  // namespace recgrid::baselines
