// RLMRec-Con (ALGORITHMS.md §3.2): contrastive alignment of the base model's final embeddings with
// projected LLM profile embeddings.
//
//   Zp = mlp_p(P)   one TextMLP(d_p -> d) shared by users and items
//   L_kd = kd_weight / B * [ NCE_A(E*_U[u], Zp_U[u], Zp_U, tau)          all M users' profiles as negatives
//                          + NCE_A(E*_I[p], Zp_I[p], Zp_I[p], tau)       the batch's positives
//                          + NCE_A(E*_I[n], Zp_I[n], Zp_I[n], tau) ]     the batch's negatives
// The user tower runs on all users (they are the negatives); the item tower only on the batch's
// distinct items, which is all the loss reads (REF projects every node every step).
#include <ATen/ATen.h>

#include "recgrid/ops.hpp"
#include "recgrid/sdk.hpp"
#include "recgrid/text_tables.hpp"
#include "recgrid/text_mlp.hpp"

namespace {

class RlmrecCon final : public recgrid::Enhancer {
 public:
  struct Options {
    double kd_weight, kd_temperature;
    int64_t chunk;
    template <class D>
    void declare(D& d) {
      d(kd_weight, "kd_weight", 0.01, "[0, inf)", "weight of the alignment loss");
      d(kd_temperature, "kd_temperature", 0.2, "(0, inf)", "InfoNCE temperature");
      d(chunk, "chunk", 2048, "[1, inf)", "negatives per streamed block");
    }
  };

  static recgrid::PluginSpec spec() {
    recgrid::PluginSpec s{"rlmrec_con",
            "1.0.0",
            "RLMRec-Con: InfoNCE alignment of CF embeddings with projected LLM profiles",
            recgrid::declared_options<Options>(),
            {
                {"profile_user", RG_ROWS_USERS, 0, "user profile embeddings (RLMRec usr_emb_np.pkl)"},
                {"profile_item", RG_ROWS_ITEMS, 0, "item profile embeddings (RLMRec itm_emb_np.pkl)"},
            }};
    s.needs = {recgrid::encoding_tensor("user", "final user embeddings, aligned with the user profiles"),
               recgrid::encoding_tensor("item", "final item embeddings, aligned with the item profiles")};
    return s;
  }

  RlmrecCon(const recgrid::Context& ctx, const Options& o)
      : profile_user_(ctx.inputs.at("profile_user")),
        profile_item_(ctx.inputs.at("profile_item")),
        weight_(o.kd_weight),
        tau_(o.kd_temperature),
        chunk_(o.chunk),
        mlp_(profile_user_.size(1), recgrid::base_embedding_size(ctx, "rlmrec_con"),
             at::TensorOptions().dtype(at::kFloat).device(ctx.device)) {
    recgrid::require_same_width("rlmrec_con", "profile_user", profile_user_, "profile_item", profile_item_);
    register_module("mlp_p", mlp_);
  }

  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors& enc) override {
    const int64_t B = b.users.size(0);
    const at::Tensor& users = enc.at("user");
    const at::Tensor& items = enc.at("item");
    const at::Tensor zu = mlp_(profile_user_);
    const at::Tensor user_term = recgrid::ops::nce_a_rows(users, zu, b.users, zu, tau_, chunk_);
    // Items: project each distinct batch item once; each term works on its distinct items with counts.
    const auto [distinct, inverse] = at::_unique(at::cat({b.pos, b.neg}), /*sorted=*/true, /*return_inverse=*/true);
    const at::Tensor zi = mlp_(profile_item_.index_select(0, distinct));
    const at::Tensor ei = items.index_select(0, distinct);
    const at::Tensor item_terms = recgrid::ops::nce_a_batch(ei, zi, inverse.narrow(0, 0, B), tau_, chunk_) +
                                  recgrid::ops::nce_a_batch(ei, zi, inverse.narrow(0, B, B), tau_, chunk_);
    recgrid::NamedTensors out;
    out.add("kd", (user_term + item_terms) * (weight_ / static_cast<double>(B)));
    return out;
  }

  // The projected profiles Zp, in the base model's space.
  recgrid::NamedTensors text_side() override {
    recgrid::NamedTensors out;
    out.add("user", mlp_(profile_user_));
    out.add("item", mlp_(profile_item_));
    return out;
  }

 private:
  at::Tensor profile_user_, profile_item_;
  double weight_, tau_;
  int64_t chunk_;
  recgrid::TextMlp mlp_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(RlmrecCon)
