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
  struct Options {
    int64_t layers, embedding_size;
    double keep_rate, bpr_weight;
    std::string layer_combination;
    template <class D>
    void declare(D& d) {
      d(layers, "layers", 3, "[1, inf)", "propagation layers L");
      d(embedding_size, "embedding_size", 32, "[1, inf)", "width d of the user and item ID tables");
      d(keep_rate, "keep_rate", 0.8, "(0, 1]", "training edge keep probability; 1.0 disables dropout (IRLLRec's LightGCN)");
      d(layer_combination, "layer_combination", "sum", "{sum, mean}",
        "`E*` = sum of layers 0..L (SSLRec) or their mean (AlphaRec)");
      d(bpr_weight, "bpr_weight", 1.0, "[0, inf)", "weight of BPR; 0 drops the term (AlphaRec supplies its own loss)");
    }
  };

  static recgrid::PluginSpec spec() {
    return {"lightgcn", "1.0.0",
            "LightGCN (SSLRec variant): layer-sum propagation on the normalised graph with edge dropout",
            recgrid::declared_options<Options>(), {}, 0, recgrid::standard_encoding("layers")};
  }

  LightGCN(const recgrid::Context& ctx, const Options& o)
      : IdEmbeddingModel(ctx, o.embedding_size),
        graph_(ctx.graph),
        layers_(o.layers),
        keep_rate_(o.keep_rate),
        bpr_weight_(o.bpr_weight),
        mean_(o.layer_combination == "mean") {}

  recgrid::NamedTensors encode(recgrid::Mode mode, const at::Tensor& e0) override {
    const at::Tensor values =
        mode == recgrid::Mode::Train ? recgrid::ops::drop_edges(graph_.norm, keep_rate_) : graph_.norm;
    const std::vector<at::Tensor> prop = recgrid::ops::propagate(graph_, values, e0, layers_);
    const at::Tensor sum = mean_ ? prop[0] / static_cast<double>(layers_ + 1) : prop[0];
    recgrid::NamedTensors out;
    add_encoding(out, e0, layers_of(prop), sum);
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
