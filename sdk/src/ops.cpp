// ALGORITHMS.md §0 primitives. spmm is the hot loop of every graph model: a custom autograd
// function with a row-parallel CPU kernel (forward by rows, backward by the transpose's rows, so
// every output row is summed by one thread in a fixed order: deterministic, no atomics).
#include "recgrid/ops.hpp"
#include "recgrid/splitmix.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

namespace recgrid::ops {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// One sparse-times-dense row pass, with optional fused extras:
//   out[r] = sum_{k in [ptr[r], ptr[r+1])} val[k] * x[idx[k]] + add0[r] + add1[r]
//   sum_out[r] = sum_in[r] + out[r]
// Fusing the additions saves full passes over [V x d] tensors, which cost as much as the product.
template <class T>
struct RowPass {
  const int64_t* ptr;
  const int64_t* idx;
  const T* val;
  const T* x;
  int64_t d;
  T* out;
  const T* add0 = nullptr;
  const T* add1 = nullptr;
  const T* sum_in = nullptr;
  T* sum_out = nullptr;
};

// The rows gathered by entry k + kPrefetchAhead are requested while entry k is summed: above ~1e5
// nodes the tables leave the cache and every gather would otherwise wait for memory on its own.
constexpr int64_t kPrefetchAhead = 8;

template <class T>
inline void prefetch_row(const T* row, int64_t d) {
  const char* p = reinterpret_cast<const char*>(row);
  for (int64_t b = 0; b < d * static_cast<int64_t>(sizeof(T)); b += 64) __builtin_prefetch(p + b, 0, 3);
}

// D > 0 fixes the width at compile time so the accumulator lives in registers; D = 0 is generic.
// always_inline: so that the AVX2 wrapper below compiles its own copy with AVX2. Without it GCC
// called the one baseline (SSE) copy from the wrapper, and the AVX2 path never ran (found in the
// disassembly of 0067d2c: row_pass_avx2<32> was a jump to row_pass_impl<32, float>, xmm only).
template <int D, class T>
__attribute__((always_inline)) inline void row_pass_impl(const RowPass<T>& p, int64_t lo, int64_t hi) {
  // Locals, not struct members, in the loops: the compiler then keeps them in registers instead of
  // reloading them after every store (measured 2x on the amazon graph).
  const int64_t d = D > 0 ? D : p.d;
  const int64_t* __restrict ptr = p.ptr;
  const int64_t* __restrict idx = p.idx;
  const T* __restrict val = p.val;
  const T* __restrict x = p.x;
  const T* add0 = p.add0;
  const T* add1 = p.add1;
  const T* sum_in = p.sum_in;
  T* out = p.out;
  T* sum_out = p.sum_out;
  T fixed[D > 0 ? D : 1];
  std::vector<T> generic(D > 0 ? 0 : static_cast<size_t>(d));
  T* __restrict acc = D > 0 ? fixed : generic.data();
  const int64_t last = ptr[hi] - 1;  // the last entry of this range (the prefetch stays inside it)
  for (int64_t r = lo; r < hi; ++r) {
    for (int64_t c = 0; c < d; ++c) acc[c] = 0;
    const int64_t end = ptr[r + 1];
    for (int64_t k = ptr[r]; k < end; ++k) {
      prefetch_row(x + idx[std::min(k + kPrefetchAhead, last)] * d, d);
      const T w = val[k];
      const T* __restrict xr = x + idx[k] * d;
      for (int64_t c = 0; c < d; ++c) acc[c] += w * xr[c];
    }
    const int64_t o = r * d;
    if (add0)
      for (int64_t c = 0; c < d; ++c) acc[c] += add0[o + c];
    if (add1)
      for (int64_t c = 0; c < d; ++c) acc[c] += add1[o + c];
    for (int64_t c = 0; c < d; ++c) out[o + c] = acc[c];
    if (sum_out)
      for (int64_t c = 0; c < d; ++c) sum_out[o + c] = sum_in[o + c] + acc[c];
  }
}

// The float kernels again, compiled for AVX2 and chosen at run time when the CPU has it. Not FMA:
// a fused multiply-add rounds once where the baseline rounds twice, so every result would change
// with the CPU; without it the 8-wide kernel gives the baseline's numbers bit for bit.
template <int D>
__attribute__((target("avx2"))) void row_pass_avx2(const RowPass<float>& p, int64_t lo, int64_t hi) {
  row_pass_impl<D, float>(p, lo, hi);
}

bool cpu_has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

// Row-parallel over n_rows; every output row is written by one thread, in a fixed order.
template <class T>
void row_pass(const RowPass<T>& p, int64_t n_rows) {
  at::parallel_for(0, n_rows, 512, [&](int64_t lo, int64_t hi) {
    if constexpr (std::is_same_v<T, float>) {
      if (cpu_has_avx2()) {
        if (p.d == 32) return row_pass_avx2<32>(p, lo, hi);
        if (p.d == 64) return row_pass_avx2<64>(p, lo, hi);
        return row_pass_avx2<0>(p, lo, hi);
      }
    }
    if (p.d == 32) return row_pass_impl<32, T>(p, lo, hi);
    row_pass_impl<0, T>(p, lo, hi);
  });
}

template <class T>
const T* ptr_or_null(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// out = S x (+ add0 + add1), S given by CSR (rowptr, idx, val); optionally sum_out = sum_in + out.
at::Tensor product(const at::Tensor& rowptr, const at::Tensor& idx, const at::Tensor& val, const at::Tensor& x,
                   const at::Tensor& add0 = {}, const at::Tensor& add1 = {}, const at::Tensor& sum_in = {},
                   at::Tensor* sum_out = nullptr) {
  at::Tensor out = at::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "recgrid_row_pass", [&] {
    RowPass<scalar_t> p{rowptr.data_ptr<int64_t>(), idx.data_ptr<int64_t>(), val.data_ptr<scalar_t>(),
                        x.data_ptr<scalar_t>(), x.size(1), out.data_ptr<scalar_t>()};
    p.add0 = ptr_or_null<scalar_t>(add0);
    p.add1 = ptr_or_null<scalar_t>(add1);
    if (sum_out) {
      p.sum_in = sum_in.data_ptr<scalar_t>();
      p.sum_out = sum_out->data_ptr<scalar_t>();
    }
    row_pass(p, rowptr.numel() - 1);
  });
  return out;
}

// grad_values[e] += g[row e] . x[col e]
void accumulate_value_grad(at::Tensor& grad_values, const at::Tensor& g, const at::Tensor& x, const at::Tensor& row,
                           const at::Tensor& col) {
  const int64_t n_edges = grad_values.numel(), d = x.size(1);
  const int64_t* rowp = row.data_ptr<int64_t>();
  const int64_t* colp = col.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "recgrid_value_grad", [&] {
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* out = grad_values.data_ptr<scalar_t>();
    at::parallel_for(0, n_edges, 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t e = lo; e < hi; ++e) {
        prefetch_row(xp + colp[std::min(e + kPrefetchAhead, hi - 1)] * d, d);
        const scalar_t* a = gp + rowp[e] * d;
        const scalar_t* b = xp + colp[e] * d;
        scalar_t acc = 0;
        for (int64_t c = 0; c < d; ++c) acc += a[c] * b[c];
        out[e] += acc;
      }
    });
  });
}

class SpmmFunction : public torch::autograd::Function<SpmmFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& values, const at::Tensor& x,
                            const at::Tensor& rowptr, const at::Tensor& row, const at::Tensor& col,
                            const at::Tensor& t_rowptr, const at::Tensor& t_col, const at::Tensor& t_perm) {
    at::Tensor xc = x.contiguous(), vc = values.contiguous();
    ctx->save_for_backward({vc, xc, row, col, t_rowptr, t_col, t_perm});
    return product(rowptr, col, vc, xc);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto s = ctx->get_saved_variables();
    const at::Tensor &values = s[0], &x = s[1], &row = s[2], &col = s[3], &t_rowptr = s[4], &t_col = s[5],
                     &t_perm = s[6];
    at::Tensor g = grads[0].contiguous();
    at::Tensor grad_x, grad_values;
    if (ctx->needs_input_grad(1)) grad_x = product(t_rowptr, t_col, values.index_select(0, t_perm), g);  // S^T g
    if (ctx->needs_input_grad(0)) {
      grad_values = at::zeros_like(values);
      accumulate_value_grad(grad_values, g, x, row, col);
    }
    return {grad_values, grad_x, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// out[e] = x[row e] . x[col e] for every stored entry, row-parallel (no [E x d] gathers).
// Backward: d/dx = S_g x + S_g^T x, where S_g holds the incoming gradient g on the graph's entries.
class EdgeDotFunction : public torch::autograd::Function<EdgeDotFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& rowptr, const at::Tensor& row,
                            const at::Tensor& col, const at::Tensor& t_rowptr, const at::Tensor& t_col,
                            const at::Tensor& t_perm) {
    const at::Tensor xc = x.contiguous();
    at::Tensor out = at::empty({col.numel()}, xc.options());
    const int64_t d = xc.size(1);
    const int64_t* ptr = rowptr.data_ptr<int64_t>();
    const int64_t* colp = col.data_ptr<int64_t>();
    AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "recgrid_edge_dot", [&] {
      const scalar_t* xp = xc.data_ptr<scalar_t>();
      scalar_t* o = out.data_ptr<scalar_t>();
      at::parallel_for(0, rowptr.numel() - 1, 512, [&](int64_t lo, int64_t hi) {
        const int64_t last = ptr[hi] - 1;  // the last entry of this range (the prefetch stays inside it)
        for (int64_t r = lo; r < hi; ++r) {
          const scalar_t* a = xp + r * d;
          for (int64_t e = ptr[r]; e < ptr[r + 1]; ++e) {
            prefetch_row(xp + colp[std::min(e + kPrefetchAhead, last)] * d, d);
            const scalar_t* b = xp + colp[e] * d;
            scalar_t acc = 0;
            for (int64_t c = 0; c < d; ++c) acc += a[c] * b[c];
            o[e] = acc;
          }
        }
      });
    });
    ctx->save_for_backward({xc, rowptr, row, col, t_rowptr, t_col, t_perm});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const at::Tensor &x = s[0], &rowptr = s[1], &col = s[3], &t_rowptr = s[4], &t_col = s[5], &t_perm = s[6];
    const at::Tensor g = grads[0].contiguous();
    const at::Tensor forward_part = product(rowptr, col, g, x);
    const at::Tensor grad_x = product(t_rowptr, t_col, g.index_select(0, t_perm), x, forward_part);
    return {grad_x, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// L layers of E^{l+1} = S E^l and their sum, fused (LightGCN-style propagation).
// Outputs: [sum_{l=0..L} E^l, E^1, ..., E^L].
// Backward, with G = d/d sum and g_l = d/d E^l (either may be absent):
//   D_L = G + g_L,   D_l = S^T D_{l+1} + G + g_l,   d/d E^0 = S^T D_1 + G,
//   d/d S_e = sum_l D_{l+1}[row e] . E^l[col e].
class PropagateFunction : public torch::autograd::Function<PropagateFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& values, const at::Tensor& e0,
                               const at::Tensor& rowptr, const at::Tensor& row, const at::Tensor& col,
                               const at::Tensor& t_rowptr, const at::Tensor& t_col, const at::Tensor& t_perm,
                               int64_t layers) {
    ctx->set_materialize_grads(false);
    at::Tensor x = e0.contiguous(), vc = values.contiguous();
    at::Tensor sum = layers > 0 ? at::empty_like(x) : x.clone();
    variable_list outputs{sum};
    std::vector<at::Tensor> saved{vc, x, row, col, t_rowptr, t_col, t_perm};
    for (int64_t l = 0; l < layers; ++l) {
      const at::Tensor& prev = l == 0 ? x : outputs.back();
      outputs.push_back(product(rowptr, col, vc, prev, {}, {}, l == 0 ? x : sum, &sum));
      saved.push_back(outputs.back());
    }
    ctx->save_for_backward(saved);
    ctx->saved_data["layers"] = layers;
    return outputs;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const at::Tensor &values = s[0], &e0 = s[1], &row = s[2], &col = s[3], &t_rowptr = s[4], &t_col = s[5],
                     &t_perm = s[6];
    const int64_t L = ctx->saved_data["layers"].toInt();
    auto grad = [&](int64_t k) { return grads[k].defined() ? grads[k].contiguous() : at::Tensor(); };
    const at::Tensor G = grad(0);
    const bool want_values = ctx->needs_input_grad(0);
    at::Tensor grad_values = want_values ? at::zeros_like(values) : at::Tensor();
    if (L == 0) return {grad_values, G, {}, {}, {}, {}, {}, {}, {}, {}};

    const at::Tensor t_values = values.index_select(0, t_perm);
    at::Tensor D = grad(L);  // D_L
    if (!D.defined()) D = G.defined() ? G : at::zeros_like(e0);
    else if (G.defined()) D = D + G;
    for (int64_t l = L - 1; l >= 0; --l) {  // D holds D_{l+1}
      const at::Tensor& input = l == 0 ? e0 : s[7 + l - 1];  // E^l
      if (want_values) accumulate_value_grad(grad_values, D, input, row, col);
      D = product(t_rowptr, t_col, t_values, D, G, l > 0 ? grad(l) : at::Tensor());
    }
    return {grad_values, D, {}, {}, {}, {}, {}, {}, {}, {}};
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

at::Tensor edge_dot(const Graph& graph, const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(0) == graph.n_nodes, "edge_dot: x must be [", graph.n_nodes, " x d], got ",
              x.sizes());
  if (x.is_cpu())
    return EdgeDotFunction::apply(x, graph.rowptr, graph.row, graph.col, graph.t_rowptr, graph.t_col, graph.t_perm);
  return (x.index_select(0, graph.row) * x.index_select(0, graph.col)).sum(1);
}

std::vector<at::Tensor> propagate(const Graph& graph, const at::Tensor& values, const at::Tensor& e0, int64_t layers) {
  TORCH_CHECK(layers >= 0, "propagate: layers must be >= 0");
  TORCH_CHECK(e0.dim() == 2 && e0.size(0) == graph.n_nodes, "propagate: e0 must be [", graph.n_nodes, " x d], got ",
              e0.sizes());
  if (e0.is_cpu() && values.scalar_type() == e0.scalar_type())
    return PropagateFunction::apply(values, e0, graph.rowptr, graph.row, graph.col, graph.t_rowptr, graph.t_col,
                                    graph.t_perm, layers);
  std::vector<at::Tensor> out{e0};
  at::Tensor layer = e0;
  for (int64_t l = 0; l < layers; ++l) {
    layer = spmm(graph, values, layer);
    out[0] = out[0] + layer;
    out.push_back(layer);
  }
  return out;
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
        const uint64_t z = splitmix64_mix(key + static_cast<uint64_t>(e) * kGoldenGamma);
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

at::Tensor fan_in_uniform(const std::vector<int64_t>& shape, int64_t fan_in, const at::TensorOptions& options) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return at::empty(shape, options).uniform_(-bound, bound);
}

at::Tensor bpr_loss(const at::Tensor& users, const at::Tensor& pos, const at::Tensor& neg) {
  return at::softplus((neg * users).sum(1) - (pos * users).sum(1), 1, 20).mean();
}

}  // namespace recgrid::ops
