// The shape SGL and SimGCL share (ALGORITHMS.md §2.2, §2.3): LightGCN on the full Â for BPR and
// scoring and, in training, two views "view1." and "view2." contrasted by InfoNCE. A model says how it
// makes one view (make_view) and which item rows of a batch it contrasts (contrasted_items); options,
// encoding and loss are written here once.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "recgrid/id_model.hpp"

namespace recgrid {

// The options of a two-view model. `ViewOptions` holds what makes the model's views and declares it
// in declare_view(d), between embedding_size and cl_weight (the order `recgrid plugins` and the
// resolved configuration list them in).
template <class ViewOptions>
struct TwoViewOptions : ViewOptions {
  int64_t layers, embedding_size, chunk;
  SampleKeys contrast_keys;
  double cl_weight, temperature;
  template <class D>
  void declare(D& d) {
    d(layers, "layers", 3, "[1, inf)", "propagation layers L");
    d(embedding_size, "embedding_size", 32, "[1, inf)", "width d of the ID tables");
    ViewOptions::declare_view(d);
    d(cl_weight, "cl_weight", 0.1, "[0, inf)", "weight of the contrastive loss");
    d(temperature, "temperature", 0.2, "(0, inf)", "InfoNCE temperature τ");
    d(chunk, "chunk", 1024, "[1, inf)", "negatives per streamed block of the all-users/all-items InfoNCE");
    d(contrast_keys, "contrast_keys", "auto", kSampleKeysRange,
      "0 = every user / item of view 2 as the InfoNCE keys (exact, batch x V work per step); k >= 2: a uniform "
      "sample of k per side per step, the other keys' sum scaled up to all (for large graphs, README); auto: "
      "exact up to 32,768 nodes, 4,096 above");
  }
};

class TwoViewModel : public IdEmbeddingModel {
 public:
  NamedTensors encode(Mode mode, const at::Tensor& e0) override {
    NamedTensors out;
    const std::vector<at::Tensor> main = ops::propagate(graph_, graph_.norm, e0, layers_);
    add_encoding(out, e0, layers_of(main), main[0]);
    if (mode == Mode::Train) {
      // View 1 is made before view 2: their random draws come in that order.
      for (const char* view : {"view1.", "view2."}) {
        const View made = make_view(e0);
        add_view(out, view, made.layers, made.sum);
      }
    }
    return out;
  }

  NamedTensors loss(const Batch& b, const NamedTensors& enc) override {
    const int64_t B = b.users.size(0);
    NamedTensors out;
    out.add("bpr", bpr(b, enc.at("final")));
    const at::Tensor cl = two_view_infonce(enc, b.users, contrasted_items(b), tau_, chunk_, contrast_keys_);
    out.add("cl", cl * (cl_weight_ / static_cast<double>(B)));
    return out;
  }

 protected:
  template <class ViewOptions>
  TwoViewModel(const Context& ctx, const TwoViewOptions<ViewOptions>& o)
      : IdEmbeddingModel(ctx, o.embedding_size),
        graph_(ctx.graph),
        layers_(o.layers),
        cl_weight_(o.cl_weight),
        tau_(o.temperature),
        chunk_(o.chunk),
        contrast_keys_(o.contrast_keys.resolve(ctx.n_nodes())) {}

  // One contrastive view: its layers 1..L and their sum with layer 0 (the view's user / item rows).
  struct View {
    std::vector<at::Tensor> layers;
    at::Tensor sum;
  };
  // A fresh view of e0, drawn anew at every call.
  virtual View make_view(const at::Tensor& e0) = 0;
  // The batch's item rows whose two views are contrasted (keys: every item of view 2).
  virtual at::Tensor contrasted_items(const Batch& b) const = 0;

  Graph graph_;
  int64_t layers_;

 private:
  double cl_weight_, tau_;
  int64_t chunk_, contrast_keys_;
};

}  // namespace recgrid
