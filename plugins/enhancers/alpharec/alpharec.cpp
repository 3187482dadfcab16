// AlphaRec (ALGORITHMS.md §3.6) as an enhancer: layer 0 comes from language embeddings, not ID tables.
//
//   P_I          item language embeddings (RLMRec item profiles, as in the IRLLRec paper)
//   P~_U[u]      mean of P_I over u's TRAINING items (count clamped >= 1): fixed at start, so
//                validation and test items never reach a user's input
//   E0 = [mlp_a(P~_U); mlp_a(P_I)]      mlp_a = Linear(d_p, d_p/2) -> LeakyReLU -> Linear(d_p/2, d),
//                                       PyTorch's default Linear initialisation
//   the base model propagates E0 (preset `alpharec`: LightGCN on Â, layer mean, no BPR)
//   L = mean_b -log( e^{u.p/tau} / (e^{u.p/tau} + sum_{n in Neg_b} e^{u.n/tau}) )   on L2-normalised rows
// Neg_b: the batch's negative when negatives = 1 (what the IRLLRec sampler provides), otherwise K
// items drawn uniformly per row (the original AlphaRec). Inference: raw dot products of E* (REF).
// The base model's ID tables are not read; they receive only the reg gradient.
#include <ATen/ATen.h>

#include <cmath>

#include "recgrid/ops.hpp"
#include "recgrid/row_layer.hpp"
#include "recgrid/sdk.hpp"

namespace {

class AlphaRec final : public recgrid::Enhancer {
 public:
  struct Options {
    double temperature, hidden_ratio;
    int64_t negatives;
    template <class D>
    void declare(D& d) {
      d(temperature, "temperature", 0.15, "(0, inf)", "softmax temperature τ");
      d(negatives, "negatives", 1, "[1, inf)", "negatives per positive: 1 = the batch's negative, K > 1 = K uniform items");
      d(hidden_ratio, "hidden_ratio", 0.5, "(0, inf)", "hidden width of mlp_a as a share of d_p (1/2: 768 for ada-002's 1536)");
    }
  };

  static recgrid::PluginSpec spec() {
    recgrid::PluginSpec s{"alpharec",
            "1.0.0",
            "AlphaRec: layer 0 from an MLP over language embeddings, normalised softmax loss",
            recgrid::declared_options<Options>(),
            {
                {"profile_item", RG_ROWS_ITEMS, 0, "item language embeddings (RLMRec itm_emb_np.pkl)"},
            }};
    s.needs = {recgrid::encoding_tensor("user", "final user embeddings: the softmax loss's queries"),
               recgrid::encoding_tensor("item", "final item embeddings: its keys")};
    return s;
  }

  AlphaRec(const recgrid::Context& ctx, const Options& opts)
      : n_users_(ctx.n_users), n_items_(ctx.n_items), tau_(opts.temperature), negatives_(opts.negatives) {
    const at::Tensor items = ctx.inputs.at("profile_item");
    user_input_ = training_mean(ctx, items);
    item_input_ = items;
    const int64_t d_p = items.size(1), d = recgrid::base_embedding_size(ctx, "alpharec");
    const int64_t h = std::max<int64_t>(1, static_cast<int64_t>(std::floor(d_p * opts.hidden_ratio)));
    const auto o = at::TensorOptions().dtype(at::kFloat).device(ctx.device);
    w1_ = register_parameter("mlp_a.w1", recgrid::ops::fan_in_uniform({h, d_p}, d_p, o));
    b1_ = register_parameter("mlp_a.b1", recgrid::ops::fan_in_uniform({h}, d_p, o));
    w2_ = register_parameter("mlp_a.w2", recgrid::ops::fan_in_uniform({d, h}, h, o));
    b2_ = register_parameter("mlp_a.b2", recgrid::ops::fan_in_uniform({d}, h, o));
  }

  // P~_U: each user's mean training-item embedding (users without training items get zeros).
  static at::Tensor training_mean(const recgrid::Context& ctx, const at::Tensor& items) {
    const auto o = items.options();
    at::Tensor sum = at::zeros({ctx.n_users, items.size(1)}, o);
    sum.index_add_(0, ctx.train_user.to(items.device()), items.index_select(0, ctx.train_item.to(items.device())));
    at::Tensor count = at::zeros({ctx.n_users}, o);
    count.index_add_(0, ctx.train_user.to(items.device()), at::ones({ctx.train_user.size(0)}, o));
    return sum / count.clamp_min(1).unsqueeze(1);
  }

  at::Tensor transform_inputs(recgrid::Mode, const at::Tensor& e0) override {
    if (e0.size(1) != w2_.size(0))
      throw std::invalid_argument("alpharec: the base model's layer 0 is " + std::to_string(e0.size(1)) +
                                  " wide but alpharec was sized for " + std::to_string(w2_.size(0)) + " at creation");
    return mlp(at::cat({user_input_, item_input_}, 0));
  }

  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors& enc) override {
    const int64_t B = b.users.size(0);
    const at::Tensor u = recgrid::ops::unit_rows(enc.at("user").index_select(0, b.users));      // [B, d]
    const at::Tensor items = enc.at("item");
    const at::Tensor p = recgrid::ops::unit_rows(items.index_select(0, b.pos));                  // [B, d]
    const at::Tensor neg_ids = negatives_ == 1
                                   ? b.neg.unsqueeze(1)
                                   : at::randint(n_items_, {B, negatives_}, b.neg.options());
    const at::Tensor n = recgrid::ops::unit_rows(items.index_select(0, neg_ids.reshape({-1}))).view({B, neg_ids.size(1), -1});
    const at::Tensor pos_logit = (u * p).sum(1, /*keepdim=*/true) / tau_;           // [B, 1]
    const at::Tensor neg_logit = at::bmm(n, u.unsqueeze(2)).squeeze(2) / tau_;     // [B, K]
    // -log(e^pos / (e^pos + sum e^neg)) = logsumexp([pos, neg]) - pos
    const at::Tensor all = at::cat({pos_logit, neg_logit}, 1);
    recgrid::NamedTensors out;
    out.add("softmax", (at::logsumexp(all, 1) - pos_logit.squeeze(1)).mean());
    return out;
  }

  // Its layer 0 before propagation: mlp_a of the users' mean item embeddings and of the items'.
  recgrid::NamedTensors text_side() override {
    recgrid::NamedTensors out;
    out.add("user", mlp(user_input_));
    out.add("item", mlp(item_input_));
    return out;
  }

 private:
  at::Tensor mlp(const at::Tensor& x) const {
    using recgrid::ops::rows_addmm;  // the weights' gradients: the same bits at any thread count
    return rows_addmm(b2_, at::leaky_relu(rows_addmm(b1_, x, w1_.t()), 0.01), w2_.t());
  }

  int64_t n_users_, n_items_;
  double tau_;
  int64_t negatives_;
  at::Tensor user_input_, item_input_;
  at::Tensor w1_, b1_, w2_, b2_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(AlphaRec)
