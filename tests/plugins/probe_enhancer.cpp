// Test-only enhancer. Its loss reads the base model's encoding, so the gradient test can check that
// autograd crosses the plugin boundary; `fail_in` makes a chosen call throw.
//   probe = weight * mean_b ( ((user[u_b] * scale) . item[p_b])^2 )
#include <ATen/ATen.h>

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
            }};
  }

  ProbeEnhancer(const recgrid::Context& ctx, const recgrid::Options& opts)
      : weight_(opts.get<double>("weight")), fail_in_(opts.get<std::string>("fail_in")) {
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
    recgrid::NamedTensors out;
    out.add("probe", (a * p).sum(1).pow(2).mean() * weight_);
    return out;
  }

  void after_step() override {
    ++steps_;
    if (fail_in_ == "after_step") throw std::runtime_error("probe asked to fail in after_step");
  }

 private:
  double weight_;
  std::string fail_in_;
  at::Tensor scale_;
  int64_t steps_ = 0;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(ProbeEnhancer)
