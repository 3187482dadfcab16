// SGL, edge-drop variant (ALGORITHMS.md §2.2).
//
//   views 1, 2: LightGCN (layer sum) on independently dropped graphs Drop_keep(Â), fresh every step
//   view 3:     LightGCN on the full Â  (BPR, scoring)
//   loss = BPR(view 3) + cl_weight / B * [ NCE_A(V1_U[u], V2_U[u], V2_U, tau)
//                                        + NCE_A(V1_I[p], V2_I[p], V2_I, tau)
//                                        + NCE_A(V1_I[n], V2_I[n], V2_I, tau) ]
// Negatives are all M users / all N items of view 2, streamed in chunks (ops::nce_a).
#include <ATen/ATen.h>

#include "recgrid/id_model.hpp"

namespace {

class SGL final : public recgrid::IdEmbeddingModel {
 public:
  static recgrid::PluginSpec spec() {
    return {"sgl",
            "1.0.0",
            "SGL (edge dropout): LightGCN + InfoNCE between two edge-dropped views",
            {
                {"layers", "int", "3", "number of propagation layers L", "[1, inf)"},
                {"embedding_size", "int", "32", "width d of the ID embeddings", "[1, inf)"},
                {"keep_rate", "float", "0.8", "edge keep probability of the two contrastive views", "(0, 1]"},
                {"cl_weight", "float", "0.1", "weight of the contrastive loss", "[0, inf)"},
                {"temperature", "float", "0.2", "InfoNCE temperature tau", "(0, inf)"},
                {"chunk", "int", "1024", "negatives per streamed block of the all-users/all-items InfoNCE", "[1, inf)"},
            }};
  }

  SGL(const recgrid::Context& ctx, const recgrid::Options& opts)
      : IdEmbeddingModel(ctx, opts.get<int64_t>("embedding_size")),
        graph_(ctx.graph),
        layers_(opts.get<int64_t>("layers")),
        keep_rate_(opts.get<double>("keep_rate")),
        cl_weight_(opts.get<double>("cl_weight")),
        tau_(opts.get<double>("temperature")),
        chunk_(opts.get<int64_t>("chunk")) {
    if (layers_ < 0 || keep_rate_ <= 0 || keep_rate_ > 1 || tau_ <= 0 || chunk_ <= 0)
      throw std::invalid_argument("sgl: need layers >= 0, keep_rate in (0, 1], temperature > 0, chunk > 0");
  }

  recgrid::NamedTensors encode(recgrid::Mode mode, const at::Tensor& e0) override {
    recgrid::NamedTensors out;
    const std::vector<at::Tensor> main = recgrid::ops::propagate(graph_, graph_.norm, e0, layers_);
    add_view(out, "", main, e0);
    if (mode == recgrid::Mode::Train) {
      for (const char* view : {"view1.", "view2."}) {
        const at::Tensor values = recgrid::ops::drop_edges(graph_.norm, keep_rate_);
        add_view(out, view, recgrid::ops::propagate(graph_, values, e0, layers_), e0);
      }
    }
    return out;
  }

  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors& enc) override {
    const int64_t B = b.users.size(0);
    recgrid::NamedTensors out;
    out.add("bpr", bpr(b, enc.at("final")));
    const at::Tensor &u1 = enc.at("view1.user"), &u2 = enc.at("view2.user");
    const at::Tensor &i1 = enc.at("view1.item"), &i2 = enc.at("view2.item");
    // Positive and negative item rows share their keys (all items of view 2): one pass for both.
    using recgrid::ops::nce_a_rows;
    const at::Tensor cl = nce_a_rows(u1, u2, b.users, u2, tau_, chunk_) +
                          nce_a_rows(i1, i2, at::cat({b.pos, b.neg}), i2, tau_, chunk_);
    out.add("cl", cl * (cl_weight_ / static_cast<double>(B)));
    return out;
  }

 private:
  void add_view(recgrid::NamedTensors& out, const std::string& prefix, const std::vector<at::Tensor>& prop,
                const at::Tensor& e0) const {
    const at::Tensor& sum = prop[0];
    if (prefix.empty()) {
      out.add("final", sum);
      out.add("layer.0", e0);
      for (int64_t l = 1; l <= layers_; ++l) out.add("layer." + std::to_string(l), prop[l]);
    } else {
      for (int64_t l = 1; l <= layers_; ++l) out.add(prefix + "layer." + std::to_string(l), prop[l]);
    }
    add_users_items(out, prefix, sum);
  }

  recgrid::Graph graph_;
  int64_t layers_;
  double keep_rate_, cl_weight_, tau_;
  int64_t chunk_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(SGL)
