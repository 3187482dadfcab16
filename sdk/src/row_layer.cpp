// A layer applied to every row of a table, x [n x in] times w [in x out] (+ bias), whose weight and
// bias gradients are the same bits at any thread count.
//
// Why: OpenBLAS's threaded and single-thread drivers cut a long inner dimension differently, so a
// product's rounding depends on the thread count; the weight gradient x^T g sums over the n rows, and
// at::mm's gradient rounded differently at 1 and 2 threads (measured: x^T g with n = 30,000
// rows differs in the last bits; so did the parameters of every enhancer, DCCF and BIGCF after two
// planted epochs). A cell resumed with another --threads-per-cell must give the same numbers, and the
// thread count is not in its hash. Here the rows are cut into blocks whose size depends on n only;
// every product (the output, dx, and each block's part of dw) is computed by one thread (inside the
// parallel region BLAS runs on one thread), and the blocks' parts of dw are added in block order.
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
int64_t block_count(int64_t n) { return std::max<int64_t>(1, (n + block_rows(n) - 1) / block_rows(n)); }

// Runs block(b, r0, rows) for every block of rows, each inside the parallel region, where OpenBLAS
// runs on one thread: its single-thread driver cuts the inner dimension the same way whatever the
// thread count (its threaded driver cuts the last stretch differently). At least two tasks, so that a
// single block runs in the region too; with one thread every task runs on it, single-threaded anyway.
template <class Block>
void for_each_row_block(int64_t n, Block&& block) {
  const int64_t size = block_rows(n), blocks = block_count(n);
  at::parallel_for(0, std::max<int64_t>(blocks, 2), 1, [&](int64_t lo, int64_t hi) {
    at::NoGradGuard no_grad;  // grad mode is per thread: the workers' default is on
    for (int64_t b = lo; b < std::min(hi, blocks); ++b) block(b, b * size, std::min(size, n - b * size));
  });
}

// sum over row blocks, in block order, of part(r0, rows).
template <class Part>
at::Tensor sum_over_row_blocks(int64_t n, Part&& part) {
  std::vector<at::Tensor> parts(static_cast<size_t>(block_count(n)));
  for_each_row_block(n, [&](int64_t b, int64_t r0, int64_t rows) { parts[static_cast<size_t>(b)] = part(r0, rows); });
  at::Tensor total = parts[0];
  for (size_t b = 1; b < parts.size(); ++b) total.add_(parts[b]);
  return total;
}

// x . w (+ bias) by row blocks: every output row is computed by the same single-threaded product.
at::Tensor rows_product(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias) {
  if (!x.is_cpu()) return bias.defined() ? at::addmm(bias, x, w) : at::mm(x, w);  // no OpenBLAS there
  at::Tensor out = at::empty({x.size(0), w.size(1)}, x.options());
  for_each_row_block(x.size(0), [&](int64_t, int64_t r0, int64_t rows) {
    at::Tensor o = out.narrow(0, r0, rows);
    if (bias.defined())
      at::addmm_out(o, bias, x.narrow(0, r0, rows), w);
    else
      at::mm_out(o, x.narrow(0, r0, rows), w);
  });
  return out;
}

// The gradients of x . w (+ bias) for the output gradient g: dx = g w^T by row blocks like the
// forward; dw = x^T g and the bias's column sums of g summed over row blocks in block order.
// `first` is the input index of x (w follows it); `bias` the bias's, or -1.
variable_list row_layer_grads(AutogradContext* ctx, const at::Tensor& g_in, size_t first, int bias) {
  const auto saved = ctx->get_saved_variables();
  const at::Tensor &x = saved[0], &w = saved[1];
  const at::Tensor g = g_in.contiguous();
  const int64_t n = x.size(0);
  const bool cpu = x.is_cpu();
  variable_list out = {ctx->needs_input_grad(first) ? rows_product(g, w.t(), at::Tensor()) : at::Tensor(),
                       !ctx->needs_input_grad(first + 1) ? at::Tensor()
                       : !cpu ? at::mm(x.t(), g)
                              : sum_over_row_blocks(n, [&](int64_t r0, int64_t rows) {
                                  return at::mm(x.narrow(0, r0, rows).t(), g.narrow(0, r0, rows));
                                })};
  if (bias >= 0)
    out.push_back(!ctx->needs_input_grad(static_cast<size_t>(bias)) ? at::Tensor()
                  : !cpu ? g.sum(0)
                         : sum_over_row_blocks(n, [&](int64_t r0, int64_t rows) { return g.narrow(0, r0, rows).sum(0); }));
  return out;
}

// First derivatives only: the backward's products run without autograd (create_graph is refused).
void check_first_order() {
  TORCH_CHECK(!at::GradMode::is_enabled(), "rows_mm / rows_addmm: second derivatives are not supported");
}

class RowProduct : public torch::autograd::Function<RowProduct> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w) {
    ctx->save_for_backward({x, w});
    return rows_product(x, w, at::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    check_first_order();
    return row_layer_grads(ctx, grads[0], 0, -1);
  }
};

class RowAffine : public torch::autograd::Function<RowAffine> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& bias, const at::Tensor& x, const at::Tensor& w) {
    ctx->save_for_backward({x, w});
    return rows_product(x, w, bias);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    check_first_order();
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
