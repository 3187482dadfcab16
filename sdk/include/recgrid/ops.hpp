// Shared numeric building blocks of ALGORITHMS.md §0, implemented once in librecgrid_sdk (sdk/src/).
// Every function is device-agnostic; spmm has a hand-written CPU kernel and a generic fallback.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "recgrid/graph.hpp"

namespace recgrid::ops {

// out[r] = sum over entries e of row r of values[e] * x[col[e]]   (sparse [V x V] times dense [V x d]).
// Differentiable in x and in values (adaptive masks need the latter).
at::Tensor spmm(const Graph& graph, const at::Tensor& values, const at::Tensor& x);

// out[e] = x[row e] . x[col e] for every graph entry e, differentiable in x; O(E) memory.
at::Tensor edge_dot(const Graph& graph, const at::Tensor& x);

// L propagation layers E^{l+1} = S E^l with S = (graph, values), and their sum, in one fused
// autograd function: returns {sum_{l=0..L} E^l, E^1, ..., E^L}. Same math as L spmm calls and L
// additions, with fewer passes over [V x d] tensors in forward and backward.
std::vector<at::Tensor> propagate(const Graph& graph, const at::Tensor& values, const at::Tensor& e0, int64_t layers);

// Drop_p (ALGORITHMS.md §0): keep each entry with probability keep_rate, values unchanged
// (no rescaling); keep_rate >= 1 returns `values` itself.
at::Tensor drop_edges(const at::Tensor& values, double keep_rate);

// Xavier-uniform init of a [rows x cols] table: U(-a, a), a = sqrt(6 / (rows + cols)).
at::Tensor xavier_uniform(int64_t rows, int64_t cols, const at::TensorOptions& options);

// PyTorch's default init of a Linear layer's tensors, U(-1/sqrt(fan_in), 1/sqrt(fan_in)): the bias's
// rule, and also the weight's (kaiming-uniform with a = sqrt(5) gives that same bound).
at::Tensor fan_in_uniform(const std::vector<int64_t>& shape, int64_t fan_in, const at::TensorOptions& options);

// BPR(u, p, n) = mean_b softplus(n_b.u_b - p_b.u_b).
at::Tensor bpr_loss(const at::Tensor& users, const at::Tensor& pos, const at::Tensor& neg);

}  // namespace recgrid::ops

namespace recgrid::ops {

// ---- Contrastive and intent primitives (ALGORITHMS.md §0) -----------------------------------

// x / max(||x||, 1e-12), row-wise: unit rows (zero rows stay zero). The one normalisation of the
// cosine-based terms (NCE_B, AM, SimGCL's noise, AlphaRec, IRLLRec's matching, the text checks).
at::Tensor unit_rows(const at::Tensor& x);

// x / sqrt(||x||^2 + 1e-8), row-wise (RLMRec's normalisation inside NCE_A).
at::Tensor normalize_rows_eps(const at::Tensor& x);

// lse[b] = log sum_j exp(inv_tau * q_b . k_j), streamed over `chunk` rows of k at a time: memory is
// O(B x chunk), never O(B x N); forward and backward are exact (the backward recomputes each chunk).
at::Tensor logsumexp_similarity(const at::Tensor& q, const at::Tensor& k, double inv_tau, int64_t chunk = 1024);

// The same with a constant weight per key: lse[b] = log sum_j exp(inv_tau * q_b . k_j + log_weight[j]).
at::Tensor logsumexp_similarity(const at::Tensor& q, const at::Tensor& k, double inv_tau, const at::Tensor& log_weight,
                                int64_t chunk = 1024);

// sum_b row_weight[b] * lse[b], lse as above (with the optional key log_weight), for constant row
// weights: what an InfoNCE loss needs. The value and both gradients come from one streamed sweep (the
// row weights are known up front), about a third less work than the lse and its backward; memory is
// O(N) per thread for the exponentials of one block of rows.
at::Tensor weighted_logsumexp_similarity_sum(const at::Tensor& q, const at::Tensor& k, double inv_tau,
                                             const at::Tensor& row_weight, const at::Tensor& log_weight = {},
                                             int64_t chunk = 1024);

// NCE_A(X, Y, Yall, tau): sum over rows b of  -x~_b.y~_b / tau + log sum_j exp(x~_b.yall~_j / tau),
// rows normalised with normalize_rows_eps. Callers divide by B. Negatives streamed (see above).
at::Tensor nce_a(const at::Tensor& x, const at::Tensor& y, const at::Tensor& y_all, double tau, int64_t chunk = 1024);

// NCE_A(X[idx], Y[idx], Yall, tau) for a batch index `idx` with repeats (users, items of a batch):
// the same value and gradient, with the log-sum-exp computed once per distinct row.
at::Tensor nce_a_rows(const at::Tensor& x, const at::Tensor& y, const at::Tensor& idx, const at::Tensor& y_all,
                      double tau, int64_t chunk = 1024);

// nce_a_rows(x, y, idx, y, tau) with the keys sampled: `keys` holds k distinct row numbers of y drawn
// uniformly. Query b's sum over all n = rows(y) keys is estimated as its positive term plus the sampled
// other keys' terms times (n-1)/(number of sampled keys other than b): unbiased for the sum (its
// logarithm, in the loss, is biased low by about half the estimate's relative variance). k similarities
// per distinct query instead of n (SGL's and SimGCL's `contrast_keys`).
at::Tensor nce_a_rows_sampled(const at::Tensor& x, const at::Tensor& y, const at::Tensor& idx, const at::Tensor& keys,
                              double tau, int64_t chunk = 1024);

// NCE_A(X[idx], Y[idx], Y[idx], tau), the in-batch form (negatives = the batch's rows, repeats
// included), computed on the distinct rows of idx: a row occurring c times is weighted c as a query
// and as a negative (log c added to its similarity). Same value and gradient, fewer similarities.
at::Tensor nce_a_batch(const at::Tensor& x, const at::Tensor& y, const at::Tensor& idx, double tau,
                       int64_t chunk = 1024);

// NCE_B / NCE_C: mean_b -log( exp(x^_b.y^_b/tau) / (sum_j exp(x^_b.y^_j/tau) + 1e-8) + 1e-8 ),
// x^ = x / max(||x||, 1e-12); negatives = all rows of y (same row count as x), streamed like nce_a.
at::Tensor nce_b(const at::Tensor& x, const at::Tensor& y, double tau, int64_t chunk = 1024);

// nce_b on a uniform sample of paired rows standing for all `n_rows` of them: y holds k sampled rows
// (the keys), x the queries paired with y's first rows (k of them in training). Query b's denominator, the sum over every key, is estimated as its positive term plus the
// other k-1 sampled keys' terms times (n_rows-1)/(k-1): unbiased for the sum over all n_rows keys (its
// logarithm, in the loss, is biased low by about half the estimate's relative variance), and the mean
// over the sampled queries is unbiased for the mean over all. k^2 similarities instead of n_rows^2.
at::Tensor nce_b_sampled(const at::Tensor& x, const at::Tensor& y, double tau, int64_t n_rows, int64_t chunk = 1024);

// Int_C(X) = softmax_row(X C) C^T for prototypes C [d x K].
at::Tensor intent_aggregate(const at::Tensor& x, const at::Tensor& prototypes);

// Int per side: the first n_users rows of the node tensor X [V x d] against the user prototypes, the
// rest against the item prototypes, users first (DCCF, BIGCF and IRLLRec's interaction intents).
at::Tensor intent_aggregate_per_side(const at::Tensor& nodes, int64_t n_users, const at::Tensor& user_prototypes,
                                     const at::Tensor& item_prototypes);

// AM(X): per directed edge (h, t) of the plain graph, alpha = (cos(X_h, X_t) + 1) / 2, normalised
// over each row h (D^-1 alpha; 0 for an empty row). Returns the [E] edge values, differentiable in X;
// use them with spmm(graph, values, E). Memory O(E): no V x V matrix.
at::Tensor adaptive_mask(const Graph& graph, const at::Tensor& x);

}  // namespace recgrid::ops
