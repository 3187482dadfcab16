// The smallest base model: matrix factorisation (no propagation), E* = E0, BPR loss.
// It shows everything a plugin needs: typed options declared once, a spec, a constructor,
// layer0/encode/loss, one export line.
#include "recgrid/id_model.hpp"

namespace {

class MatrixFactorisation final : public recgrid::IdEmbeddingModel {
 public:
  struct Options {
    int64_t embedding_size;
    template <class D>
    void declare(D& d) {
      d(embedding_size, "embedding_size", 32, "[1, inf)", "width d of the ID embeddings");
    }
  };
  static recgrid::PluginSpec spec() {
    // What encode() below gives enhancers: the standard names, with layer 0 only (no layers option).
    return {"mf", "0.1.0", "matrix factorisation with BPR (example plugin)", recgrid::declared_options<Options>(), {}, 0,
            recgrid::standard_encoding(nullptr)};
  }
  MatrixFactorisation(const recgrid::Context& ctx, const Options& o) : IdEmbeddingModel(ctx, o.embedding_size) {}

  recgrid::NamedTensors encode(recgrid::Mode, const at::Tensor& e0) override {
    recgrid::NamedTensors out;
    out.add("final", e0);
    out.add("layer.0", e0);
    add_users_items(out, "", e0);
    return out;
  }
  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors& enc) override {
    recgrid::NamedTensors out;
    out.add("bpr", bpr(b, enc.at("final")));
    return out;
  }
};

}  // namespace

RECGRID_EXPORT_PLUGIN(MatrixFactorisation)
