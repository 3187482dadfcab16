// ALGORITHMS.md §0 primitives. spmm is the hot loop of every graph model: a custom autograd
// function with a row-parallel CPU kernel (forward by rows, backward by the transpose's rows, so
// every output row is summed by one thread in a fixed order: deterministic, no atomics).
#include "recgrid/ops.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

namespace recgrid::ops {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// out[r] = sum_{e in [ptr[r], ptr[r+1])} val[pick(e)] * x[src(pick(e))]
template <class scalar_t, class Pick, class Src>
void csr_rows(const int64_t* ptr, int64_t n_rows, const scalar_t* val, const scalar_t* x, int64_t d,
              scalar_t* out, Pick pick, Src src) {
  at::parallel_for(0, n_rows, 256, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      scalar_t* o = out + r * d;
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
        const int64_t e = pick(k);
        const scalar_t w = val[e];
        const scalar_t* xr = x + src(e) * d;
        for (int64_t c = 0; c < d; ++c) o[c] += w * xr[c];
      }
    }
  });
}

class SpmmFunction : public torch::autograd::Function<SpmmFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& values, const at::Tensor& x,
                            const at::Tensor& rowptr, const at::Tensor& row, const at::Tensor& col,
                            const at::Tensor& t_rowptr, const at::Tensor& t_perm) {
    at::Tensor xc = x.contiguous(), vc = values.contiguous();
    at::Tensor out = at::zeros_like(xc);
    const int64_t n = rowptr.numel() - 1, d = xc.size(1);
    const int64_t* colp = col.data_ptr<int64_t>();
    AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "recgrid_spmm_forward", [&] {
      csr_rows<scalar_t>(rowptr.data_ptr<int64_t>(), n, vc.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(), d,
                         out.data_ptr<scalar_t>(), [](int64_t k) { return k; }, [colp](int64_t e) { return colp[e]; });
    });
    ctx->save_for_backward({vc, xc, rowptr, row, col, t_rowptr, t_perm});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto s = ctx->get_saved_variables();
    const at::Tensor &values = s[0], &x = s[1], &row = s[3], &col = s[4], &t_rowptr = s[5], &t_perm = s[6];
    at::Tensor g = grads[0].contiguous();
    const int64_t d = x.size(1);
    at::Tensor grad_x, grad_values;
    if (ctx->needs_input_grad(1)) {  // grad_x = S^T g: walk the transpose's rows
      grad_x = at::zeros_like(x);
      const int64_t* perm = t_perm.data_ptr<int64_t>();
      const int64_t* rowp = row.data_ptr<int64_t>();
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "recgrid_spmm_backward_x", [&] {
        csr_rows<scalar_t>(t_rowptr.data_ptr<int64_t>(), t_rowptr.numel() - 1, values.data_ptr<scalar_t>(),
                           g.data_ptr<scalar_t>(), d, grad_x.data_ptr<scalar_t>(),
                           [perm](int64_t k) { return perm[k]; }, [rowp](int64_t e) { return rowp[e]; });
      });
    }
    if (ctx->needs_input_grad(0)) {  // grad_values[e] = g[row e] . x[col e]
      grad_values = at::empty_like(values);
      const int64_t n_edges = values.numel();
      const int64_t* rowp = row.data_ptr<int64_t>();
      const int64_t* colp = col.data_ptr<int64_t>();
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "recgrid_spmm_backward_values", [&] {
        const scalar_t* gp = g.data_ptr<scalar_t>();
        const scalar_t* xp = x.data_ptr<scalar_t>();
        scalar_t* out = grad_values.data_ptr<scalar_t>();
        at::parallel_for(0, n_edges, 4096, [&](int64_t lo, int64_t hi) {
          for (int64_t e = lo; e < hi; ++e) {
            const scalar_t* a = gp + rowp[e] * d;
            const scalar_t* b = xp + colp[e] * d;
            scalar_t acc = 0;
            for (int64_t c = 0; c < d; ++c) acc += a[c] * b[c];
            out[e] = acc;
          }
        });
      });
    }
    return {grad_values, grad_x, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor spmm(const Graph& graph, const at::Tensor& values, const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(0) == graph.n_nodes, "spmm: x must be [", graph.n_nodes, " x d], got ",
              x.sizes());
  TORCH_CHECK(values.numel() == graph.n_edges(), "spmm: ", values.numel(), " values for ", graph.n_edges(),
              " graph entries");
  if (x.is_cpu() && values.scalar_type() == x.scalar_type())
    return SpmmFunction::apply(values, x, graph.rowptr, graph.row, graph.col, graph.t_rowptr, graph.t_perm);
  // Other devices: the same product from generic differentiable ops.
  return at::zeros_like(x).index_add(0, graph.row, x.index_select(0, graph.col) * values.unsqueeze(1).to(x.dtype()));
}

at::Tensor drop_edges(const at::Tensor& values, double keep_rate) {
  if (keep_rate >= 1.0) return values;
  return values * at::floor(at::rand_like(values) + keep_rate);
}

at::Tensor xavier_uniform(int64_t rows, int64_t cols, const at::TensorOptions& options) {
  const double a = std::sqrt(6.0 / static_cast<double>(rows + cols));
  return at::empty({rows, cols}, options).uniform_(-a, a);
}

at::Tensor bpr_loss(const at::Tensor& users, const at::Tensor& pos, const at::Tensor& neg) {
  return at::softplus((neg * users).sum(1) - (pos * users).sum(1), 1, 20).mean();
}

}  // namespace recgrid::ops
