// IRLLRec interaction-text matching by momentum distillation (paper §3.4, eq. 17; ALGORITHMS.md §3.4 (d),
// §4.1 item 2). Two forms of the distillation part L_match:
//
// "similarity" (paper): in-batch cross-modal similarity distributions of the student (z, r) and of the
// momentum teachers (z', r'), both directions, KL(teacher || student):
//   p_t2i(b) = softmax_j(ẑ_b · r̂_j / τ),  q_t2i(b) = softmax_j(ẑ'_b · r̂'_j / τ)   (and i2t with z, r swapped)
//   L_match = Σ_{side ∈ users, items} mean_b [ KL(q_i2t(b) || p_i2t(b)) + KL(q_t2i(b) || p_t2i(b)) ]
// over the batch's distinct users (anchors) and distinct positive items. Memory: one B x B teacher matrix per direction
// (bounded by the batch size, never by V); the student's similarities are streamed.
//
// "feature" (REF): per node, a softmax over the d feature dimensions of the text intents, teacher to
// student cross-entropy, averaged over all V nodes:
//   L_match = -mean_v Σ_k softmax(Z'_v)_k · log_softmax(Z_v)_k
//
// L_ITM = (1 - α) · λ2 L_tran + α · L_match   (eq. 17; the REF weights are 0.4 / 0.6, the paper's α = 0.4).
#pragma once

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "recgrid/ops.hpp"
#include "recgrid/row_layer.hpp"

namespace irllrec {


// mean_b KL(q_b || p_b) with q_b = softmax_j(a'_b . b'_j / tau) (teacher, constant) and
// p_b = softmax_j(a_b . b_j / tau) (student), all rows unit length. Written as
//   KL_b = [sum_j q_bj t_bj - lse_t(b)] - [a_b . (Q b)_b / tau - lse_s(b)]
// so that only the teacher's Q (one B x B constant, saved for the backward of Q b) is ever stored:
// the student's log-sum-exp is streamed (ops::logsumexp_similarity, exact gradients).
inline at::Tensor kl_teacher_student(const at::Tensor& a, const at::Tensor& b, const at::Tensor& a_teacher,
                                     const at::Tensor& b_teacher, double tau, int64_t chunk) {
  at::Tensor q, constant;
  {
    c10::NoGradGuard no_grad;
    const at::Tensor t = a_teacher.mm(b_teacher.t()).div_(tau);
    const at::Tensor lse_t = t.logsumexp(1, true);
    q = (t - lse_t).exp_();
    constant = (q * t).sum(1) - lse_t.squeeze(1);
  }
  const at::Tensor lse_s = recgrid::ops::logsumexp_similarity(a, b, 1.0 / tau, chunk);
  // rows_mm: b's gradient q^T g (a sum over the batch) is the same bits at any thread count.
  const at::Tensor cross = (a * recgrid::ops::rows_mm(q, b)).sum(1) / tau;
  return (constant - cross + lse_s).mean();
}

// One side (users or items): student z, r and teacher z', r' rows of the same B nodes; t2i + i2t.
inline at::Tensor similarity_distillation(const at::Tensor& z, const at::Tensor& r, const at::Tensor& z_teacher,
                                          const at::Tensor& r_teacher, double tau, int64_t chunk) {
  using recgrid::ops::unit_rows;
  const at::Tensor zs = unit_rows(z), rs = unit_rows(r);
  const at::Tensor zt = unit_rows(z_teacher), rt = unit_rows(r_teacher);
  return kl_teacher_student(zs, rs, zt, rt, tau, chunk) + kl_teacher_student(rs, zs, rt, zt, tau, chunk);
}

// REF's feature-softmax cross-entropy, teacher [V x d] (no gradient) to student [V x d].
inline at::Tensor feature_distillation(const at::Tensor& z, const at::Tensor& z_teacher) {
  return -(z_teacher.softmax(1) * z.log_softmax(1)).sum(1).mean();
}

}  // namespace irllrec
