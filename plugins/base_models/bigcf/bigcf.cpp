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
  struct Options {
    int64_t layers, embedding_size, intents;
    double cl_weight, temperature, cen_weight;
    bool eval_noise;
    template <class D>
    void declare(D& d) {
      d(layers, "layers", 3, "[1, inf)", "propagation layers L");
      d(embedding_size, "embedding_size", 32, "[1, inf)", "width d of the ID tables");
      d(intents, "intents", 128, "[1, inf)", "intent prototypes K per side");
      d(cl_weight, "cl_weight", 0.05, "[0, inf)", "weight of the contrastive loss");
      d(temperature, "temperature", 0.2, "(0, inf)", "contrastive temperature τ");
      d(cen_weight, "cen_weight", "1e-5", "[0, inf)", "weight of the prototype norm penalty");
      d(eval_noise, "eval_noise", true, "", "draw fresh reparameterisation noise at evaluation (REF)");
    }
  };

  // Beyond the standard encoding: the prototypes it lends enhancers and the two parts of E*.
  static std::vector<rg_tensor_spec> gives_beyond_standard() {
    std::vector<rg_tensor_spec> extras = recgrid::intent_prototypes("user_intents", "item_intents");
    extras.push_back(recgrid::encoding_tensor("clean", "S, the noiseless layer sum [V x d]"));
    extras.push_back(recgrid::encoding_tensor("intent", "Z_c, the intent-aware node embeddings [V x d]"));
    return extras;
  }

  static recgrid::PluginSpec spec() {
    return {"bigcf", "1.0.0", "BIGCF: intent-based reparameterised embeddings with graph contrastive regularisation",
            recgrid::declared_options<Options>(), {}, RG_FLAG_ENCODE_PER_EVAL_BATCH,
            recgrid::standard_encoding("layers", gives_beyond_standard())};
  }

  BIGCF(const recgrid::Context& ctx, const Options& o)
      : IdEmbeddingModel(ctx, o.embedding_size),
        graph_(ctx.graph),
        layers_(o.layers),
        cl_weight_(o.cl_weight),
        tau_(o.temperature),
        cen_weight_(o.cen_weight),
        eval_noise_(o.eval_noise) {
    const auto options = at::TensorOptions().dtype(at::kFloat).device(ctx.device);
    user_intents_ = register_parameter("user_intents", recgrid::ops::xavier_uniform(o.embedding_size, o.intents, options));
    item_intents_ = register_parameter("item_intents", recgrid::ops::xavier_uniform(o.embedding_size, o.intents, options));
  }

  recgrid::NamedTensors encode(recgrid::Mode mode, const at::Tensor& e0) override {
    const std::vector<at::Tensor> prop = recgrid::ops::propagate(graph_, graph_.norm, e0, layers_);
    const at::Tensor& s = prop[0];
    const at::Tensor zc = recgrid::ops::intent_aggregate_per_side(s, n_users_, user_intents_, item_intents_);
    const bool noisy = mode == recgrid::Mode::Train || eval_noise_;
    const at::Tensor final = noisy ? s + zc * at::randn_like(zc) : s;
    recgrid::NamedTensors out;
    out.add("clean", s);
    out.add("intent", zc);
    out.add("intent.user", user_intents_);
    out.add("intent.item", item_intents_);
    add_encoding(out, e0, layers_of(prop), final);
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
