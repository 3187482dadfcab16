// Contrastive losses, intent aggregation and adaptive masks (ALGORITHMS.md §0). Everything here is
// built from device-agnostic tensor operations; the all-users / all-items denominators are streamed
// in chunks with a custom backward so memory never grows with B x N. When the loss's derivative by
// each row's log-sum-exp is known once that lse is (InfoNCE with constant row weights, NCE_B), value
// and gradients come from one sweep (lse_sweep) instead of a forward and a recomputing backward.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "recgrid/ops.hpp"
#include "recgrid/row_layer.hpp"

namespace recgrid::ops {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The similarity blocks are processed as [kRowBlock x chunk] tiles, one row block per task, so every
// tile stays in cache between its product, its exp and its reduction: a [4096 x 1024] block that goes
// through memory several times is what made the all-users InfoNCE memory-bound. (256 rows measured
// faster than 64 for the lse and its backward.)
constexpr int64_t kRowBlock = 256;

// The single-sweep weighted sum keeps a block's exponentials over all keys: smaller blocks keep them
// closer in cache (recgrid_lse_bench: 64 rows ~470 M similarities/s, 256 rows ~420, 512 rows ~360).
constexpr int64_t kSweepRowBlock = 64;

int64_t row_blocks(int64_t rows, int64_t block = kRowBlock) { return (rows + block - 1) / block; }

// |q . k| <= max|q| * max|k| = bound. The sum of n exponentials is at most n e^bound; while that
// stays below e^86 (fp32 overflows at e^88.7; the margin covers rounding) the exponentials are summed
// directly (as REF does), otherwise a max-shifted log-sum-exp. A fixed bound of 80 overflowed for
// n above e^8.7 (about 6,000 keys) near the bound (Contrastive.LogSumExpStaysFiniteWithManyKeys...).
double similarity_bound(const at::Tensor& q, const at::Tensor& k) {
  return q.norm(2, 1).max().item<double>() * k.norm(2, 1).max().item<double>();
}
constexpr double kSumSafe = 86.0;
bool unshifted_sum_fits(double bound, int64_t n) { return bound + std::log(static_cast<double>(std::max<int64_t>(n, 1))) < kSumSafe; }
// Below this bound the backward may use exp(s) * exp(-lse) (no per-tile shift and scale passes):
// exp(s) <= e^30 and exp(-lse) >= e^-(30 + log n) stay far from fp32 overflow and underflow.
constexpr double kFoldSafe = 30.0;

at::Tensor lse_tiled(const at::Tensor& q, const at::Tensor& k, int64_t chunk) {
  const int64_t B = q.size(0), n = k.size(0);
  at::Tensor total = at::zeros({B}, q.options());
  at::parallel_for(0, row_blocks(B), 1, [&](int64_t lo, int64_t hi) {
    at::NoGradGuard no_grad;
    for (int64_t blk = lo; blk < hi; ++blk) {
      const int64_t r0 = blk * kRowBlock, rows = std::min(kRowBlock, B - r0);
      const at::Tensor qb = q.narrow(0, r0, rows);
      at::Tensor acc = total.narrow(0, r0, rows);
      for (int64_t start = 0; start < n; start += chunk)
        acc.add_(at::mm(qb, k.narrow(0, start, std::min(chunk, n - start)).t()).exp_().sum(1));
    }
  });
  return total.log_();
}

at::Tensor lse_shifted(const at::Tensor& q, const at::Tensor& k, int64_t chunk) {
  at::Tensor lse = at::full({q.size(0)}, -std::numeric_limits<double>::infinity(), q.options());
  for (int64_t start = 0; start < k.size(0); start += chunk)
    lse = at::logaddexp(lse, q.mm(k.narrow(0, start, std::min(chunk, k.size(0) - start)).t()).logsumexp(1));
  return lse;
}

// The key gradient of the tiled products is a sum over query row blocks. Its order must not depend on
// the thread count (a cell resumed with another --threads-per-cell must give the same numbers, and the
// thread count is not in its hash): key row j's gradient is always the sum over row blocks in block
// order, each block's tile added by one addmm_ of the same shape. With one thread that order comes for
// free in the sweep over row blocks (`fused`: each tile is used for the query and the key gradient while
// in cache). With several threads the query rows and the key rows are owned separately: a pass over row
// blocks for the query side, then a pass over key chunks (each owned by one thread) that recomputes each
// block's tile and adds it in block order. Per-thread buffers summed at the end (what this replaced)
// covered row ranges that depend on the thread count, so their sum rounded differently.
bool fused_key_gradient() { return at::get_num_threads() == 1; }

// gk = sum over row blocks b, in order, of tile(b, chunk)^T factor(b), by key chunk in parallel.
// tile(r0, rows, start, m) must give the [rows x m] tile the fused pass used, factor(r0, rows) the
// [rows x d] right-hand side.
template <class Tile, class Factor>
at::Tensor key_gradient_by_key_chunk(int64_t B, const at::Tensor& k, int64_t block, int64_t chunk, Tile&& tile,
                                     Factor&& factor) {
  const int64_t n = k.size(0);
  at::Tensor grad_k = at::zeros_like(k);
  at::parallel_for(0, row_blocks(n, chunk), 1, [&](int64_t lo, int64_t hi) {
    at::NoGradGuard no_grad;  // grad mode is per thread: the workers' default is on
    for (int64_t c = lo; c < hi; ++c) {
      const int64_t start = c * chunk, m = std::min(chunk, n - start);
      at::Tensor gk = grad_k.narrow(0, start, m);
      for (int64_t r0 = 0; r0 < B; r0 += block) {
        const int64_t rows = std::min(block, B - r0);
        gk.addmm_(tile(r0, rows, start, m).t(), factor(r0, rows));
      }
    }
  });
  return grad_k;
}

// Runs row_block(r0, rows) for every block of `block` query rows, in parallel (each block owned by one
// thread).
template <class RowBlock>
void for_row_blocks(int64_t B, int64_t block, RowBlock&& row_block) {
  at::parallel_for(0, row_blocks(B, block), 1, [&](int64_t lo, int64_t hi) {
    at::NoGradGuard no_grad;
    for (int64_t blk = lo; blk < hi; ++blk) {
      const int64_t r0 = blk * block;
      row_block(r0, std::min(block, B - r0));
    }
  });
}

// grad_q rows += tile kc and grad_k += tile^T factor for every [kRowBlock x chunk] tile, key chunks in
// order (see fused_key_gradient for the order of the key side).
template <class Tile, class Factor>
at::Tensor tiles_with_key_gradient(const at::Tensor& k, int64_t chunk, at::Tensor& grad_q, Tile&& tile,
                                   Factor&& factor) {
  const int64_t B = grad_q.size(0), n = k.size(0);
  const bool fused = fused_key_gradient();
  at::Tensor grad_k = fused ? at::zeros_like(k) : at::Tensor();
  for_row_blocks(B, kRowBlock, [&](int64_t r0, int64_t rows) {
    for (int64_t start = 0; start < n; start += chunk) {
      const int64_t m = std::min(chunk, n - start);
      const at::Tensor p = tile(r0, rows, start, m), kc = k.narrow(0, start, m);
      grad_q.narrow(0, r0, rows).addmm_(p, kc);
      if (fused) grad_k.narrow(0, start, m).addmm_(p.t(), factor(r0, rows));
    }
  });
  if (fused) return grad_k;
  return key_gradient_by_key_chunk(B, k, kRowBlock, chunk, tile, factor);
}

// p = softmax rows times g; grad_q = p k, grad_k = p^T q, tile by tile.
void lse_backward_tiled(const at::Tensor& q, const at::Tensor& k, const at::Tensor& lse, const at::Tensor& g,
                        int64_t chunk, at::Tensor& grad_q, at::Tensor& grad_k) {
  grad_k = tiles_with_key_gradient(
      k, chunk, grad_q,
      [&](int64_t r0, int64_t rows, int64_t start, int64_t m) {
        return at::mm(q.narrow(0, r0, rows), k.narrow(0, start, m).t())
            .sub_(lse.narrow(0, r0, rows).unsqueeze(1))
            .exp_()
            .mul_(g.narrow(0, r0, rows).unsqueeze(1));
      },
      [&](int64_t r0, int64_t rows) { return q.narrow(0, r0, rows); });
}

// The same with the softmax normalisation folded out of the tiles: p_bj = exp(s_bj) w_b with
// w_b = g_b exp(-lse_b), so grad_q_b = w_b sum_j exp(s_bj) k_j and grad_k_j = sum_b exp(s_bj) (w_b q_b):
// per tile one product, one exp and the two gradient products, no shift or scale pass.
void lse_backward_tiled_folded(const at::Tensor& q, const at::Tensor& k, const at::Tensor& lse, const at::Tensor& g,
                               int64_t chunk, at::Tensor& grad_q, at::Tensor& grad_k) {
  const at::Tensor w = (g * (-lse).exp()).unsqueeze(1);
  const at::Tensor qw = q * w;
  grad_k = tiles_with_key_gradient(
      k, chunk, grad_q,
      [&](int64_t r0, int64_t rows, int64_t start, int64_t m) {
        return at::mm(q.narrow(0, r0, rows), k.narrow(0, start, m).t()).exp_();
      },
      [&](int64_t r0, int64_t rows) { return qw.narrow(0, r0, rows); });
  grad_q.mul_(w);  // the unscaled sums were accumulated above
}

// The same on any device, one [B x chunk] block at a time.
void lse_backward_blocks(const at::Tensor& q, const at::Tensor& k, const at::Tensor& lse, const at::Tensor& g,
                         int64_t chunk, at::Tensor& grad_q, at::Tensor& grad_k) {
  grad_k = at::empty_like(k);
  for (int64_t start = 0; start < k.size(0); start += chunk) {
    const int64_t m = std::min(chunk, k.size(0) - start);
    const at::Tensor kc = k.narrow(0, start, m);
    const at::Tensor p = q.mm(kc.t()).sub_(lse.unsqueeze(1)).exp_().mul_(g.unsqueeze(1));
    grad_q.addmm_(p, kc);
    at::Tensor rows = grad_k.narrow(0, start, m);
    at::mm_out(rows, p.t(), q);
  }
}

// lse[b] = log sum_j exp(q_b . k_j) (queries already scaled by 1 / tau).
class LogSumExpSimilarity : public torch::autograd::Function<LogSumExpSimilarity> {
 public:
  // `bound` >= max |q_b . k_j| picks the numeric path (see unshifted_sum_fits, kFoldSafe).
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, int64_t chunk,
                            double bound) {
    at::NoGradGuard no_grad;
    const at::Tensor lse = q.is_cpu() && unshifted_sum_fits(bound, k.size(0)) ? lse_tiled(q, k, chunk) : lse_shifted(q, k, chunk);
    ctx->save_for_backward({q, k, lse});
    ctx->saved_data["chunk"] = chunk;
    ctx->saved_data["fold"] = bound < kFoldSafe;
    return lse;
  }

  // d lse_b / d q_b = sum_j p_bj k_j,  d lse_b / d k_j = p_bj q_b,  p = softmax over j.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const at::Tensor &q = s[0], &k = s[1], &lse = s[2];
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    at::Tensor grad_q = at::zeros_like(q), grad_k;
    if (!q.is_cpu()) lse_backward_blocks(q, k, lse, grads[0], chunk, grad_q, grad_k);
    else if (ctx->saved_data["fold"].toBool()) lse_backward_tiled_folded(q, k, lse, grads[0].contiguous(), chunk, grad_q, grad_k);
    else lse_backward_tiled(q, k, lse, grads[0].contiguous(), chunk, grad_q, grad_k);
    return {grad_q, grad_k, at::Tensor(), at::Tensor()};
  }
};

// One streamed sweep that gives lse and both gradients of a loss whose derivative by lse_b is known
// once lse_b is: c_b = row_weight(r0, lse of rows r0...) (a constant for InfoNCE, a function of lse_b
// and the positive for NCE_B). Per block of kSweepRowBlock query rows the exponentials of all keys are
// kept (a [kSweepRowBlock x N] block per thread: O(N), never O(B x N)); the rows' lse follow from their
// sums, and the gradient products reuse them: one product and one exp per similarity instead of two of
// each (the lse, then its backward's recomputation). With several threads the key gradient's pass
// recomputes them (fused_key_gradient: the order of its sums). Folded form: needs bound < kFoldSafe.
struct Sweep {
  at::Tensor lse, grad_q, grad_k;  // gradients of sum_b c_b lse_b
};

template <class RowWeight>
Sweep lse_sweep(const at::Tensor& q, const at::Tensor& k, int64_t chunk, RowWeight&& row_weight) {
  at::NoGradGuard no_grad;
  const int64_t B = q.size(0), n = k.size(0), d = q.size(1);
  // A column of ones on the keys: e [k | 1] gives the unscaled query gradient sum_j e_bj k_j and the
  // row sum sum_j e_bj in one product, while e is still in cache.
  const at::Tensor k1 = at::cat({k, at::ones({n, 1}, k.options())}, 1);
  const bool fused = fused_key_gradient();  // else the key side is a second pass (fused_key_gradient)
  Sweep out{at::empty({B}, q.options()), at::empty_like(q), fused ? at::zeros_like(k) : at::Tensor()};
  const at::Tensor qw_all = fused ? at::Tensor() : at::empty_like(q);
  std::vector<std::vector<at::Tensor>> exp_tiles(static_cast<size_t>(at::get_num_threads()));
  for_row_blocks(B, kSweepRowBlock, [&](int64_t r0, int64_t rows) {
    std::vector<at::Tensor>& tiles = exp_tiles[static_cast<size_t>(at::get_thread_num())];
    const at::Tensor qb = q.narrow(0, r0, rows);
    at::Tensor sums = at::zeros({rows, d + 1}, q.options());  // [sum_j e_bj k_j | sum_j e_bj]
    for (int64_t start = 0, t = 0; start < n; start += chunk, ++t) {
      const int64_t m = std::min(chunk, n - start);
      if (tiles.size() <= static_cast<size_t>(t)) tiles.push_back(at::empty({kSweepRowBlock, m}, q.options()));
      at::Tensor e = tiles[static_cast<size_t>(t)].narrow(0, 0, rows);  // leading rows: contiguous
      at::mm_out(e, qb, k.narrow(0, start, m).t());
      sums.addmm_(e.exp_(), k1.narrow(0, start, m));
    }
    at::Tensor lse_b = out.lse.narrow(0, r0, rows);
    at::log_out(lse_b, sums.select(1, d));
    const at::Tensor w = (row_weight(r0, lse_b) * (-lse_b).exp()).unsqueeze(1);  // d/d s_bj = w_b e_bj
    out.grad_q.narrow(0, r0, rows).copy_(sums.narrow(1, 0, d) * w);
    const at::Tensor qw = qb * w;
    if (!fused) {
      qw_all.narrow(0, r0, rows).copy_(qw);
      return;
    }
    for (int64_t start = 0, t = 0; start < n; start += chunk, ++t) {
      const int64_t m = std::min(chunk, n - start);
      out.grad_k.narrow(0, start, m).addmm_(tiles[static_cast<size_t>(t)].narrow(0, 0, rows).t(), qw);
    }
  });
  if (fused) return out;
  out.grad_k = key_gradient_by_key_chunk(
      B, k, kSweepRowBlock, chunk,
      [&](int64_t r0, int64_t rows, int64_t start, int64_t m) {
        return at::mm(q.narrow(0, r0, rows), k.narrow(0, start, m).t()).exp_();
      },
      [&](int64_t r0, int64_t rows) { return qw_all.narrow(0, r0, rows); });
  return out;
}

// sum_b c_b lse_b for constant row weights c (the InfoNCE denominators of a loss, each query row
// weighted by how often it occurs), value and gradients from one lse_sweep.
class WeightedLogSumExpSum : public torch::autograd::Function<WeightedLogSumExpSum> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& c,
                            int64_t chunk) {
    const Sweep s = lse_sweep(q, k, chunk, [&](int64_t r0, const at::Tensor& lse_b) { return c.narrow(0, r0, lse_b.size(0)); });
    ctx->save_for_backward({s.grad_q, s.grad_k});
    return at::dot(s.lse, c);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    return {s[0] * grads[0], s[1] * grads[0], at::Tensor(), at::Tensor()};
  }
};

// NCE_B on unit rows: L = -(1/B) sum_b log(P_b / (D_b + 1e-8) + 1e-8), P_b = exp(x_b.y_b / tau),
// D_b = exp(lse_b). dL/dlse_b = (1/B) r_b D_b / ((r_b + 1e-8)(D_b + 1e-8)) with r_b = P_b / (D_b + 1e-8)
// is known once lse_b is, so the whole loss and its gradients come from one lse_sweep.
class StreamedNceB : public torch::autograd::Function<StreamedNceB> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& xn, const at::Tensor& yn, double inv_tau,
                            int64_t chunk) {
    at::NoGradGuard no_grad;
    const double inv_b = 1.0 / static_cast<double>(xn.size(0));
    const at::Tensor qs = (xn * inv_tau).contiguous(), ys = yn.contiguous();
    const at::Tensor positive = (qs * ys).sum(1).exp();
    const auto ratio = [&](const at::Tensor& p, const at::Tensor& lse) { return p / (lse.exp() + 1e-8); };
    const Sweep s = lse_sweep(qs, ys, chunk, [&](int64_t r0, const at::Tensor& lse_b) {
      const at::Tensor denominator = lse_b.exp(), r = ratio(positive.narrow(0, r0, lse_b.size(0)), lse_b);
      return r * denominator / ((r + 1e-8) * (denominator + 1e-8)) * inv_b;
    });
    const at::Tensor r = ratio(positive, s.lse);
    // The positive similarity's part: dL/d(x_b.y_b/tau) = -(1/B) r_b / (r_b + 1e-8).
    const at::Tensor d_pos = (-inv_b * r / (r + 1e-8)).unsqueeze(1);
    ctx->save_for_backward({(s.grad_q + d_pos * ys) * inv_tau, s.grad_k + d_pos * qs});
    return -(r + 1e-8).log().mean();
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    return {s[0] * grads[0], s[1] * grads[0], at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor unit_rows(const at::Tensor& x) { return x / x.norm(2, 1, true).clamp_min(1e-12); }

at::Tensor normalize_rows_eps(const at::Tensor& x) { return x / (x.pow(2).sum(1, true) + 1e-8).sqrt(); }


namespace {

// Queries scaled by inv_tau (once: it saves a pass over every block, forward and backward) and keys,
// contiguous, with a bound on |q_b . k_j| (+ |w_j|). With key
// log weights w: q_b . k_j / tau + w_j as one product, a column of ones on q and the weights as a
// column of k. The weights are constants; the gradients of q and k flow back through the concatenation.
struct ScaledSimilarity {
  at::Tensor q, k;
  double bound;
};

ScaledSimilarity scaled_similarity(const char* caller, const at::Tensor& q, const at::Tensor& k, double inv_tau,
                                   const at::Tensor& log_weight) {
  TORCH_CHECK(q.dim() == 2 && k.dim() == 2 && q.size(1) == k.size(1), caller, ": q ", q.sizes(), " and k ", k.sizes(),
              " must be [B x d] and [N x d]");
  const at::Tensor qs = q * inv_tau;
  if (!log_weight.defined()) return {qs.contiguous(), k.contiguous(), similarity_bound(qs, k)};
  TORCH_CHECK(log_weight.dim() == 1 && log_weight.size(0) == k.size(0), caller, ": log_weight ", log_weight.sizes(),
              " must have one value per row of k ", k.sizes());
  return {at::cat({qs, at::ones({q.size(0), 1}, q.options())}, 1).contiguous(),
          at::cat({k, log_weight.detach().to(k.dtype()).unsqueeze(1)}, 1).contiguous(),
          similarity_bound(qs, k) + log_weight.abs().max().item<double>()};
}

}  // namespace

at::Tensor logsumexp_similarity(const at::Tensor& q, const at::Tensor& k, double inv_tau, int64_t chunk) {
  TORCH_CHECK(chunk > 0, "logsumexp_similarity: chunk must be positive");
  const ScaledSimilarity s = scaled_similarity("logsumexp_similarity", q, k, inv_tau, at::Tensor());
  return LogSumExpSimilarity::apply(s.q, s.k, chunk, s.bound);
}

at::Tensor logsumexp_similarity(const at::Tensor& q, const at::Tensor& k, double inv_tau, const at::Tensor& log_weight,
                                int64_t chunk) {
  TORCH_CHECK(log_weight.defined(), "logsumexp_similarity: log_weight is undefined");
  const ScaledSimilarity s = scaled_similarity("logsumexp_similarity", q, k, inv_tau, log_weight);
  return LogSumExpSimilarity::apply(s.q, s.k, chunk, s.bound);
}

at::Tensor weighted_logsumexp_similarity_sum(const at::Tensor& q, const at::Tensor& k, double inv_tau,
                                             const at::Tensor& row_weight, const at::Tensor& log_weight, int64_t chunk) {
  TORCH_CHECK(row_weight.dim() == 1 && row_weight.size(0) == q.size(0), "weighted_logsumexp_similarity_sum: ",
              "row_weight ", row_weight.sizes(), " must have one value per row of q ", q.sizes());
  TORCH_CHECK(chunk > 0, "weighted_logsumexp_similarity_sum: chunk must be positive");
  const at::Tensor c = row_weight.detach().to(q.dtype()).contiguous();
  const ScaledSimilarity s = scaled_similarity("weighted_logsumexp_similarity_sum", q, k, inv_tau, log_weight);
  if (q.is_cpu() && s.bound < kFoldSafe) return WeightedLogSumExpSum::apply(s.q, s.k, c, chunk);
  return at::dot(LogSumExpSimilarity::apply(s.q, s.k, chunk, s.bound), c);
}

at::Tensor nce_a(const at::Tensor& x, const at::Tensor& y, const at::Tensor& y_all, double tau, int64_t chunk) {
  const at::Tensor xn = normalize_rows_eps(x), yn = normalize_rows_eps(y), an = normalize_rows_eps(y_all);
  const at::Tensor ones = at::ones({xn.size(0)}, xn.options());
  return weighted_logsumexp_similarity_sum(xn, an, 1.0 / tau, ones, {}, chunk) - ((xn * yn).sum(1) / tau).sum();
}

namespace {

// The distinct rows of a batch index with repeats, as the nce_a_* forms use them: x's and y's rows
// normalised, and how often each row occurs (its weight as a query).
struct DistinctPairs {
  at::Tensor distinct, xn, yn, weight;
};

DistinctPairs distinct_pairs(const at::Tensor& x, const at::Tensor& y, const at::Tensor& idx) {
  const auto [distinct, inverse, counts] = at::_unique2(idx, /*sorted=*/true, /*return_inverse=*/true,
                                                         /*return_counts=*/true);
  (void)inverse;
  const at::Tensor xn = normalize_rows_eps(x.index_select(0, distinct));
  return {distinct, xn, normalize_rows_eps(y.index_select(0, distinct)), counts.to(xn.dtype())};
}

}  // namespace

at::Tensor nce_a_rows(const at::Tensor& x, const at::Tensor& y, const at::Tensor& idx, const at::Tensor& y_all,
                      double tau, int64_t chunk) {
  const auto [distinct, xn, yn, n] = distinct_pairs(x, y, idx);  // each distinct row counted as often as it occurs
  return weighted_logsumexp_similarity_sum(xn, normalize_rows_eps(y_all), 1.0 / tau, n, {}, chunk) -
         ((xn * yn).sum(1) / tau * n).sum();
}

at::Tensor nce_a_rows_sampled(const at::Tensor& x, const at::Tensor& y, const at::Tensor& idx, const at::Tensor& keys,
                              double tau, int64_t chunk) {
  const int64_t n = y.size(0), k = keys.numel();
  TORCH_CHECK(k >= 2 && k <= n, "nce_a_rows_sampled: needs 2 <= keys <= rows(y)");
  const auto [distinct, xn, yn, weight] = distinct_pairs(x, y, idx);
  // |s| <= 1/tau for unit rows, so the exponentials stay finite in fp32 for tau >= ~0.02.
  const at::Tensor sample_sum = logsumexp_similarity(xn, normalize_rows_eps(y.index_select(0, keys)), 1.0 / tau, chunk).exp();
  const at::Tensor positive_logit = (xn * yn).sum(1) / tau;
  const at::Tensor positive = positive_logit.exp();
  // Whether a query's own row was drawn: its term is then in the sample sum, and one key fewer is "other".
  const at::Tensor drawn = at::zeros({n}, positive.options()).index_fill(0, keys, 1.0).index_select(0, distinct);
  const at::Tensor other_keys = drawn.neg().add(static_cast<double>(k));
  const at::Tensor others = (sample_sum - drawn * positive) * static_cast<double>(n - 1) / other_keys;
  return ((-positive_logit + (positive + others).log()) * weight).sum();
}

at::Tensor nce_a_batch(const at::Tensor& x, const at::Tensor& y, const at::Tensor& idx, double tau, int64_t chunk) {
  const auto [distinct, xn, yn, n] = distinct_pairs(x, y, idx);
  return weighted_logsumexp_similarity_sum(xn, yn, 1.0 / tau, n, n.log(), chunk) - ((xn * yn).sum(1) / tau * n).sum();
}

at::Tensor nce_b(const at::Tensor& x, const at::Tensor& y, double tau, int64_t chunk) {
  const at::Tensor xn = unit_rows(x), yn = unit_rows(y);
  // REF's formula, with its 1e-8 terms, from the streamed denominator: sum_j exp(s_bj) = exp(lse_b)
  // (at most B e^{1/tau}: finite in fp32 for tau >= 0.05). No [B x B] matrix is kept. On the CPU (unit
  // rows: |s| <= 1/tau) the loss and its gradients come from one sweep (StreamedNceB).
  if (xn.is_cpu() && 1.0 / tau < kFoldSafe) return StreamedNceB::apply(xn, yn, 1.0 / tau, chunk);
  const at::Tensor denominator = logsumexp_similarity(xn, yn, 1.0 / tau, chunk).exp();
  const at::Tensor positive = ((xn * yn).sum(1) / tau).exp();
  return -((positive / (denominator + 1e-8)) + 1e-8).log().mean();
}

at::Tensor nce_b_sampled(const at::Tensor& x, const at::Tensor& y, double tau, int64_t n_rows, int64_t chunk) {
  const at::Tensor xn = unit_rows(x), yn = unit_rows(y);
  const int64_t k = yn.size(0);
  TORCH_CHECK(k >= 2 && n_rows >= k && xn.size(0) <= k, "nce_b_sampled: needs rows(x) <= rows(y) = k, 2 <= k <= n_rows");
  const at::Tensor sample_sum = logsumexp_similarity(xn, yn, 1.0 / tau, chunk).exp();  // |s| <= 1/tau: finite
  const at::Tensor positive = ((xn * yn.narrow(0, 0, xn.size(0))).sum(1) / tau).exp();
  const double others_scale = static_cast<double>(n_rows - 1) / static_cast<double>(k - 1);
  const at::Tensor denominator = positive + others_scale * (sample_sum - positive);
  return -((positive / (denominator + 1e-8)) + 1e-8).log().mean();
}

at::Tensor intent_aggregate(const at::Tensor& x, const at::Tensor& prototypes) {
  // rows_mm: the prototypes' gradients (sums over every node) are the same bits at any thread count.
  return rows_mm(rows_mm(x, prototypes).softmax(1), prototypes.t());
}

at::Tensor intent_aggregate_per_side(const at::Tensor& nodes, int64_t n_users, const at::Tensor& user_prototypes,
                                     const at::Tensor& item_prototypes) {
  return at::cat({intent_aggregate(nodes.narrow(0, 0, n_users), user_prototypes),
                  intent_aggregate(nodes.narrow(0, n_users, nodes.size(0) - n_users), item_prototypes)});
}

at::Tensor adaptive_mask(const Graph& graph, const at::Tensor& x) {
  const at::Tensor xn = unit_rows(x);
  const at::Tensor alpha = (edge_dot(graph, xn) + 1) / 2;
  const at::Tensor row_sum = at::zeros({graph.n_nodes}, alpha.options()).index_add(0, graph.row, alpha);
  // A row sum is 0 only if all its alphas are 0; the clamp then gives 0 / tiny = 0, not NaN.
  return alpha / row_sum.index_select(0, graph.row).clamp_min(1e-30);
}

}  // namespace recgrid::ops
