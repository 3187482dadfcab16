// IRLLRec's text side (ALGORITHMS.md §3.1, §3.4; paper eq. 7): Zx = mlp_x(X), one tower shared by
// users and items over the constant LLM intent tables X_U [M x d_x], X_I [N x d_x].
//
// The tower only runs on the rows a step reads: all users when every user is a negative, all nodes
// when the translation term or the feature-softmax distillation needs them, otherwise the batch's
// distinct rows. The tables never require a gradient, so no [V x d_x] input gradient is computed.
#pragma once

#include <ATen/ATen.h>

#include <optional>

#include "recgrid/text_mlp.hpp"

namespace irllrec {

// A text encoder: the trainable TextMLP, or (ablation "w/o Text") a fixed random projection.
struct TextEncoder {
  std::optional<recgrid::TextMlp> mlp;
  at::Tensor projection;  // [d_x x d], used when mlp is empty

  at::Tensor operator()(const at::Tensor& x) const { return mlp ? (*mlp)(x) : x.mm(projection); }
};

// The projected rows of one table, computed at most once per step.
class ProjectedTable {
 public:
  ProjectedTable(const TextEncoder& encoder, const at::Tensor& table) : encoder_(encoder), table_(table) {}

  // Every row [rows x d].
  const at::Tensor& all() {
    if (all_.defined()) return all_;
    if (encoder_.mlp) {
      all_hidden_ = encoder_.mlp->hidden(table_);
      all_ = encoder_.mlp->head(all_hidden_);
    } else {
      all_ = encoder_(table_);
    }
    return all_;
  }
  // The tower's first-layer pre-activation of every row (after all(); undefined without a tower).
  at::Tensor all_hidden() const { return all_hidden_.defined() ? all_hidden_.detach() : at::Tensor(); }
  // Projects the distinct rows of `ids` in one tower call, for the rows() calls of this step that read
  // them (the batch's positives and negatives share one call). Nothing to do once all() exists.
  void prepare(const at::Tensor& ids) {
    if (all_.defined()) return;
    prepared_ids_ = std::get<0>(at::_unique(ids, /*sorted=*/true));
    prepared_ = encoder_(table_.index_select(0, prepared_ids_));
  }
  // Rows idx (repeats allowed) [len(idx) x d]: from all() or prepare() when they cover idx, else each
  // distinct row of idx projected once.
  at::Tensor rows(const at::Tensor& idx) {
    if (all_.defined()) return all_.index_select(0, idx);
    if (prepared_.defined()) {
      const at::Tensor at_rows = at::searchsorted(prepared_ids_, idx).clamp_max(prepared_ids_.size(0) - 1);
      if (prepared_ids_.index_select(0, at_rows).equal(idx)) return prepared_.index_select(0, at_rows);
    }
    const auto [distinct, inverse] = at::_unique(idx, /*sorted=*/true, /*return_inverse=*/true);
    return encoder_(table_.index_select(0, distinct)).index_select(0, inverse);
  }

 private:
  const TextEncoder& encoder_;
  const at::Tensor& table_;
  at::Tensor all_, all_hidden_, prepared_ids_, prepared_;
};

}  // namespace irllrec
