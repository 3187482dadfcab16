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
  static recgrid::PluginSpec spec() {
    return {"dccf",
            "1.0.0",
            "DCCF: disentangled intents (prototypes) + adaptive graph/intent augmentation + InfoNCE",
            {
                {"layers", "int", "2", "number of layers L", "[1, inf)"},
                {"embedding_size", "int", "32", "width d of the ID embeddings", "[1, inf)"},
                {"intents", "int", "128", "number of intent prototypes K per side", "[1, inf)"},
                {"cl_weight", "float", "0.001", "weight of the contrastive loss", "[0, inf)"},
                {"temperature", "float", "0.1", "InfoNCE temperature tau", "(0, inf)"},
                {"chunk", "int", "1024", "negatives per streamed block of InfoNCE", "[1, inf)"},
            }};
  }

  DCCF(const recgrid::Context& ctx, const recgrid::Options& opts)
      : IdEmbeddingModel(ctx, opts.get<int64_t>("embedding_size")),
        graph_(ctx.graph),
        layers_(opts.get<int64_t>("layers")),
        cl_weight_(opts.get<double>("cl_weight")),
        tau_(opts.get<double>("temperature")),
        chunk_(opts.get<int64_t>("chunk")) {
    const int64_t d = opts.get<int64_t>("embedding_size"), K = opts.get<int64_t>("intents");
    if (layers_ < 0 || K <= 0 || tau_ <= 0 || chunk_ <= 0)
      throw std::invalid_argument("dccf: need layers >= 0, intents > 0, temperature > 0, chunk > 0");
    const auto options = at::TensorOptions().dtype(at::kFloat).device(ctx.device);
    user_intents_ = register_parameter("user_intents", recgrid::ops::xavier_uniform(d, K, options));
    item_intents_ = register_parameter("item_intents", recgrid::ops::xavier_uniform(d, K, options));
  }

  recgrid::NamedTensors encode(recgrid::Mode, const at::Tensor& e0) override {
    using namespace recgrid::ops;
    recgrid::NamedTensors out;
    out.add("layer.0", e0);
    out.add("intent.user", user_intents_);
    out.add("intent.item", item_intents_);
    at::Tensor layer = e0, sum = e0;
    for (int64_t l = 0; l < layers_; ++l) {
      const std::string tag = "." + std::to_string(l);
      const at::Tensor zg = spmm(graph_, graph_.norm, layer);
      const at::Tensor zc = at::cat({intent_aggregate(layer.narrow(0, 0, n_users_), user_intents_),
                                     intent_aggregate(layer.narrow(0, n_users_, layer.size(0) - n_users_), item_intents_)});
      const at::Tensor zga = spmm(graph_, adaptive_mask(graph_, zg), layer);
      const at::Tensor zia = spmm(graph_, adaptive_mask(graph_, zc), layer);
      layer = zg + zc + zga + zia + layer;
      sum = sum + layer;
      out.add("zg" + tag, zg);
      out.add("zc" + tag, zc);
      out.add("zga" + tag, zga);
      out.add("zia" + tag, zia);
      out.add("layer." + std::to_string(l + 1), layer);
    }
    out.add("final", sum);
    add_users_items(out, "", sum);
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
