// Helpers for base models whose layer 0 is a pair of ID embedding tables (all of ALGORITHMS.md §2).
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "recgrid/ops.hpp"
#include "recgrid/sdk.hpp"

namespace recgrid {

// Owns the Xavier-uniform tables U [M x d] and I [N x d] (parameters "user_emb", "item_emb"),
// serves E0 = [U; I], and what every such model repeats: the encoding names of abi.h, splitting a
// node tensor into users and items, BPR on a batch gathered from a node tensor, and the two-view
// InfoNCE of the contrastive models.
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

  // The encoding of the main view (abi.h): "layer.0" = e0, "layer.1".."layer.L" = layers, "final",
  // and "user" / "item", views of final.
  void add_encoding(NamedTensors& out, const at::Tensor& e0, const std::vector<at::Tensor>& layers,
                    const at::Tensor& final) const {
    out.add("layer.0", e0);
    for (size_t l = 0; l < layers.size(); ++l) out.add("layer." + std::to_string(l + 1), layers[l]);
    out.add("final", final);
    add_users_items(out, "", final);
  }

  // A contrastive view's encoding: prefix+"layer.1".."layer.L" and prefix+"user" / prefix+"item" of `sum`.
  void add_view(NamedTensors& out, const std::string& prefix, const std::vector<at::Tensor>& layers,
                const at::Tensor& sum) const {
    for (size_t l = 0; l < layers.size(); ++l) out.add(prefix + "layer." + std::to_string(l + 1), layers[l]);
    add_users_items(out, prefix, sum);
  }

  // What add_view() gives for "view1." and "view2." (SGL, SimGCL): each view's user/item rows and
  // its layers 1..L (it shares layer 0), L being the int option `layers_option`.
  static std::vector<rg_tensor_spec> two_view_encoding(const char* layers_option) {
    return {encoding_tensor("view1.user", "view 1's users [M x d] (training only)"),
            encoding_tensor("view1.item", "view 1's items [N x d]"),
            encoding_layers("view1.layer.<l>", 1, "view 1's layers [V x d]", layers_option),
            encoding_tensor("view2.user", "view 2's users [M x d]"),
            encoding_tensor("view2.item", "view 2's items [N x d]"),
            encoding_layers("view2.layer.<l>", 1, "view 2's layers [V x d]", layers_option)};
  }

  // The layers 1..L of ops::propagate's result (its element 0 is their sum with layer 0).
  static std::vector<at::Tensor> layers_of(const std::vector<at::Tensor>& propagated) {
    return {propagated.begin() + 1, propagated.end()};
  }

  // SGL's and SimGCL's contrastive term (ALGORITHMS.md §2.2, §2.3): InfoNCE between "view1." and
  // "view2." rows of the batch's users (keys: every user of view 2) plus the same for `items` (keys:
  // every item of view 2); the caller divides by B. keys > 0: each side's keys are a uniform sample
  // of that many rows instead, fresh each step, users drawn first (the `contrast_keys` option).
  static at::Tensor two_view_infonce(const NamedTensors& enc, const at::Tensor& users, const at::Tensor& items,
                                     double tau, int64_t chunk, int64_t keys = 0) {
    // Two statements: the operands of + may be evaluated in either order, and the draws must not be.
    const at::Tensor user_term = view_infonce(enc.at("view1.user"), enc.at("view2.user"), users, tau, chunk, keys);
    return user_term + view_infonce(enc.at("view1.item"), enc.at("view2.item"), items, tau, chunk, keys);
  }

  // One side of two_view_infonce: every row of y as keys, or (0 < keys < rows) a uniform sample.
  static at::Tensor view_infonce(const at::Tensor& x, const at::Tensor& y, const at::Tensor& idx, double tau,
                                 int64_t chunk, int64_t keys) {
    if (keys <= 0 || keys >= y.size(0)) return ops::nce_a_rows(x, y, idx, y, tau, chunk);
    const at::Tensor drawn = at::randperm(y.size(0), idx.options()).narrow(0, 0, keys);
    return ops::nce_a_rows_sampled(x, y, idx, drawn, tau, chunk);
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
