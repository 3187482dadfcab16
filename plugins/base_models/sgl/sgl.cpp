// SGL, edge-drop variant (ALGORITHMS.md §2.2).
//
//   views 1, 2: LightGCN (layer sum) on independently dropped graphs Drop_keep(Â), fresh every step
//   view 3:     LightGCN on the full Â  (BPR, scoring)
//   loss = BPR(view 3) + cl_weight / B * [ NCE_A(V1_U[u], V2_U[u], V2_U, tau)
//                                        + NCE_A(V1_I[p], V2_I[p], V2_I, tau)
//                                        + NCE_A(V1_I[n], V2_I[n], V2_I, tau) ]
// Negatives are all M users / all N items of view 2, streamed in chunks (ops::nce_a), or with
// contrast_keys = k a uniform sample of k of them per side, fresh each step (ops::nce_a_rows_sampled).
#include <ATen/ATen.h>

#include <stdexcept>

#include "recgrid/id_model.hpp"

namespace {

class SGL final : public recgrid::IdEmbeddingModel {
 public:
  struct Options {
    int64_t layers, embedding_size, chunk;
    recgrid::SampleKeys contrast_keys;
    double keep_rate, cl_weight, temperature;
    template <class D>
    void declare(D& d) {
      d(layers, "layers", 3, "[1, inf)", "propagation layers L");
      d(embedding_size, "embedding_size", 32, "[1, inf)", "width d of the ID tables");
      d(keep_rate, "keep_rate", 0.8, "(0, 1]", "edge keep probability of the two contrastive views");
      d(cl_weight, "cl_weight", 0.1, "[0, inf)", "weight of the contrastive loss");
      d(temperature, "temperature", 0.2, "(0, inf)", "InfoNCE temperature τ");
      d(chunk, "chunk", 1024, "[1, inf)", "negatives per streamed block of the all-users/all-items InfoNCE");
      d(contrast_keys, "contrast_keys", "auto", recgrid::kSampleKeysRange,
        "0 = every user / item of view 2 as the InfoNCE keys (exact, batch x V work per step); k >= 2: a uniform "
        "sample of k per side per step, the other keys' sum scaled up to all (for large graphs, README); auto: "
        "exact up to 32,768 nodes, 4,096 above");
    }
  };

  static recgrid::PluginSpec spec() {
    return {"sgl", "1.2.0",  // 1.1.0: contrast_keys; 1.2.0: its auto
            "SGL (edge dropout): LightGCN + InfoNCE between two edge-dropped views",
            recgrid::declared_options<Options>(), {}, 0, recgrid::standard_encoding("layers", two_view_encoding("layers"))};
  }

  SGL(const recgrid::Context& ctx, const Options& o)
      : IdEmbeddingModel(ctx, o.embedding_size),
        graph_(ctx.graph),
        layers_(o.layers),
        keep_rate_(o.keep_rate),
        cl_weight_(o.cl_weight),
        tau_(o.temperature),
        chunk_(o.chunk),
        contrast_keys_(o.contrast_keys.resolve(ctx.n_nodes())) {}

  recgrid::NamedTensors encode(recgrid::Mode mode, const at::Tensor& e0) override {
    recgrid::NamedTensors out;
    const std::vector<at::Tensor> main = recgrid::ops::propagate(graph_, graph_.norm, e0, layers_);
    add_encoding(out, e0, layers_of(main), main[0]);
    if (mode == recgrid::Mode::Train) {
      for (const char* view : {"view1.", "view2."}) {
        const at::Tensor values = recgrid::ops::drop_edges(graph_.norm, keep_rate_);
        const std::vector<at::Tensor> prop = recgrid::ops::propagate(graph_, values, e0, layers_);
        add_view(out, view, layers_of(prop), prop[0]);
      }
    }
    return out;
  }

  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors& enc) override {
    const int64_t B = b.users.size(0);
    recgrid::NamedTensors out;
    out.add("bpr", bpr(b, enc.at("final")));
    // Positive and negative item rows share their keys (all items of view 2): one pass for both.
    const at::Tensor cl = two_view_infonce(enc, b.users, at::cat({b.pos, b.neg}), tau_, chunk_, contrast_keys_);
    out.add("cl", cl * (cl_weight_ / static_cast<double>(B)));
    return out;
  }

 private:
  recgrid::Graph graph_;
  int64_t layers_;
  double keep_rate_, cl_weight_, tau_;
  int64_t chunk_, contrast_keys_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(SGL)
