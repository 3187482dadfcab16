// BIGCF (ALGORITHMS.md §2.5).
//   S   = sum_{l=0..L} E^l,  E^{l+1} = Â E^l                 (LightGCN sum, no dropout)
//   Z_c = [Int_{C_u}(S_U); Int_{C_i}(S_I)]                     (K intent prototypes per side)
//   E*  = S + Z_c ⊙ ε,  ε ~ N(0, 1)^{V x d} on every forward  (reparameterisation)
//   CL  = NCE_C(ê_u, ê_u) + NCE_C(ê_i, ê_i) + NCE_C(ê_u, ê_i) + NCE_C(ẑ_u, ẑ_u) + NCE_C(ẑ_i, ẑ_i)
//         on normalised batch rows of E* and Z_c (u = batch users with duplicates, i = positives)
//   loss = BPR(E*) + cen_weight * (||C_u||² + ||C_i||²) + cl_weight * CL
// Evaluation (REF): a fresh ε for every evaluation user batch (flag RG_FLAG_ENCODE_PER_EVAL_BATCH);
// option eval_noise = false scores with ε = 0 instead (deterministic, not the paper's protocol).
#include <ATen/ATen.h>

#include "recgrid/id_model.hpp"

namespace {

class BIGCF final : public recgrid::IdEmbeddingModel {
 public:
  static recgrid::PluginSpec spec() {
    return {"bigcf",
            "1.0.0",
            "BIGCF: intent-based reparameterised embeddings with graph contrastive regularisation",
            {
                {"layers", "int", "3", "number of propagation layers L", "[1, inf)"},
                {"embedding_size", "int", "32", "width d of the ID embeddings", "[1, inf)"},
                {"intents", "int", "128", "number of intent prototypes K per side", "[1, inf)"},
                {"cl_weight", "float", "0.05", "weight of the contrastive loss", "[0, inf)"},
                {"temperature", "float", "0.2", "contrastive temperature tau", "(0, inf)"},
                {"cen_weight", "float", "1e-5", "weight of the prototype norm penalty", "[0, inf)"},
                {"eval_noise", "bool", "true", "draw fresh reparameterisation noise at evaluation (REF)"},
            },
            {},
            RG_FLAG_ENCODE_PER_EVAL_BATCH};
  }

  BIGCF(const recgrid::Context& ctx, const recgrid::Options& opts)
      : IdEmbeddingModel(ctx, opts.get<int64_t>("embedding_size")),
        graph_(ctx.graph),
        layers_(opts.get<int64_t>("layers")),
        cl_weight_(opts.get<double>("cl_weight")),
        tau_(opts.get<double>("temperature")),
        cen_weight_(opts.get<double>("cen_weight")),
        eval_noise_(opts.get<bool>("eval_noise")) {
    const int64_t d = opts.get<int64_t>("embedding_size"), K = opts.get<int64_t>("intents");
    if (layers_ < 0 || K <= 0 || tau_ <= 0)
      throw std::invalid_argument("bigcf: need layers >= 0, intents > 0, temperature > 0");
    const auto options = at::TensorOptions().dtype(at::kFloat).device(ctx.device);
    user_intents_ = register_parameter("user_intents", recgrid::ops::xavier_uniform(d, K, options));
    item_intents_ = register_parameter("item_intents", recgrid::ops::xavier_uniform(d, K, options));
  }

  recgrid::NamedTensors encode(recgrid::Mode mode, const at::Tensor& e0) override {
    const std::vector<at::Tensor> prop = recgrid::ops::propagate(graph_, graph_.norm, e0, layers_);
    const at::Tensor& s = prop[0];
    const at::Tensor zc =
        at::cat({recgrid::ops::intent_aggregate(s.narrow(0, 0, n_users_), user_intents_),
                 recgrid::ops::intent_aggregate(s.narrow(0, n_users_, s.size(0) - n_users_), item_intents_)});
    const bool noisy = mode == recgrid::Mode::Train || eval_noise_;
    const at::Tensor final = noisy ? s + zc * at::randn_like(zc) : s;
    recgrid::NamedTensors out;
    out.add("layer.0", e0);
    for (int64_t l = 1; l <= layers_; ++l) out.add("layer." + std::to_string(l), prop[l]);
    out.add("clean", s);
    out.add("intent", zc);
    out.add("intent.user", user_intents_);
    out.add("intent.item", item_intents_);
    out.add("final", final);
    add_users_items(out, "", final);
    return out;
  }

  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors& enc) override {
    const int64_t B = b.users.size(0);
    const at::Tensor rows = enc.at("final").index_select(0, at::cat({b.users, b.pos + n_users_, b.neg + n_users_}));
    const at::Tensor eu = rows.narrow(0, 0, B), ei = rows.narrow(0, B, B);
    recgrid::NamedTensors out;
    out.add("bpr", recgrid::ops::bpr_loss(eu, ei, rows.narrow(0, 2 * B, B)));
    out.add("cen", (user_intents_.pow(2).sum() + item_intents_.pow(2).sum()) * cen_weight_);
    const at::Tensor z = enc.at("intent");
    const at::Tensor zu = z.index_select(0, b.users), zi = z.index_select(0, b.pos + n_users_);
    using recgrid::ops::nce_b;  // NCE_C = NCE_B on rows normalised inside
    const at::Tensor cl = nce_b(eu, eu, tau_) + nce_b(ei, ei, tau_) + nce_b(eu, ei, tau_) + nce_b(zu, zu, tau_) +
                          nce_b(zi, zi, tau_);
    out.add("cl", cl * cl_weight_);
    return out;
  }

 private:
  recgrid::Graph graph_;
  int64_t layers_;
  double cl_weight_, tau_, cen_weight_;
  bool eval_noise_;
  at::Tensor user_intents_, item_intents_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(BIGCF)
