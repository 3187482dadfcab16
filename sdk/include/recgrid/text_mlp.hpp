// TextMLP(d_in -> d_out) of ALGORITHMS.md §0: Linear(d_in, h) -> LeakyReLU(0.01) -> Linear(h, d_out),
// h = (d_in + d_out) / 2; weights Xavier-uniform, biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's
// default, ops::fan_in_uniform). Shared by the text enhancers; parameters are registered on the owning
// module.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "recgrid/ops.hpp"
#include "recgrid/row_layer.hpp"
#include "recgrid/sdk.hpp"

namespace recgrid {

struct TextMlp {
  at::Tensor w1, b1, w2, b2;  // [h x d_in], [h], [d_out x h], [d_out]

  static int64_t hidden(int64_t d_in, int64_t d_out) { return (d_in + d_out) / 2; }

  // Creates the tensors; the owning module registers them: register_module("mlp_p", mlp).
  TextMlp(int64_t d_in, int64_t d_out, const at::TensorOptions& options) {
    const int64_t h = hidden(d_in, d_out);
    w1 = ops::xavier_uniform(h, d_in, options);
    w2 = ops::xavier_uniform(d_out, h, options);
    b1 = ops::fan_in_uniform({h}, d_in, options);
    b2 = ops::fan_in_uniform({d_out}, h, options);
  }

  // Registers the four tensors as <prefix>.w1, .b1, .w2, .b2 through `reg(name, tensor) -> tensor`
  // (Module::register_module passes register_parameter; a teacher copy may pass register_buffer).
  template <class Register>
  void register_as(const std::string& prefix, Register&& reg) {
    w1 = reg(prefix + ".w1", w1);
    b1 = reg(prefix + ".b1", b1);
    w2 = reg(prefix + ".w2", w2);
    b2 = reg(prefix + ".b2", b2);
  }

  // The first layer's pre-activation x W1^T + b1, and the rest of the tower from it.
  // rows_addmm: the weights' gradients are the same bits at any thread count (row_layer.hpp).
  at::Tensor hidden(const at::Tensor& x) const { return ops::rows_addmm(b1, x, w1.t()); }
  at::Tensor head(const at::Tensor& hidden) const {
    return ops::rows_addmm(b2, at::leaky_relu(hidden, 0.01), w2.t());
  }

  at::Tensor operator()(const at::Tensor& x) const { return head(hidden(x)); }
};

}  // namespace recgrid
