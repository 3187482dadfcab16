// IRLLRec intent alignment (paper §3.3, eq. 13-16; ALGORITHMS.md §3.4 (b), (c), §4.1 items 1 and 4).
//
// Pairwise (eq. 13), anchors a (users), p, n (items) of the batch:
//   L_pair = 1/B [ NCE_A(R_U[a], Z_U[a], NEG_U, τ) + NCE_A(R_I[p], Z_I[p], Z_I[p], τ) + NCE_A(R_I[n], Z_I[n], Z_I[n], τ) ]
//   NEG_U = Z_U[a] (paper: in-batch) or Z_U (REF: all M users); the n term is optional (REF SimGCL drops it).
// Translation (eq. 14-15): multiplicative Gaussian noise on both sides, then an InfoNCE over all V
// nodes with the same node as the positive, cosine similarity scaled by η:
//   F' = F + F ⊙ ε1,  Z' = Z + Z ⊙ ε2,  ε ~ N(0, 1) fresh every step
//   L_tran = NCE_B(Z', F', 1/η)  [+ NCE_B(F', Z', 1/η) with both directions (paper)]
// F is R (paper) or the base model's final embeddings E* (REF). Every V x V similarity is streamed in
// chunks (ops::nce_b): memory O(V x chunk), gradients exact. That is V^2 d work per step: with
// `keys` = k > 0 each step takes a uniform sample S of k nodes instead (fresh every step), queries
// and keys both from S, each denominator's other-node terms scaled by (V-1)/(k-1) (ops::nce_b_sampled):
// k^2 d work, the sum unbiased, its logarithm biased low by about half its relative variance (README).
#pragma once

#include <ATen/ATen.h>

#include "recgrid/ops.hpp"
#include "recgrid/sdk.hpp"
#include "text_intents.hpp"

namespace irllrec {

struct PairwiseOptions {
  double temperature = 0.2;
  bool all_user_negatives = false;  // REF: every user's projected intent is a negative
  bool negative_term = true;        // REF SimGCL: false
  int64_t chunk = 1024;
};

// Unweighted L_pair (already divided by B). R_user [M x d], R_item [N x d] are the interaction intents.
inline at::Tensor pairwise_alignment(const recgrid::Batch& b, const at::Tensor& r_user, const at::Tensor& r_item,
                                     ProjectedTable& z_user, ProjectedTable& z_item, const PairwiseOptions& o) {
  const double tau = o.temperature;
  const int64_t B = b.users.size(0);
  // In-batch terms run on the distinct rows with their counts (ops::nce_a_batch): same value.
  auto in_batch = [&](const at::Tensor& r, ProjectedTable& z, const at::Tensor& ids) {
    const auto [distinct, inverse] = at::_unique(ids, /*sorted=*/true, /*return_inverse=*/true);
    return recgrid::ops::nce_a_batch(r.index_select(0, distinct), z.rows(distinct), inverse, tau, o.chunk);
  };
  at::Tensor total;
  if (o.all_user_negatives) {
    const at::Tensor& zu = z_user.all();
    total = recgrid::ops::nce_a_rows(r_user, zu, b.users, zu, tau, o.chunk);
  } else {
    total = in_batch(r_user, z_user, b.users);
  }
  total = total + in_batch(r_item, z_item, b.pos);
  if (o.negative_term) total = total + in_batch(r_item, z_item, b.neg);
  return total / static_cast<double>(B);
}

struct TranslationOptions {
  double scale = 1.0;        // η: similarities are cosines times η (temperature 1/η)
  bool both_directions = true;
  bool noise = true;
  int64_t chunk = 1024;
  int64_t keys = 0;  // 0: every node; k: a uniform sample of k nodes per step
};

// Unweighted L_tran over all nodes: `graph_side` F [V x d], `text_side` Z [V x d] (same row order).
inline at::Tensor translation_alignment(const at::Tensor& graph_side, const at::Tensor& text_side,
                                        const TranslationOptions& o) {
  at::Tensor f = graph_side, z = text_side;
  const int64_t n = f.size(0);
  const bool sampled = o.keys > 0 && o.keys < n;
  if (sampled) {  // the same nodes on both sides: each query keeps its positive among the keys
    const at::Tensor s = at::randperm(n, at::TensorOptions().dtype(at::kLong).device(f.device())).narrow(0, 0, o.keys);
    f = f.index_select(0, s);
    z = z.index_select(0, s);
  }
  if (o.noise) {
    f = f + f * at::randn_like(f);
    z = z + z * at::randn_like(z);
  }
  const double tau = 1.0 / o.scale;
  auto nce = [&](const at::Tensor& x, const at::Tensor& y) {
    return sampled ? recgrid::ops::nce_b_sampled(x, y, tau, n, o.chunk) : recgrid::ops::nce_b(x, y, tau, o.chunk);
  };
  at::Tensor loss = nce(z, f);  // text -> interaction (REF's only direction)
  if (o.both_directions) loss = loss + nce(f, z);
  return loss;
}

}  // namespace irllrec
