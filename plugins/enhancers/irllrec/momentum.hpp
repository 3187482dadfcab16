// Momentum (EMA) teachers of IRLLRec's interaction-text matching (paper eq. 18; ALGORITHMS.md §3.4 (d)):
//   θ_teacher <- β θ_teacher + (1 - β) θ_student        no gradient
// applied when a training step starts, with the weights the previous optimizer step left (REF's
// order: the first update happens before the first step).
#pragma once

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <vector>

namespace irllrec {

// Pairs (teacher, student) of same-shaped tensors; the teacher tensors are buffers of the plugin.
class MomentumTeacher {
 public:
  explicit MomentumTeacher(double beta) : beta_(beta) {}

  void track(const at::Tensor& teacher, const at::Tensor& student) { pairs_.push_back({teacher, student}); }

  void update() {
    c10::NoGradGuard no_grad;
    for (auto& p : pairs_) p.teacher.mul_(beta_).add_(p.student.detach(), 1.0 - beta_);
  }

 private:
  struct Pair {
    at::Tensor teacher, student;
  };
  double beta_;
  std::vector<Pair> pairs_;
};

}  // namespace irllrec
