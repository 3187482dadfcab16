// SimGCL (ALGORITHMS.md §2.3).
//
//   perturbed view: H = Â E^l,  E^{l+1} = H + eps * sign(H) ⊙ normrow(Δ),  Δ ~ U[0,1)^{V x d}
//                   (each node's noise has norm eps; layer 0 unperturbed), E* = sum_{l=0..L} E^l
//   views 1, 2 perturbed independently; view 3 = plain LightGCN on Â (BPR, scoring); no edge dropout
//   loss = BPR(view 3) + cl_weight / B * [ NCE_A(V1_U[u], V2_U[u], V2_U, tau) + NCE_A(V1_I[p], V2_I[p], V2_I, tau) ]
// The keys of each NCE_A: every user / item of view 2, or with contrast_keys = k a uniform sample of k
// of them per side, fresh each step (ops::nce_a_rows_sampled).
// The encoding and the loss are the two-view model's (recgrid/two_view_model.hpp); SimGCL makes the views.
#include <ATen/ATen.h>

#include "recgrid/two_view_model.hpp"

namespace {

// What makes SimGCL's views: the norm of the noise added at each layer.
struct NoiseOptions {
  double eps;
  template <class D>
  void declare_view(D& d) {
    d(eps, "eps", 0.9, "[0, inf)", "norm ε of each node's uniform perturbation in the two views");
  }
};

class SimGCL final : public recgrid::TwoViewModel {
 public:
  using Options = recgrid::TwoViewOptions<NoiseOptions>;

  static recgrid::PluginSpec spec() {
    return {"simgcl", "1.2.0",  // 1.1.0: contrast_keys; 1.2.0: its auto
            "SimGCL: LightGCN + InfoNCE between two views perturbed by uniform noise of norm eps",
            recgrid::declared_options<Options>(), {}, 0, recgrid::standard_encoding("layers", two_view_encoding("layers"))};
  }

  SimGCL(const recgrid::Context& ctx, const Options& o) : TwoViewModel(ctx, o), eps_(o.eps) {}

 private:
  // LightGCN on the full Â, each layer after the first pushed by fresh noise of norm eps.
  View make_view(const at::Tensor& e0) override {
    at::Tensor layer = e0, sum = e0;
    std::vector<at::Tensor> layers;
    for (int64_t l = 1; l <= layers_; ++l) {
      const at::Tensor h = recgrid::ops::spmm(graph_, graph_.norm, layer);
      const at::Tensor delta = at::rand_like(h);
      const at::Tensor noise = recgrid::ops::unit_rows(delta);
      layer = h + eps_ * h.sign() * noise;
      sum = sum + layer;
      layers.push_back(layer);
    }
    return {layers, sum};
  }

  at::Tensor contrasted_items(const recgrid::Batch& b) const override { return b.pos; }

  double eps_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(SimGCL)
