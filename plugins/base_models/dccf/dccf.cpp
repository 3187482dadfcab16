// DCCF (ALGORITHMS.md §2.4). Layer l = 0..L-1 with input E^l:
//   Z_g  = Â E^l                                      graph message passing
//   Z_c  = [Int_{C_u}(E^l_U); Int_{C_i}(E^l_I)]        intent-aware (K prototypes per side)
//   Z_ga = G_α(Z_g) E^l                                graph-adaptive augmentation
//   Z_ia = G_α(Z_c) E^l                                intent-adaptive augmentation
//   E^{l+1} = Z_g + Z_c + Z_ga + Z_ia + E^l,   E* = sum_{l=0..L} E^l   (same at inference)
// G_α(X) = AM(X): edge weights (cos + 1) / 2 on the plain graph, row-normalised; never V x V.
//   CL = sum_l sum_{X in {Z_c, Z_ga, Z_ia}} [ NCE_A(Z_g[Uq], X[Uq], X[Uq]) + NCE_A(Z_g[Iq], X[Iq], X[Iq]) ] / |Uq|
//   with Uq, Iq the batch's unique users and positive items.
//   loss = BPR + cl_weight * CL   (the host adds reg_weight * sum ||θ||^2, prototypes included)
#include <ATen/ATen.h>

#include <cmath>

#include "recgrid/id_model.hpp"

namespace {

class DCCF final : public recgrid::IdEmbeddingModel {
 public:
  struct Options {
    int64_t layers, embedding_size, intents, chunk;
    double cl_weight, temperature;
    template <class D>
    void declare(D& d) {
      d(layers, "layers", 2, "[1, inf)", "propagation layers L");
      d(embedding_size, "embedding_size", 32, "[1, inf)", "width d of the ID tables");
      d(intents, "intents", 128, "[1, inf)", "intent prototypes K per side");
      d(cl_weight, "cl_weight", 0.001, "[0, inf)", "weight of the contrastive loss");
      d(temperature, "temperature", 0.1, "(0, inf)", "InfoNCE temperature τ");
      d(chunk, "chunk", 1024, "[1, inf)", "negatives per streamed block of InfoNCE");
    }
  };

  static recgrid::PluginSpec spec() {
    return {"dccf", "1.0.0", "DCCF: disentangled intents (prototypes) + adaptive graph/intent augmentation + InfoNCE",
            recgrid::declared_options<Options>(), {}, 0,
            recgrid::standard_encoding("layers", recgrid::intent_prototypes("user_intents", "item_intents"))};
  }

  DCCF(const recgrid::Context& ctx, const Options& o)
      : IdEmbeddingModel(ctx, o.embedding_size),
        graph_(ctx.graph),
        layers_(o.layers),
        cl_weight_(o.cl_weight),
        tau_(o.temperature),
        chunk_(o.chunk) {
    const auto options = at::TensorOptions().dtype(at::kFloat).device(ctx.device);
    user_intents_ = register_parameter("user_intents", recgrid::ops::xavier_uniform(o.embedding_size, o.intents, options));
    item_intents_ = register_parameter("item_intents", recgrid::ops::xavier_uniform(o.embedding_size, o.intents, options));
  }

  recgrid::NamedTensors encode(recgrid::Mode, const at::Tensor& e0) override {
    using namespace recgrid::ops;
    recgrid::NamedTensors out;
    out.add("intent.user", user_intents_);
    out.add("intent.item", item_intents_);
    at::Tensor layer = e0, sum = e0;
    std::vector<at::Tensor> layers;
    for (int64_t l = 0; l < layers_; ++l) {
      const std::string tag = "." + std::to_string(l);
      const at::Tensor zg = spmm(graph_, graph_.norm, layer);
      const at::Tensor zc = intent_aggregate_per_side(layer, n_users_, user_intents_, item_intents_);
      const at::Tensor zga = spmm(graph_, adaptive_mask(graph_, zg), layer);
      const at::Tensor zia = spmm(graph_, adaptive_mask(graph_, zc), layer);
      layer = zg + zc + zga + zia + layer;
      sum = sum + layer;
      out.add("zg" + tag, zg);
      out.add("zc" + tag, zc);
      out.add("zga" + tag, zga);
      out.add("zia" + tag, zia);
      layers.push_back(layer);
    }
    add_encoding(out, e0, layers, sum);
    return out;
  }

  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors& enc) override {
    recgrid::NamedTensors out;
    out.add("bpr", bpr(b, enc.at("final")));
    const at::Tensor uq = std::get<0>(at::_unique(b.users));
    const at::Tensor iq = std::get<0>(at::_unique(b.pos)) + n_users_;
    at::Tensor cl = at::zeros({}, enc.at("final").options());
    for (int64_t l = 0; l < layers_; ++l) {
      const std::string tag = "." + std::to_string(l);
      const at::Tensor& zg = enc.at("zg" + tag);
      for (const char* view : {"zc", "zga", "zia"}) {
        const at::Tensor& x = enc.at(view + tag);
        for (const at::Tensor* nodes : {&uq, &iq}) {
          const at::Tensor xs = x.index_select(0, *nodes);
          cl = cl + recgrid::ops::nce_a(zg.index_select(0, *nodes), xs, xs, tau_, chunk_);
        }
      }
    }
    out.add("cl", cl * (cl_weight_ / static_cast<double>(uq.size(0))));
    return out;
  }

 private:
  recgrid::Graph graph_;
  int64_t layers_;
  double cl_weight_, tau_;
  int64_t chunk_;
  at::Tensor user_intents_, item_intents_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(DCCF)
