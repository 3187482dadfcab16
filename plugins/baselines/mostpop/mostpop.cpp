// MostPop: every user gets the items ranked by their training popularity (README.md).
#include <ATen/ATen.h>

#include "recgrid/sdk.hpp"

namespace {

class MostPop : public recgrid::FittedModel {
 public:
  struct Options {
    template <class D>
    void declare(D&) {}
  };
  static recgrid::PluginSpec spec() {
    return {"mostpop", "1.0.0", "baseline: items ranked by their number of training interactions (no personalisation)",
            recgrid::declared_options<Options>()};
  }
  MostPop(const recgrid::Context& ctx, const Options&) : ctx_(ctx) {}

  at::Tensor fit() override {
    const at::Tensor items = ctx_.train_item.to(at::kCPU, at::kLong);
    popularity_ = register_buffer("popularity", at::bincount(items, {}, ctx_.n_items).to(at::kFloat));
    return {};
  }
  at::Tensor score(const at::Tensor& users, int64_t lo, int64_t hi) override {
    return popularity_.narrow(0, lo, hi - lo).unsqueeze(0).expand({users.size(0), hi - lo});
  }

 private:
  recgrid::Context ctx_;
  at::Tensor popularity_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(MostPop)
