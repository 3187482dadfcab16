// LightGCN, SSLRec variant (ALGORITHMS.md §2.1).
//
//   E^{l+1} = S E^l,  l = 0..L-1,     E* = sum_{l=0..L} E^l   (a sum that includes layer 0)
//   training: S = Drop_keep(Â)  (fresh mask every step, no rescaling: asymmetric)
//   inference: S = Â
//   loss: BPR(E*_U[users], E*_I[pos], E*_I[neg]); the host adds reg_weight * Reg.
#include <ATen/ATen.h>

#include "recgrid/ops.hpp"
#include "recgrid/sdk.hpp"

namespace {

class LightGCN final : public recgrid::BaseModel {
 public:
  static recgrid::PluginSpec spec() {
    return {"lightgcn",
            "1.0.0",
            "LightGCN (SSLRec variant): layer-sum propagation on the normalised graph with edge dropout",
            {
                {"layers", "int", "3", "number of propagation layers L"},
                {"embedding_size", "int", "32", "width d of the user and item ID embeddings"},
                {"keep_rate", "float", "0.8", "training edge keep probability (1.0 = no dropout)"},
            }};
  }

  LightGCN(const recgrid::Context& ctx, const recgrid::Options& opts)
      : graph_(ctx.graph),
        n_users_(ctx.n_users),
        layers_(opts.get<int64_t>("layers")),
        keep_rate_(opts.get<double>("keep_rate")) {
    const int64_t d = opts.get<int64_t>("embedding_size");
    if (layers_ < 0) throw std::invalid_argument("layers must be >= 0");
    if (d <= 0) throw std::invalid_argument("embedding_size must be positive");
    if (keep_rate_ <= 0 || keep_rate_ > 1) throw std::invalid_argument("keep_rate must be in (0, 1]");
    const auto options = at::TensorOptions().dtype(at::kFloat).device(ctx.device);
    user_emb_ = register_parameter("user_emb", recgrid::ops::xavier_uniform(ctx.n_users, d, options));
    item_emb_ = register_parameter("item_emb", recgrid::ops::xavier_uniform(ctx.n_items, d, options));
  }

  at::Tensor layer0() override { return at::cat({user_emb_, item_emb_}, 0); }

  recgrid::NamedTensors encode(recgrid::Mode mode, const at::Tensor& e0) override {
    const at::Tensor values =
        mode == recgrid::Mode::Train ? recgrid::ops::drop_edges(graph_.norm, keep_rate_) : graph_.norm;
    const std::vector<at::Tensor> prop = recgrid::ops::propagate(graph_, values, e0, layers_);
    const at::Tensor& sum = prop[0];
    recgrid::NamedTensors out;
    out.add("layer.0", e0);
    for (int64_t l = 1; l <= layers_; ++l) out.add("layer." + std::to_string(l), prop[l]);
    out.add("final", sum);
    out.add("user", sum.narrow(0, 0, n_users_));
    out.add("item", sum.narrow(0, n_users_, sum.size(0) - n_users_));
    return out;
  }

  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors& enc) override {
    // One gather from the node-level sum (items are nodes M + i): its backward is a single
    // scatter, where gathering from the user/item slices would add two full-size slice backwards.
    const int64_t B = b.users.size(0);
    const at::Tensor rows = enc.at("final").index_select(0, at::cat({b.users, b.pos + n_users_, b.neg + n_users_}));
    recgrid::NamedTensors out;
    out.add("bpr", recgrid::ops::bpr_loss(rows.narrow(0, 0, B), rows.narrow(0, B, B), rows.narrow(0, 2 * B, B)));
    return out;
  }

 private:
  recgrid::Graph graph_;
  int64_t n_users_, layers_;
  double keep_rate_;
  at::Tensor user_emb_, item_emb_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(LightGCN)
