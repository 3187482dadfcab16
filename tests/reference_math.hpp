// Independent, dense re-statements of ALGORITHMS.md §0 for the tests (plain tensor ops, small sizes).
#pragma once

#include <ATen/ATen.h>

#include "recgrid/graph.hpp"

namespace recgrid::test {

inline at::Tensor dense(const Graph& g, const at::Tensor& values) {
  return at::zeros({g.n_nodes, g.n_nodes}, values.options()).index_put({g.row, g.col}, values);
}

// NCE_A with the full similarity matrix.
inline at::Tensor ref_nce_a(const at::Tensor& x, const at::Tensor& y, const at::Tensor& all, double tau) {
  auto nrm = [](const at::Tensor& t) { return t / (t.pow(2).sum(1, true) + 1e-8).sqrt(); };
  const at::Tensor xn = nrm(x), yn = nrm(y), an = nrm(all);
  return (-(xn * yn).sum(1) / tau + (xn.mm(an.t()) / tau).exp().sum(1).log()).sum();
}

// NCE_B / NCE_C.
inline at::Tensor ref_nce_b(const at::Tensor& x, const at::Tensor& y, double tau) {
  auto nrm = [](const at::Tensor& t) { return t / t.norm(2, 1, true).clamp_min(1e-12); };
  const at::Tensor s = (nrm(x).mm(nrm(y).t()) / tau).exp();
  return -(s.diagonal() / (s.sum(1) + 1e-8) + 1e-8).log().mean();
}

inline at::Tensor ref_bpr(const at::Tensor& u, const at::Tensor& p, const at::Tensor& n) {
  return at::log1p(((n - p) * u).sum(1).exp()).mean();
}

// AM(X) as a dense matrix: alpha_ht = (cos + 1) / 2 on edges, rows normalised.
inline at::Tensor ref_adaptive_mask(const Graph& g, const at::Tensor& x) {
  const at::Tensor xn = x / x.norm(2, 1, true).clamp_min(1e-12);
  const at::Tensor edges = dense(g, at::ones({g.n_edges()}, x.options()));
  const at::Tensor alpha = (xn.mm(xn.t()) + 1) / 2 * edges;
  return alpha / alpha.sum(1, true).clamp_min(1e-30);
}

inline at::Tensor ref_intents(const at::Tensor& x, const at::Tensor& c) { return (x.mm(c)).softmax(1).mm(c.t()); }

// Gradients of `loss` with respect to `params`, without touching their .grad.
inline std::vector<at::Tensor> grads(const at::Tensor& loss, const std::vector<at::Tensor>& params) {
  return torch::autograd::grad({loss}, params, {}, /*retain_graph=*/true, false, /*allow_unused=*/true);
}

}  // namespace recgrid::test
