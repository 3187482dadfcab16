// Shared numeric building blocks of ALGORITHMS.md §0, implemented once in librecgrid_core.
// Every function is device-agnostic; spmm has a hand-written CPU kernel and a generic fallback.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "recgrid/graph.hpp"

namespace recgrid::ops {

// out[r] = sum over entries e of row r of values[e] * x[col[e]]   (sparse [V x V] times dense [V x d]).
// Differentiable in x and in values (adaptive masks need the latter).
at::Tensor spmm(const Graph& graph, const at::Tensor& values, const at::Tensor& x);

// L propagation layers E^{l+1} = S E^l with S = (graph, values), and their sum, in one fused
// autograd function: returns {sum_{l=0..L} E^l, E^1, ..., E^L}. Same math as L spmm calls and L
// additions, with fewer passes over [V x d] tensors in forward and backward.
std::vector<at::Tensor> propagate(const Graph& graph, const at::Tensor& values, const at::Tensor& e0, int64_t layers);

// Drop_p (ALGORITHMS.md §0): keep each entry with probability keep_rate, values unchanged
// (no rescaling); keep_rate >= 1 returns `values` itself.
at::Tensor drop_edges(const at::Tensor& values, double keep_rate);

// Xavier-uniform init of a [rows x cols] table: U(-a, a), a = sqrt(6 / (rows + cols)).
at::Tensor xavier_uniform(int64_t rows, int64_t cols, const at::TensorOptions& options);

// BPR(u, p, n) = mean_b softplus(n_b.u_b - p_b.u_b).
at::Tensor bpr_loss(const at::Tensor& users, const at::Tensor& pos, const at::Tensor& neg);

}  // namespace recgrid::ops
