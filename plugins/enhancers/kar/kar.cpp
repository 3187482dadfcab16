// KAR as a graph-CF enhancer (ALGORITHMS.md §3.7): knowledge vectors (LLM profiles) pass through the
// hybrid-expert adaptor (hybrid_experts.hpp) and join the base model's layer-0 embeddings.
//
//   A_U = HEA_user(P_U), A_I = HEA_item(P_I)   recomputed for all nodes every step (REF behaviour)
//   fusion add:    E0 = ID + A                 the base model keeps its width d
//   fusion concat: E0 = [ID | A]               width 2d: the base model is configured with
//                                              embedding_size 2d and KAR overwrites the second
//                                              half of its layer 0 with A (that half of the ID
//                                              tables is never used; reg keeps it at ~0)
// No loss of its own: KAR trains through the base model's losses (and reg covers the adaptor).
#include <ATen/ATen.h>

#include "hybrid_experts.hpp"
#include "recgrid/sdk.hpp"
#include "recgrid/text_tables.hpp"

namespace {

class Kar final : public recgrid::Enhancer {
 public:
  struct Options {
    std::string fusion;
    int64_t dim, shared_experts, task_experts, expert_hidden;
    double dropout;
    template <class D>
    void declare(D& d) {
      d(fusion, "fusion", "concat", "{add, concat}",
        "add (E0 = ID + A) or concat (E0 = [ID, A] side by side: the base model's embedding_size is 2 dim)");
      d(dim, "dim", 32, "[1, inf)", "width of the augmentation vectors");
      d(shared_experts, "shared_experts", 2, "[0, inf)", "experts shared by the user and item tasks");
      d(task_experts, "task_experts", 6, "[1, inf)", "experts of each task");
      d(expert_hidden, "expert_hidden", 128, "[1, inf)", "hidden width of each expert");
      d(dropout, "dropout", 0.0, "[0, 1)", "dropout inside the experts (training only)");
    }
  };

  static recgrid::PluginSpec spec() {
    return {"kar",
            "1.0.0",
            "KAR: hybrid-expert adaptor turning LLM knowledge into layer-0 augmentation vectors",
            recgrid::declared_options<Options>(),
            {
                {"profile_user", RG_ROWS_USERS, 0, "user knowledge: profile embeddings (RLMRec usr_emb_np.pkl)"},
                {"profile_item", RG_ROWS_ITEMS, 0, "item knowledge: profile embeddings (RLMRec itm_emb_np.pkl)"},
            }};
  }

  Kar(const recgrid::Context& ctx, const Options& o)
      : profile_user_(ctx.inputs.at("profile_user")),
        profile_item_(ctx.inputs.at("profile_item")),
        fusion_(o.fusion),
        experts_(kar::ExpertShape{profile_user_.size(1), o.expert_hidden, o.dim, o.shared_experts, o.task_experts, o.dropout},
                 at::TensorOptions().dtype(at::kFloat).device(ctx.device)) {
    recgrid::require_same_width("kar", "profile_user", profile_user_, "profile_item", profile_item_);
    register_module("adaptor", experts_);
  }

  at::Tensor transform_inputs(recgrid::Mode mode, const at::Tensor& e0) override {
    const bool train = mode == recgrid::Mode::Train;
    const at::Tensor a = at::cat({experts_(profile_user_, kar::HybridExperts::kUser, train),
                                  experts_(profile_item_, kar::HybridExperts::kItem, train)}, 0);
    const int64_t d = a.size(1);
    if (fusion_ == "add") {
      if (e0.size(1) != d)
        throw std::invalid_argument("kar: fusion add needs the base model's embedding_size (" + std::to_string(e0.size(1)) +
                                    ") to equal kar.dim (" + std::to_string(d) + ")");
      return e0 + a;
    }
    if (e0.size(1) != 2 * d)
      throw std::invalid_argument("kar: fusion concat needs the base model's embedding_size (" + std::to_string(e0.size(1)) +
                                  ") to be 2 x kar.dim (" + std::to_string(2 * d) + ")");
    return at::cat({e0.narrow(1, 0, d), a}, 1);
  }

  // The knowledge vectors A_U, A_I (the adaptor's output, as at evaluation).
  recgrid::NamedTensors text_side() override {
    recgrid::NamedTensors out;
    out.add("user", experts_(profile_user_, kar::HybridExperts::kUser, false));
    out.add("item", experts_(profile_item_, kar::HybridExperts::kItem, false));
    return out;
  }

 private:
  at::Tensor profile_user_, profile_item_;
  std::string fusion_;
  kar::HybridExperts experts_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(Kar)
