// A layer applied to every row of a table, x [n x in] times w [in x out] (+ bias), whose weight and
// bias gradients are the same bits at any thread count.
//
// Why: the weight gradient x^T g is a sum over the n rows, and OpenBLAS splits a long sum between its
// threads, so at::mm's gradient rounds differently at 1 and 2 threads (measured: x^T g with n = 30,000
// rows differs in the last bits; so did the parameters of every enhancer, DCCF and BIGCF after two
// planted epochs). A cell resumed with another --threads-per-cell must give the same numbers, and the
// thread count is not in its hash. Here the rows are cut into blocks whose size depends on n only;
// each block's product is computed by one thread (inside the parallel region BLAS runs on one thread),
// and the blocks' products are added in block order.
#include "recgrid/row_layer.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <vector>

namespace recgrid::ops {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// At most kMaxBlocks partial products are kept ([in x out] each), and a block has at least
// kMinBlockRows rows: few enough partials to add cheaply, enough blocks to keep two threads busy.
constexpr int64_t kMaxBlocks = 64;
constexpr int64_t kMinBlockRows = 256;

int64_t block_rows(int64_t n) { return std::max(kMinBlockRows, (n + kMaxBlocks - 1) / kMaxBlocks); }

// sum over row blocks, in block order, of part(r0, rows): each part computed by one thread.
template <class Part>
at::Tensor sum_over_row_blocks(int64_t n, Part&& part) {
  const int64_t block = block_rows(n), blocks = std::max<int64_t>(1, (n + block - 1) / block);
  std::vector<at::Tensor> parts(static_cast<size_t>(blocks));
  at::parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
    at::NoGradGuard no_grad;  // grad mode is per thread: the workers' default is on
    for (int64_t b = lo; b < hi; ++b) {
      const int64_t r0 = b * block;
      parts[static_cast<size_t>(b)] = part(r0, std::min(block, n - r0));
    }
  });
  at::Tensor total = parts[0];
  for (size_t b = 1; b < parts.size(); ++b) total.add_(parts[b]);
  return total;
}

// The gradients of x . w (+ bias) for the output gradient g: dx = g w^T sums over the `out` columns
// only (every output row is one thread's); dw = x^T g and the bias's column sums of g over row blocks.
// `first` is the input index of x (w follows it); `bias` the bias's, or -1.
variable_list row_layer_grads(AutogradContext* ctx, const at::Tensor& g_in, size_t first, int bias) {
  const auto saved = ctx->get_saved_variables();
  const at::Tensor &x = saved[0], &w = saved[1];
  const at::Tensor g = g_in.contiguous();
  const int64_t n = x.size(0);
  variable_list out = {ctx->needs_input_grad(first) ? at::mm(g, w.t()) : at::Tensor(),
                       ctx->needs_input_grad(first + 1) ? sum_over_row_blocks(n, [&](int64_t r0, int64_t rows) {
                         return at::mm(x.narrow(0, r0, rows).t(), g.narrow(0, r0, rows));
                       }) : at::Tensor()};
  if (bias >= 0)
    out.push_back(ctx->needs_input_grad(static_cast<size_t>(bias)) ? sum_over_row_blocks(n, [&](int64_t r0, int64_t rows) {
      return g.narrow(0, r0, rows).sum(0);
    }) : at::Tensor());
  return out;
}

class RowProduct : public torch::autograd::Function<RowProduct> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w) {
    ctx->save_for_backward({x, w});
    return at::mm(x, w);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return row_layer_grads(ctx, grads[0], 0, -1);
  }
};

class RowAffine : public torch::autograd::Function<RowAffine> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& bias, const at::Tensor& x, const at::Tensor& w) {
    ctx->save_for_backward({x, w});
    return at::addmm(bias, x, w);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list g = row_layer_grads(ctx, grads[0], 1, 0);  // in the order x, w, bias
    return {g[2], g[0], g[1]};
  }
};

}  // namespace

at::Tensor rows_mm(const at::Tensor& x, const at::Tensor& w) {
  TORCH_CHECK(x.dim() == 2 && w.dim() == 2 && x.size(1) == w.size(0), "rows_mm: x ", x.sizes(), " and w ", w.sizes(),
              " must be [n x in] and [in x out]");
  return RowProduct::apply(x, w);
}

at::Tensor rows_addmm(const at::Tensor& bias, const at::Tensor& x, const at::Tensor& w) {
  TORCH_CHECK(x.dim() == 2 && w.dim() == 2 && x.size(1) == w.size(0) && bias.dim() == 1 && bias.size(0) == w.size(1),
              "rows_addmm: bias ", bias.sizes(), ", x ", x.sizes(), " and w ", w.sizes(),
              " must be [out], [n x in] and [in x out]");
  return RowAffine::apply(bias, x, w);
}

}  // namespace recgrid::ops
