// RLMRec-Gen (ALGORITHMS.md §3.3): masked-node reconstruction of LLM profiles.
//
// Every training step:
//   S = floor(mask_ratio * V) (at least 1) distinct node ids, uniform over users and items together
//   E0~_v = t if v in S else E0_v          t: a learnable mask token [1 x d], initialised to 0
//   the base model's training forward runs on E0~ (all its views, BPR included)
//   L_rec = recon_weight * NCE_B( mlp_g(E*[S]), P[S], tau )      P = [P_U; P_I], raw profiles
// where E* is the base model's main view ("user"/"item" of its encoding) and mlp_g = TextMLP(d -> d_p).
// Negatives are the other seeds; NCE_B streams them, so no |S| x |S| matrix is built beyond one
// chunk of columns (REF's worst case is ~16k seeds). seed_keys = k < |S| contrasts only the first k
// seeds (a uniform sample of S: the seeds are a random permutation's prefix), each denominator's other
// terms scaled by (|S|-1)/(k-1) (ops::nce_b_sampled): k² work instead of |S|². Inference: the unmasked
// forward.
// mask_forward = false reproduces REF's BIGCF-Gen: seeds are drawn, the forward stays unmasked.
#include <ATen/ATen.h>

#include <cmath>
#include <stdexcept>

#include "recgrid/ops.hpp"
#include "recgrid/sdk.hpp"
#include "recgrid/text_tables.hpp"
#include "recgrid/text_mlp.hpp"

namespace {

class RlmrecGen final : public recgrid::Enhancer {
 public:
  struct Options {
    double mask_ratio, recon_weight, recon_temperature;
    bool mask_forward;
    int64_t chunk;
    recgrid::SampleKeys seed_keys;
    template <class D>
    void declare(D& d) {
      d(mask_ratio, "mask_ratio", 0.15, "(0, 1)", "share of all nodes masked each step");
      d(recon_weight, "recon_weight", 0.1, "[0, inf)", "weight of the reconstruction loss");
      d(recon_temperature, "recon_temperature", 0.5, "(0, inf)", "NCE_B temperature");
      d(mask_forward, "mask_forward", true, "", "feed the masked layer 0 to the base model (false: REF BIGCF-Gen)");
      d(chunk, "chunk", 2048, "[1, inf)", "negatives per streamed block");
      d(seed_keys, "seed_keys", "auto", recgrid::kSampleKeysRange,
        "0 = every seed contrasted with every seed (exact, |S|² work per step); k >= 2: k of the seeds, each "
        "sum's other terms scaled up to all (for large graphs, README); auto: exact up to 32,768 nodes, 4,096 above");
    }
  };

  static recgrid::PluginSpec spec() {
    recgrid::PluginSpec s{"rlmrec_gen",
            "1.2.0",  // 1.1.0: seed_keys; 1.2.0: its auto
            "RLMRec-Gen: reconstruct LLM profiles of masked nodes from the CF embeddings",
            recgrid::declared_options<Options>(),
            {
                {"profile_user", RG_ROWS_USERS, 0, "user profile embeddings (RLMRec usr_emb_np.pkl)"},
                {"profile_item", RG_ROWS_ITEMS, 0, "item profile embeddings (RLMRec itm_emb_np.pkl)"},
            }};
    s.needs = {recgrid::encoding_tensor("user", "final user embeddings: the masked users' reconstructions"),
               recgrid::encoding_tensor("item", "final item embeddings: the masked items' reconstructions")};
    return s;
  }

  RlmrecGen(const recgrid::Context& ctx, const Options& o)
      : n_users_(ctx.n_users),
        n_nodes_(ctx.n_nodes()),
        profile_user_(ctx.inputs.at("profile_user")),
        profile_item_(ctx.inputs.at("profile_item")),
        ratio_(o.mask_ratio),
        weight_(o.recon_weight),
        tau_(o.recon_temperature),
        mask_forward_(o.mask_forward),
        chunk_(o.chunk),
        seed_keys_(o.seed_keys.resolve(ctx.n_nodes())),
        mlp_(recgrid::base_embedding_size(ctx, "rlmrec_gen"), profile_user_.size(1),
             at::TensorOptions().dtype(at::kFloat).device(ctx.device)) {
    recgrid::require_same_width("rlmrec_gen", "profile_user", profile_user_, "profile_item", profile_item_);
    const int64_t d = recgrid::base_embedding_size(ctx, "rlmrec_gen");
    token_ = register_parameter("mask_token", at::zeros({1, d}, at::TensorOptions().dtype(at::kFloat).device(ctx.device)));
    register_module("mlp_g", mlp_);
  }

  // Draws this step's seeds and (unless mask_forward is off) puts the mask token in their rows.
  at::Tensor transform_inputs(recgrid::Mode mode, const at::Tensor& e0) override {
    if (mode != recgrid::Mode::Train) return e0;
    if (e0.size(1) != token_.size(1))
      throw std::invalid_argument("rlmrec_gen: layer 0 is " + std::to_string(e0.size(1)) +
                                  " wide but rlmrec_gen was sized for " + std::to_string(token_.size(1)) + " at creation");
    const int64_t n_seeds = std::max<int64_t>(1, static_cast<int64_t>(std::floor(ratio_ * static_cast<double>(n_nodes_))));
    seeds_ = at::randperm(n_nodes_, at::TensorOptions().dtype(at::kLong).device(e0.device())).narrow(0, 0, n_seeds);
    if (!mask_forward_) return e0;
    return e0.index_copy(0, seeds_, token_.expand({n_seeds, token_.size(1)}));
  }

  recgrid::NamedTensors loss(const recgrid::Batch&, const recgrid::NamedTensors& enc) override {
    if (!seeds_.defined()) throw std::logic_error("rlmrec_gen: loss before transform_inputs");
    const at::Tensor nodes = at::cat({enc.at("user"), enc.at("item")}, 0);
    const int64_t n_seeds = seeds_.size(0);
    const bool sampled = seed_keys_ > 0 && seed_keys_ < n_seeds;
    const at::Tensor used = sampled ? seeds_.narrow(0, 0, seed_keys_) : seeds_;
    const at::Tensor reconstructed = mlp_(nodes.index_select(0, used));
    const at::Tensor profiles = profiles_of(used);
    recgrid::NamedTensors out;
    out.add("rec", (sampled ? recgrid::ops::nce_b_sampled(reconstructed, profiles, tau_, n_seeds, chunk_)
                            : recgrid::ops::nce_b(reconstructed, profiles, tau_, chunk_)) * weight_);
    return out;
  }

 private:
  // Rows of P = [P_U; P_I] for node ids (users first), without building P.
  at::Tensor profiles_of(const at::Tensor& nodes) const {
    const at::Tensor is_user = nodes < n_users_;
    at::Tensor rows = at::empty({nodes.size(0), profile_user_.size(1)}, profile_user_.options());
    const at::Tensor u = at::nonzero(is_user).squeeze(1), i = at::nonzero(~is_user).squeeze(1);
    rows.index_copy_(0, u, profile_user_.index_select(0, nodes.index_select(0, u)));
    rows.index_copy_(0, i, profile_item_.index_select(0, nodes.index_select(0, i) - n_users_));
    return rows;
  }

  int64_t n_users_, n_nodes_;
  at::Tensor profile_user_, profile_item_;
  double ratio_, weight_, tau_;
  bool mask_forward_;
  int64_t chunk_, seed_keys_;
  recgrid::TextMlp mlp_;
  at::Tensor token_, seeds_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(RlmrecGen)
