#include "text/randomized_svd.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <stdexcept>

namespace recgrid::text {

namespace {

// A x for sparse or dense A.
at::Tensor times(const at::Tensor& a, const at::Tensor& x) { return a.is_sparse() ? at::mm(a, x) : a.mm(x); }

at::Tensor orthonormal_basis(const at::Tensor& y) { return std::get<0>(at::linalg_qr(y, "reduced")); }

}  // namespace

TruncatedSvd randomized_svd(const at::Tensor& a, int64_t k, uint64_t seed, int64_t oversample, int64_t power_iterations) {
  const int64_t rows = a.size(0), cols = a.size(1);
  if (k < 1 || k > std::min(rows, cols))
    throw std::invalid_argument("randomized_svd: k = " + std::to_string(k) + " must be in [1, min(rows, cols) = " +
                                std::to_string(std::min(rows, cols)) + "]");
  const int64_t width = std::min(k + oversample, std::min(rows, cols));
  const at::Tensor at_t = a.is_sparse() ? a.t().coalesce() : a.t();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor omega = at::normal(0.0, 1.0, {cols, width}, gen, a.options().layout(at::kStrided)).to(a.device());
  at::Tensor q = orthonormal_basis(times(a, omega));
  for (int64_t it = 0; it < power_iterations; ++it) q = orthonormal_basis(times(a, orthonormal_basis(times(at_t, q))));
  const at::Tensor b = times(at_t, q).t();  // Qᵀ A, [width x cols]
  auto [u_small, s, vt] = at::linalg_svd(b, /*full_matrices=*/false);
  at::Tensor v = vt.narrow(0, 0, k).t().contiguous();  // [cols x k]
  // Fix each component's sign (SVD is unique only up to it): largest |entry| positive.
  const at::Tensor pivot = v.abs().argmax(0);
  const at::Tensor sign = v.gather(0, pivot.unsqueeze(0)).sign().squeeze(0);
  v = v * sign.unsqueeze(0);
  return {s.narrow(0, 0, k).contiguous(), v};
}

}  // namespace recgrid::text
