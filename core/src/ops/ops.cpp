// ALGORITHMS.md §0 primitives. spmm is the hot loop of every graph model: a custom autograd
// function with a row-parallel CPU kernel (forward by rows, backward by the transpose's rows, so
// every output row is summed by one thread in a fixed order: deterministic, no atomics).
#include "recgrid/ops.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <type_traits>

namespace recgrid::ops {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// out[r] = sum_{k in [ptr[r], ptr[r+1])} val[k] * x[idx[k]]  for rows r in [lo, hi).
// D > 0 fixes the width at compile time so the accumulator lives in registers; D = 0 is generic.
template <int D, class scalar_t>
inline void csr_rows_impl(const int64_t* ptr, const int64_t* idx, const scalar_t* val, const scalar_t* x,
                          int64_t d, scalar_t* out, int64_t lo, int64_t hi) {
  if constexpr (D > 0) {
    for (int64_t r = lo; r < hi; ++r) {
      scalar_t acc[D] = {};
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
        const scalar_t w = val[k];
        const scalar_t* xr = x + idx[k] * D;
        for (int c = 0; c < D; ++c) acc[c] += w * xr[c];
      }
      for (int c = 0; c < D; ++c) out[r * D + c] = acc[c];
    }
  } else {
    for (int64_t r = lo; r < hi; ++r) {
      scalar_t* o = out + r * d;
      for (int64_t c = 0; c < d; ++c) o[c] = 0;
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
        const scalar_t w = val[k];
        const scalar_t* xr = x + idx[k] * d;
        for (int64_t c = 0; c < d; ++c) o[c] += w * xr[c];
      }
    }
  }
}

// The float kernels again, compiled for AVX2/FMA and chosen at run time when the CPU has them.
template <int D>
__attribute__((target("avx2,fma"))) void csr_rows_avx2(const int64_t* ptr, const int64_t* idx, const float* val,
                                                       const float* x, int64_t d, float* out, int64_t lo, int64_t hi) {
  csr_rows_impl<D, float>(ptr, idx, val, x, d, out, lo, hi);
}

bool cpu_has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

// Row-parallel sparse x dense product in CSR form; every output row is written by one thread.
template <class scalar_t>
void csr_rows(const int64_t* ptr, int64_t n_rows, const int64_t* idx, const scalar_t* val, const scalar_t* x,
              int64_t d, scalar_t* out) {
  at::parallel_for(0, n_rows, 512, [&](int64_t lo, int64_t hi) {
    if constexpr (std::is_same_v<scalar_t, float>) {
      if (cpu_has_avx2()) {
        if (d == 32) return csr_rows_avx2<32>(ptr, idx, val, x, d, out, lo, hi);
        if (d == 64) return csr_rows_avx2<64>(ptr, idx, val, x, d, out, lo, hi);
        return csr_rows_avx2<0>(ptr, idx, val, x, d, out, lo, hi);
      }
    }
    if (d == 32) return csr_rows_impl<32, scalar_t>(ptr, idx, val, x, d, out, lo, hi);
    csr_rows_impl<0, scalar_t>(ptr, idx, val, x, d, out, lo, hi);
  });
}

class SpmmFunction : public torch::autograd::Function<SpmmFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& values, const at::Tensor& x,
                            const at::Tensor& rowptr, const at::Tensor& row, const at::Tensor& col,
                            const at::Tensor& t_rowptr, const at::Tensor& t_col, const at::Tensor& t_perm) {
    at::Tensor xc = x.contiguous(), vc = values.contiguous();
    at::Tensor out = at::empty_like(xc);
    AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "recgrid_spmm_forward", [&] {
      csr_rows<scalar_t>(rowptr.data_ptr<int64_t>(), rowptr.numel() - 1, col.data_ptr<int64_t>(),
                         vc.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(), xc.size(1), out.data_ptr<scalar_t>());
    });
    ctx->save_for_backward({vc, xc, row, col, t_rowptr, t_col, t_perm});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto s = ctx->get_saved_variables();
    const at::Tensor &values = s[0], &x = s[1], &row = s[2], &col = s[3], &t_rowptr = s[4], &t_col = s[5],
                     &t_perm = s[6];
    at::Tensor g = grads[0].contiguous();
    const int64_t d = x.size(1);
    at::Tensor grad_x, grad_values;
    if (ctx->needs_input_grad(1)) {  // grad_x = S^T g: the same kernel on the transpose's rows
      grad_x = at::empty_like(x);
      const at::Tensor t_values = values.index_select(0, t_perm);
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "recgrid_spmm_backward_x", [&] {
        csr_rows<scalar_t>(t_rowptr.data_ptr<int64_t>(), t_rowptr.numel() - 1, t_col.data_ptr<int64_t>(),
                           t_values.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), d, grad_x.data_ptr<scalar_t>());
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
    return {grad_values, grad_x, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor spmm(const Graph& graph, const at::Tensor& values, const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(0) == graph.n_nodes, "spmm: x must be [", graph.n_nodes, " x d], got ",
              x.sizes());
  TORCH_CHECK(values.numel() == graph.n_edges(), "spmm: ", values.numel(), " values for ", graph.n_edges(),
              " graph entries");
  if (x.is_cpu() && values.scalar_type() == x.scalar_type())
    return SpmmFunction::apply(values, x, graph.rowptr, graph.row, graph.col, graph.t_rowptr, graph.t_col,
                               graph.t_perm);
  // Other devices: the same product from generic differentiable ops.
  return at::zeros_like(x).index_add(0, graph.row, x.index_select(0, graph.col) * values.unsqueeze(1).to(x.dtype()));
}

at::Tensor drop_edges(const at::Tensor& values, double keep_rate) {
  if (keep_rate >= 1.0) return values;
  if (!values.is_cpu()) return values * at::floor(at::rand_like(values) + keep_rate);
  // CPU: at::rand_like is a serial Mersenne Twister (~1.3 ms per 240k entries, the largest
  // non-product cost of a LightGCN step). Instead one draw from the seeded torch generator keys a
  // counter-based stream, hashed per entry in parallel: still a pure function of the run's seed.
  const uint64_t key = static_cast<uint64_t>(at::randint(int64_t{1} << 62, {1}, at::kLong).item<int64_t>());
  at::Tensor mask = at::empty(values.sizes(), values.options().requires_grad(false));
  const float keep = static_cast<float>(keep_rate);
  AT_DISPATCH_FLOATING_TYPES(mask.scalar_type(), "recgrid_drop_edges", [&] {
    scalar_t* m = mask.data_ptr<scalar_t>();
    at::parallel_for(0, mask.numel(), 16384, [&](int64_t lo, int64_t hi) {
      for (int64_t e = lo; e < hi; ++e) {
        uint64_t z = key + static_cast<uint64_t>(e) * 0x9E3779B97F4A7C15ULL;  // splitmix64
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        const float u = static_cast<float>(z >> 40) * (1.0f / 16777216.0f);  // U[0, 1), 24 bits
        m[e] = u + keep >= 1.0f ? scalar_t(1) : scalar_t(0);                 // floor(U + p)
      }
    });
  });
  return values * mask;
}

at::Tensor xavier_uniform(int64_t rows, int64_t cols, const at::TensorOptions& options) {
  const double a = std::sqrt(6.0 / static_cast<double>(rows + cols));
  return at::empty({rows, cols}, options).uniform_(-a, a);
}

at::Tensor bpr_loss(const at::Tensor& users, const at::Tensor& pos, const at::Tensor& neg) {
  return at::softplus((neg * users).sum(1) - (pos * users).sum(1), 1, 20).mean();
}

}  // namespace recgrid::ops
