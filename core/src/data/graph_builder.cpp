#include "data/graph_builder.hpp"

#include <ATen/ATen.h>

#include <cmath>

namespace recgrid::data {

namespace {

at::Tensor to_tensor(const std::vector<int64_t>& v, const at::Device& device) {
  return at::tensor(v, at::kLong).to(device);
}

}  // namespace

Graph build_graph(const Dataset& ds, const at::Device& device) {
  const int64_t M = ds.n_users, N = ds.n_items, V = M + N;
  // Items' user lists come from the same index type with the roles swapped.
  const UserItemIndex by_user(ds.train, M);
  Interactions swapped{ds.train.item, ds.train.user};
  const UserItemIndex by_item(swapped, N);

  std::vector<int64_t> rowptr(V + 1, 0), row, col;
  row.reserve(2 * ds.train.size());
  col.reserve(2 * ds.train.size());
  for (int64_t u = 0; u < M; ++u) {  // rows are visited in order and each row's columns are sorted
    for (const int64_t* i = by_user.begin(u); i != by_user.end(u); ++i) row.push_back(u), col.push_back(M + *i);
    rowptr[u + 1] = static_cast<int64_t>(row.size());
  }
  for (int64_t i = 0; i < N; ++i) {
    for (const int64_t* u = by_item.begin(i); u != by_item.end(i); ++u) row.push_back(M + i), col.push_back(*u);
    rowptr[M + i + 1] = static_cast<int64_t>(row.size());
  }
  const int64_t E = static_cast<int64_t>(row.size());

  std::vector<float> norm(E);
  for (int64_t e = 0; e < E; ++e) {
    const double dr = static_cast<double>(rowptr[row[e] + 1] - rowptr[row[e]]);
    const double dc = static_cast<double>(rowptr[col[e] + 1] - rowptr[col[e]]);
    norm[e] = static_cast<float>(1.0 / std::sqrt(dr * dc));  // both > 0: every entry has an endpoint of each
  }

  // Transpose: a stable counting sort of the entries by column.
  std::vector<int64_t> t_rowptr(V + 1, 0), t_perm(E), t_col(E);
  for (int64_t e = 0; e < E; ++e) ++t_rowptr[col[e] + 1];
  for (int64_t v = 0; v < V; ++v) t_rowptr[v + 1] += t_rowptr[v];
  std::vector<int64_t> fill(t_rowptr.begin(), t_rowptr.end() - 1);
  for (int64_t e = 0; e < E; ++e) t_perm[fill[col[e]]++] = e;
  for (int64_t k = 0; k < E; ++k) t_col[k] = row[t_perm[k]];

  Graph g;
  g.n_nodes = V;
  g.rowptr = to_tensor(rowptr, device);
  g.row = to_tensor(row, device);
  g.col = to_tensor(col, device);
  g.norm = at::tensor(norm, at::kFloat).to(device);
  g.t_rowptr = to_tensor(t_rowptr, device);
  g.t_col = to_tensor(t_col, device);
  g.t_perm = to_tensor(t_perm, device);
  return g;
}

NamedTensors graph_tensors(const Graph& graph, const Dataset& ds, const at::Device& device) {
  NamedTensors t;
  t.add("adj.rowptr", graph.rowptr);
  t.add("adj.row", graph.row);
  t.add("adj.col", graph.col);
  t.add("adj.norm", graph.norm);
  t.add("adj.t_rowptr", graph.t_rowptr);
  t.add("adj.t_col", graph.t_col);
  t.add("adj.t_perm", graph.t_perm);
  t.add("train.user", to_tensor(ds.train.user, device));
  t.add("train.item", to_tensor(ds.train.item, device));
  return t;
}

}  // namespace recgrid::data
