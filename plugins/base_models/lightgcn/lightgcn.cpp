// LightGCN, SSLRec variant (ALGORITHMS.md §2.1).
//
//   E^{l+1} = S E^l,  l = 0..L-1,     E* = sum_{l=0..L} E^l   (a sum that includes layer 0;
//                                     layer_combination mean divides it by L+1, as AlphaRec does)
//   training: S = Drop_keep(Â)  (fresh mask every step, no rescaling: asymmetric)
//   inference: S = Â
//   loss: bpr_weight * BPR(E*_U[users], E*_I[pos], E*_I[neg]); the host adds reg_weight * Reg.
//         bpr_weight 0 leaves the loss to an enhancer (AlphaRec).
#include <ATen/ATen.h>

#include "recgrid/id_model.hpp"

namespace {

class LightGCN final : public recgrid::IdEmbeddingModel {
 public:
  static recgrid::PluginSpec spec() {
    return {"lightgcn",
            "1.0.0",
            "LightGCN (SSLRec variant): layer-sum propagation on the normalised graph with edge dropout",
            {
                {"layers", "int", "3", "number of propagation layers L", "[1, inf)"},
                {"embedding_size", "int", "32", "width d of the user and item ID embeddings", "[1, inf)"},
                {"keep_rate", "float", "0.8", "training edge keep probability (1.0 = no dropout)", "(0, 1]"},
                {"layer_combination", "string", "\"sum\"", "E* = sum (SSLRec) or mean (AlphaRec) of layers 0..L", "{sum, mean}"},
                {"bpr_weight", "float", "1.0", "weight of BPR (0: no BPR term, e.g. under AlphaRec)", "[0, inf)"},
            }};
  }

  LightGCN(const recgrid::Context& ctx, const recgrid::Options& opts)
      : IdEmbeddingModel(ctx, opts.get<int64_t>("embedding_size")),
        graph_(ctx.graph),
        layers_(opts.get<int64_t>("layers")),
        keep_rate_(opts.get<double>("keep_rate")),
        bpr_weight_(opts.get<double>("bpr_weight")) {
    const std::string combination = opts.get<std::string>("layer_combination");
    if (combination != "sum" && combination != "mean")
      throw std::invalid_argument("layer_combination must be sum or mean, not '" + combination + "'");
    mean_ = combination == "mean";
    if (layers_ < 0) throw std::invalid_argument("layers must be >= 0");
    if (keep_rate_ <= 0 || keep_rate_ > 1) throw std::invalid_argument("keep_rate must be in (0, 1]");
  }

  recgrid::NamedTensors encode(recgrid::Mode mode, const at::Tensor& e0) override {
    const at::Tensor values =
        mode == recgrid::Mode::Train ? recgrid::ops::drop_edges(graph_.norm, keep_rate_) : graph_.norm;
    const std::vector<at::Tensor> prop = recgrid::ops::propagate(graph_, values, e0, layers_);
    const at::Tensor sum = mean_ ? prop[0] / static_cast<double>(layers_ + 1) : prop[0];
    recgrid::NamedTensors out;
    out.add("layer.0", e0);
    for (int64_t l = 1; l <= layers_; ++l) out.add("layer." + std::to_string(l), prop[l]);
    out.add("final", sum);
    add_users_items(out, "", sum);
    return out;
  }

  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors& enc) override {
    recgrid::NamedTensors out;
    if (bpr_weight_ != 0) out.add("bpr", bpr(b, enc.at("final")) * bpr_weight_);
    return out;
  }

 private:
  recgrid::Graph graph_;
  int64_t layers_;
  double keep_rate_, bpr_weight_;
  bool mean_ = false;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(LightGCN)
