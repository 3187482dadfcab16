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
  static recgrid::PluginSpec spec() {
    return {"kar",
            "1.0.0",
            "KAR: hybrid-expert adaptor turning LLM knowledge into layer-0 augmentation vectors",
            {
                {"fusion", "string", "\"concat\"", "add (E0 = ID + A) or concat (E0 = [ID | A]; base embedding_size = 2 dim)", "{add, concat}"},
                {"dim", "int", "32", "width of the augmentation vectors", "[1, inf)"},
                {"shared_experts", "int", "2", "experts shared by the user and item tasks", "[0, inf)"},
                {"task_experts", "int", "6", "experts of each task", "[1, inf)"},
                {"expert_hidden", "int", "128", "hidden width of each expert", "[1, inf)"},
                {"dropout", "float", "0.0", "dropout inside the experts (training only)", "[0, 1)"},
            },
            {
                {"profile_user", RG_ROWS_USERS, 0, "user knowledge: profile embeddings (RLMRec usr_emb_np.pkl)"},
                {"profile_item", RG_ROWS_ITEMS, 0, "item knowledge: profile embeddings (RLMRec itm_emb_np.pkl)"},
            }};
  }

  Kar(const recgrid::Context& ctx, const recgrid::Options& opts)
      : profile_user_(ctx.inputs.at("profile_user")),
        profile_item_(ctx.inputs.at("profile_item")),
        fusion_(opts.get<std::string>("fusion")),
        experts_(shape_of(opts, profile_user_.size(1)), at::TensorOptions().dtype(at::kFloat).device(ctx.device)) {
    recgrid::require_same_width("kar", "profile_user", profile_user_, "profile_item", profile_item_);
    if (fusion_ != "add" && fusion_ != "concat")
      throw std::invalid_argument("kar: fusion must be add or concat, not '" + fusion_ + "'");
    experts_.register_as("adaptor", [this](std::string n, at::Tensor t) { return register_parameter(std::move(n), t); });
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

 private:
  static kar::ExpertShape shape_of(const recgrid::Options& opts, int64_t input) {
    kar::ExpertShape s;
    s.input = input;
    s.output = opts.get<int64_t>("dim");
    s.hidden = opts.get<int64_t>("expert_hidden");
    s.shared = opts.get<int64_t>("shared_experts");
    s.per_task = opts.get<int64_t>("task_experts");
    s.dropout = opts.get<double>("dropout");
    if (s.output <= 0 || s.hidden <= 0 || s.shared < 0 || s.per_task < 0 || s.shared + s.per_task == 0)
      throw std::invalid_argument("kar: need dim > 0, expert_hidden > 0 and at least one expert per task");
    if (s.dropout < 0 || s.dropout >= 1) throw std::invalid_argument("kar: dropout must be in [0, 1)");
    return s;
  }

  at::Tensor profile_user_, profile_item_;
  std::string fusion_;
  kar::HybridExperts experts_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(Kar)
