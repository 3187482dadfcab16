// KAR's hybrid-expert adaptor (ALGORITHMS.md §3.7): knowledge vectors -> augmentation vectors.
//
// Two tasks (users, items). Each task mixes S shared experts and P experts of its own:
//   expert_j(k) = Dropout(ReLU(W2_j Dropout(ReLU(W1_j k + b1_j)) + b2_j))        d_k -> hidden -> d
//   gate_t(k)   = softmax(G_t k + g_t)   over the S + P experts the task uses
//   a_t(k)      = sum_j gate_t,j(k) expert_j(k)
// Linear weights Xavier-normal, biases 0 (KAR's initialisation). The S + P experts of a task run as
// one matrix product for the first layer and one batched product for the second.
#pragma once

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

#include "recgrid/row_layer.hpp"
#include "recgrid/sdk.hpp"

namespace kar {

struct ExpertShape {
  int64_t input = 0, hidden = 128, output = 32;
  int64_t shared = 2, per_task = 6;
  double dropout = 0.0;
};

inline at::Tensor xavier_normal(std::vector<int64_t> shape, int64_t fan_in, int64_t fan_out, const at::TensorOptions& o) {
  return at::randn(shape, o) * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
}

class HybridExperts {
 public:
  enum Task { kUser = 0, kItem = 1 };

  // Creates the tensors; the owning module registers them: register_module("adaptor", experts).
  HybridExperts(const ExpertShape& s, const at::TensorOptions& o) : s_(s) {
    const int64_t experts = s.shared + 2 * s.per_task;  // shared, then the users', then the items'
    w1_ = xavier_normal({experts, s.input, s.hidden}, s.input, s.hidden, o);  // stored [in x out] per expert
    b1_ = at::zeros({experts, s.hidden}, o);
    w2_ = xavier_normal({experts, s.hidden, s.output}, s.hidden, s.output, o);
    b2_ = at::zeros({experts, s.output}, o);
    for (int t = 0; t < 2; ++t) {
      gate_w_[t] = xavier_normal({s.input, s.shared + s.per_task}, s.input, s.shared + s.per_task, o);
      gate_b_[t] = at::zeros({s.shared + s.per_task}, o);
    }
  }

  template <class Register>
  void register_as(const std::string& prefix, Register&& reg) {
    w1_ = reg(prefix + ".expert_w1", w1_);
    b1_ = reg(prefix + ".expert_b1", b1_);
    w2_ = reg(prefix + ".expert_w2", w2_);
    b2_ = reg(prefix + ".expert_b2", b2_);
    gate_w_[kUser] = reg(prefix + ".gate_user_w", gate_w_[kUser]);
    gate_b_[kUser] = reg(prefix + ".gate_user_b", gate_b_[kUser]);
    gate_w_[kItem] = reg(prefix + ".gate_item_w", gate_w_[kItem]);
    gate_b_[kItem] = reg(prefix + ".gate_item_b", gate_b_[kItem]);
  }

  // The task's gate weights [rows x (S + P)]; each row sums to 1.
  at::Tensor gates(const at::Tensor& k, Task t) const {
    return at::softmax(recgrid::ops::rows_addmm(gate_b_[t], k, gate_w_[t]), 1);
  }

  // Every expert the task uses, on every row: [S + P, rows, output]. Every product goes through
  // rows_addmm, so the weights' gradients (sums over the rows) are the same bits at any thread count.
  at::Tensor experts(const at::Tensor& k, Task t, bool train) const {
    const at::Tensor ids = expert_ids(t, k.device());
    const int64_t E = ids.size(0), h = s_.hidden;
    // First layer of all E experts in one product: k [rows x in] . [in x E*h].
    const at::Tensor w1 = w1_.index_select(0, ids).permute({1, 0, 2}).reshape({s_.input, E * h});
    const at::Tensor b1 = b1_.index_select(0, ids).reshape({E * h});
    at::Tensor hid = at::relu(recgrid::ops::rows_addmm(b1, k, w1).view({k.size(0), E, h}));
    hid = at::dropout(hid, s_.dropout, train);
    // Second layer expert by expert: [rows x h] x [h x out] each.
    const at::Tensor w2 = w2_.index_select(0, ids), b2 = b2_.index_select(0, ids);
    std::vector<at::Tensor> out;
    for (int64_t e = 0; e < E; ++e) out.push_back(recgrid::ops::rows_addmm(b2[e], hid.select(1, e), w2[e]));
    return at::dropout(at::relu(at::stack(out)), s_.dropout, train);
  }

  // a_t(k) [rows x output].
  at::Tensor operator()(const at::Tensor& k, Task t, bool train) const {
    const at::Tensor g = gates(k, t);                     // [rows, E]
    const at::Tensor e = experts(k, t, train);            // [E, rows, out]
    return (e * g.t().unsqueeze(2)).sum(0);
  }

  const ExpertShape& shape() const { return s_; }

 private:
  at::Tensor expert_ids(Task t, const c10::Device& device) const {
    std::vector<int64_t> ids;
    for (int64_t j = 0; j < s_.shared; ++j) ids.push_back(j);
    for (int64_t j = 0; j < s_.per_task; ++j) ids.push_back(s_.shared + t * s_.per_task + j);
    return at::tensor(ids, at::TensorOptions().dtype(at::kLong)).to(device);
  }

  ExpertShape s_;
  at::Tensor w1_, b1_, w2_, b2_;
  at::Tensor gate_w_[2], gate_b_[2];
};

}  // namespace kar
