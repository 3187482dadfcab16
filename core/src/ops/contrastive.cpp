// Contrastive losses, intent aggregation and adaptive masks (ALGORITHMS.md §0). Everything here is
// built from device-agnostic tensor operations; the all-users / all-items denominators are streamed
// in chunks with a custom backward so memory never grows with B x N.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <limits>

#include "recgrid/ops.hpp"

namespace recgrid::ops {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Scores of one block of keys, scaled: inv_tau * q k_c^T, written into `buf` when it fits.
at::Tensor block_scores(const at::Tensor& q, const at::Tensor& kc, double inv_tau, at::Tensor& buf) {
  at::Tensor s = kc.size(0) == buf.size(1) ? at::mm_out(buf, q, kc.t()) : q.mm(kc.t());
  return inv_tau == 1.0 ? s : s.mul_(inv_tau);
}

class LogSumExpSimilarity : public torch::autograd::Function<LogSumExpSimilarity> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, double inv_tau,
                            int64_t chunk) {
    at::NoGradGuard no_grad;
    const int64_t n = k.size(0);
    at::Tensor buf = at::empty({q.size(0), std::min(chunk, n)}, q.options());
    // |score| <= inv_tau * max|q| * max|k|: below ~80, exp cannot overflow in fp32, so the sum of
    // exponentials is accumulated directly (one in-place pass per block, as REF computes it);
    // otherwise a max-shifted log-sum-exp per block.
    const double bound = inv_tau * q.norm(2, 1).max().item<double>() * k.norm(2, 1).max().item<double>();
    at::Tensor lse;
    if (bound < 80.0) {
      at::Tensor total = at::zeros({q.size(0)}, q.options());
      for (int64_t start = 0; start < n; start += chunk)
        total.add_(block_scores(q, k.narrow(0, start, std::min(chunk, n - start)), inv_tau, buf).exp_().sum(1));
      lse = total.log_();
    } else {
      lse = at::full({q.size(0)}, -std::numeric_limits<double>::infinity(), q.options());
      for (int64_t start = 0; start < n; start += chunk)
        lse = at::logaddexp(lse, block_scores(q, k.narrow(0, start, std::min(chunk, n - start)), inv_tau, buf).logsumexp(1));
    }
    ctx->save_for_backward({q, k, lse});
    ctx->saved_data["inv_tau"] = inv_tau;
    ctx->saved_data["chunk"] = chunk;
    return lse;
  }

  // d lse_b / d q_b = inv_tau * sum_j p_bj k_j,  d lse_b / d k_j = inv_tau * p_bj q_b,  p = softmax.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const at::Tensor &q = s[0], &k = s[1], &lse = s[2];
    const double inv_tau = ctx->saved_data["inv_tau"].toDouble();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const int64_t n = k.size(0);
    const at::Tensor g = grads[0].unsqueeze(1) * inv_tau;
    const at::Tensor shift = lse.unsqueeze(1);
    at::Tensor buf = at::empty({q.size(0), std::min(chunk, n)}, q.options());
    at::Tensor grad_q = at::zeros_like(q), grad_k = at::empty_like(k);
    for (int64_t start = 0; start < n; start += chunk) {
      const int64_t m = std::min(chunk, n - start);
      const at::Tensor kc = k.narrow(0, start, m);
      const at::Tensor p = block_scores(q, kc, inv_tau, buf).sub_(shift).exp_().mul_(g);
      grad_q.addmm_(p, kc);
      at::Tensor rows = grad_k.narrow(0, start, m);
      at::mm_out(rows, p.t(), q);
    }
    return {grad_q, grad_k, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor normalize_rows_eps(const at::Tensor& x) { return x / (x.pow(2).sum(1, true) + 1e-8).sqrt(); }

at::Tensor logsumexp_similarity(const at::Tensor& q, const at::Tensor& k, double inv_tau, int64_t chunk) {
  TORCH_CHECK(q.dim() == 2 && k.dim() == 2 && q.size(1) == k.size(1), "logsumexp_similarity: q ", q.sizes(),
              " and k ", k.sizes(), " must be [B x d] and [N x d]");
  TORCH_CHECK(chunk > 0, "logsumexp_similarity: chunk must be positive");
  // Scaling the [B x d] queries once saves a pass over every [B x chunk] block, forward and backward.
  return LogSumExpSimilarity::apply((q * inv_tau).contiguous(), k.contiguous(), 1.0, chunk);
}

at::Tensor nce_a(const at::Tensor& x, const at::Tensor& y, const at::Tensor& y_all, double tau, int64_t chunk) {
  const at::Tensor xn = normalize_rows_eps(x), yn = normalize_rows_eps(y), an = normalize_rows_eps(y_all);
  const at::Tensor positive = (xn * yn).sum(1) / tau;
  return (logsumexp_similarity(xn, an, 1.0 / tau, chunk) - positive).sum();
}

at::Tensor nce_b(const at::Tensor& x, const at::Tensor& y, double tau) {
  const at::Tensor xn = x / x.norm(2, 1, true).clamp_min(1e-12);
  const at::Tensor yn = y / y.norm(2, 1, true).clamp_min(1e-12);
  const at::Tensor all = (xn.mm(yn.t()) / tau).exp();
  const at::Tensor positive = all.diagonal();
  return -((positive / (all.sum(1) + 1e-8)) + 1e-8).log().mean();
}

at::Tensor intent_aggregate(const at::Tensor& x, const at::Tensor& prototypes) {
  return x.mm(prototypes).softmax(1).mm(prototypes.t());
}

at::Tensor adaptive_mask(const Graph& graph, const at::Tensor& x) {
  const at::Tensor xn = x / x.norm(2, 1, true).clamp_min(1e-12);
  const at::Tensor alpha = ((xn.index_select(0, graph.row) * xn.index_select(0, graph.col)).sum(1) + 1) / 2;
  const at::Tensor row_sum = at::zeros({graph.n_nodes}, alpha.options()).index_add(0, graph.row, alpha);
  // A row sum is 0 only if all its alphas are 0; the clamp then gives 0 / tiny = 0, not NaN.
  return alpha / row_sum.index_select(0, graph.row).clamp_min(1e-30);
}

}  // namespace recgrid::ops
