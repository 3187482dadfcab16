// IRLLRec interaction-text matching by momentum distillation (paper §3.4, eq. 17; ALGORITHMS.md §3.4 (d),
// §4.1 item 2). Two forms of the distillation part L_match:
//
// "similarity" (paper): in-batch cross-modal similarity distributions of the student (z, r) and of the
// momentum teachers (z', r'), both directions, KL(teacher || student):
//   p_t2i(b) = softmax_j(ẑ_b · r̂_j / τ),  q_t2i(b) = softmax_j(ẑ'_b · r̂'_j / τ)   (and i2t with z, r swapped)
//   L_match = Σ_{side ∈ users, items} mean_b [ KL(q_i2t(b) || p_i2t(b)) + KL(q_t2i(b) || p_t2i(b)) ]
// over the batch's users (anchors) and positive items; the matrices are B x B (bounded by the batch).
//
// "feature" (REF): per node, a softmax over the d feature dimensions of the text intents, teacher to
// student cross-entropy, averaged over all V nodes:
//   L_match = -mean_v Σ_k softmax(Z'_v)_k · log_softmax(Z_v)_k
//
// L_ITM = (1 - α) · λ2 L_tran + α · L_match   (eq. 17; the REF weights are 0.4 / 0.6, the paper's α = 0.4).
#pragma once

#include <ATen/ATen.h>

namespace irllrec {

// KL(q || p) rows, mean over rows, from teacher logits and student logits [B x B].
inline at::Tensor kl_rows(const at::Tensor& teacher_logits, const at::Tensor& student_logits) {
  const at::Tensor log_q = teacher_logits.log_softmax(1), log_p = student_logits.log_softmax(1);
  return (log_q.exp() * (log_q - log_p)).sum(1).mean();
}

inline at::Tensor unit_rows(const at::Tensor& x) { return x / x.norm(2, 1, true).clamp_min(1e-12); }

// One side (users or items): student z, r and teacher z', r' rows of the same B nodes.
inline at::Tensor similarity_distillation(const at::Tensor& z, const at::Tensor& r, const at::Tensor& z_teacher,
                                          const at::Tensor& r_teacher, double tau) {
  const at::Tensor zs = unit_rows(z), rs = unit_rows(r);
  const at::Tensor zt = unit_rows(z_teacher), rt = unit_rows(r_teacher);
  const at::Tensor student_t2i = zs.mm(rs.t()) / tau, teacher_t2i = zt.mm(rt.t()) / tau;
  return kl_rows(teacher_t2i, student_t2i) + kl_rows(teacher_t2i.t(), student_t2i.t());
}

// REF's feature-softmax cross-entropy, teacher [V x d] (no gradient) to student [V x d].
inline at::Tensor feature_distillation(const at::Tensor& z, const at::Tensor& z_teacher) {
  return -(z_teacher.softmax(1) * z.log_softmax(1)).sum(1).mean();
}

}  // namespace irllrec
