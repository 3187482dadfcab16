// Test-only enhancer. Its loss reads the base model's encoding, so the gradient test can check that
// autograd crosses the plugin boundary; `fail_in` makes a chosen call throw; `nan_at_step` makes the
// loss (nan_in: loss) or only its gradient (nan_in: gradient, the value stays finite) NaN from the
// N-th training step of this process on.
//   probe = weight * mean_b ( ((user[u_b] * scale) . item[p_b])^2 )
#include <ATen/ATen.h>

#include <cmath>

#include "recgrid/sdk.hpp"

namespace {

class ProbeEnhancer final : public recgrid::Enhancer {
 public:
  static recgrid::PluginSpec spec() {
    return {"probe",
            "0.0.1",
            "test-only enhancer: a smooth loss on the base encoding; can throw on demand",
            {
                {"weight", "float", "1.0", "loss weight"},
                {"fail_in", "string", "\"\"", "call that throws: create, loss, after_step, transform_inputs"},
                {"nan_at_step", "int", "-1", "training step (counted in this process) from which it goes NaN; -1 = never",
                 "[-1, inf)"},
                {"nan_in", "string", "\"loss\"", "what goes NaN: loss or gradient", "{loss, gradient}"},
            }};
  }

  ProbeEnhancer(const recgrid::Context& ctx, const recgrid::Options& opts)
      : weight_(opts.get<double>("weight")),
        fail_in_(opts.get<std::string>("fail_in")),
        nan_at_step_(opts.get<int64_t>("nan_at_step")),
        nan_in_(opts.get<std::string>("nan_in")) {
    if (fail_in_ == "create") throw std::runtime_error("probe asked to fail in create");
    (void)ctx;
    scale_ = register_parameter("scale", at::ones({32}));
  }

  at::Tensor transform_inputs(recgrid::Mode, const at::Tensor& e0) override {
    if (fail_in_ == "transform_inputs") throw std::runtime_error("probe asked to fail in transform_inputs");
    return e0;
  }

  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors& enc) override {
    if (fail_in_ == "loss") throw std::runtime_error("probe asked to fail in loss");
    const at::Tensor a = enc.at("user").index_select(0, b.users) * scale_;
    const at::Tensor p = enc.at("item").index_select(0, b.pos);
    at::Tensor value = (a * p).sum(1).pow(2).mean() * weight_;
    if (nan_at_step_ >= 0 && loss_calls_++ >= nan_at_step_) {
      if (nan_in_ == "loss") value = value * std::nan("");
      else value = value + (scale_ * 0).sqrt().sum();  // sqrt'(0) = inf, times 0: a NaN gradient, a finite value
    }
    recgrid::NamedTensors out;
    out.add("probe", value);
    return out;
  }

  void after_step() override {
    ++steps_;
    if (fail_in_ == "after_step") throw std::runtime_error("probe asked to fail in after_step");
  }

 private:
  double weight_;
  std::string fail_in_;
  int64_t nan_at_step_;
  std::string nan_in_;
  int64_t loss_calls_ = 0;  // training steps in this process (eval never calls loss)
  at::Tensor scale_;
  int64_t steps_ = 0;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(ProbeEnhancer)
