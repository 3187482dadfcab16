// Helpers for base models whose layer 0 is a pair of ID embedding tables (all of ALGORITHMS.md §2).
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "recgrid/ops.hpp"
#include "recgrid/sdk.hpp"

namespace recgrid {

// Owns the Xavier-uniform tables U [M x d] and I [N x d] (parameters "user_emb", "item_emb"),
// serves E0 = [U; I], and the two things every such model repeats: splitting a node tensor into
// users and items, and BPR on a batch gathered from a node tensor.
class IdEmbeddingModel : public BaseModel {
 public:
  at::Tensor layer0() override { return at::cat({user_emb_, item_emb_}, 0); }

 protected:
  IdEmbeddingModel(const Context& ctx, int64_t dim) : n_users_(ctx.n_users) {
    if (dim <= 0) throw std::invalid_argument("embedding_size must be positive");
    const auto options = at::TensorOptions().dtype(at::kFloat).device(ctx.device);
    user_emb_ = register_parameter("user_emb", ops::xavier_uniform(ctx.n_users, dim, options));
    item_emb_ = register_parameter("item_emb", ops::xavier_uniform(ctx.n_items, dim, options));
  }

  // Adds prefix+"user" [M x d] and prefix+"item" [N x d], views of `nodes` [V x d].
  void add_users_items(NamedTensors& out, const std::string& prefix, const at::Tensor& nodes) const {
    out.add(prefix + "user", nodes.narrow(0, 0, n_users_));
    out.add(prefix + "item", nodes.narrow(0, n_users_, nodes.size(0) - n_users_));
  }

  // BPR on rows of `nodes` (items are nodes M + i). One gather: its backward is a single scatter,
  // where gathering from user/item slices would add two full-size slice backwards.
  at::Tensor bpr(const Batch& b, const at::Tensor& nodes) const {
    const int64_t B = b.users.size(0);
    const at::Tensor rows = nodes.index_select(0, at::cat({b.users, b.pos + n_users_, b.neg + n_users_}));
    return ops::bpr_loss(rows.narrow(0, 0, B), rows.narrow(0, B, B), rows.narrow(0, 2 * B, B));
  }

  int64_t n_users_;
  at::Tensor user_emb_, item_emb_;
};

}  // namespace recgrid
