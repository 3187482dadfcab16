// SGL, edge-drop variant (ALGORITHMS.md §2.2).
//
//   views 1, 2: LightGCN (layer sum) on independently dropped graphs Drop_keep(Â), fresh every step
//   view 3:     LightGCN on the full Â  (BPR, scoring)
//   loss = BPR(view 3) + cl_weight / B * [ NCE_A(V1_U[u], V2_U[u], V2_U, tau)
//                                        + NCE_A(V1_I[p], V2_I[p], V2_I, tau)
//                                        + NCE_A(V1_I[n], V2_I[n], V2_I, tau) ]
// Negatives are all M users / all N items of view 2, streamed in chunks (ops::nce_a), or with
// contrast_keys = k a uniform sample of k of them per side, fresh each step (ops::nce_a_rows_sampled).
// The encoding and the loss are the two-view model's (recgrid/two_view_model.hpp); SGL makes the views.
#include <ATen/ATen.h>

#include "recgrid/two_view_model.hpp"

namespace {

// What makes SGL's views: the edge keep probability.
struct EdgeDropOptions {
  double keep_rate;
  template <class D>
  void declare_view(D& d) {
    d(keep_rate, "keep_rate", 0.8, "(0, 1]", "edge keep probability of the two contrastive views");
  }
};

class SGL final : public recgrid::TwoViewModel {
 public:
  using Options = recgrid::TwoViewOptions<EdgeDropOptions>;

  static recgrid::PluginSpec spec() {
    return {"sgl", "1.2.0",  // 1.1.0: contrast_keys; 1.2.0: its auto
            "SGL (edge dropout): LightGCN + InfoNCE between two edge-dropped views",
            recgrid::declared_options<Options>(), {}, 0, recgrid::standard_encoding("layers", two_view_encoding("layers"))};
  }

  SGL(const recgrid::Context& ctx, const Options& o) : TwoViewModel(ctx, o), keep_rate_(o.keep_rate) {}

 private:
  // LightGCN on a graph whose edges are dropped afresh.
  View make_view(const at::Tensor& e0) override {
    const at::Tensor values = recgrid::ops::drop_edges(graph_.norm, keep_rate_);
    const std::vector<at::Tensor> prop = recgrid::ops::propagate(graph_, values, e0, layers_);
    return {layers_of(prop), prop[0]};
  }

  // Positive and negative item rows share their keys (all items of view 2): one pass for both.
  at::Tensor contrasted_items(const recgrid::Batch& b) const override { return at::cat({b.pos, b.neg}); }

  double keep_rate_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(SGL)
