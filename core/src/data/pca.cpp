#include "data/pca.hpp"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

namespace recgrid::data {

namespace {

// Flips each column of `axes` [d x n] so that its largest-magnitude entry is positive.
at::Tensor canonical_signs(const at::Tensor& axes) {
  const at::Tensor largest = axes.abs().argmax(0);                      // [n]
  const at::Tensor pivot = axes.gather(0, largest.unsqueeze(0));        // [1 x n]
  return axes * at::where(pivot < 0, -1.0, 1.0).to(axes.scalar_type());
}

}  // namespace

Pca principal_components(const at::Tensor& table, int64_t n) {
  const int64_t rows = table.size(0), cols = table.size(1);
  if (n <= 0 || n >= cols || n > rows)
    throw std::invalid_argument("principal_components: need 0 < n < columns and n <= rows, found n = " +
                                std::to_string(n) + " for a [" + std::to_string(rows) + " x " +
                                std::to_string(cols) + "] table");
  const at::Tensor centred = table - table.mean(0, /*keepdim=*/true);
  // Second moments in float (one large GEMM), the eigenproblem in double (small, and the spectrum's
  // tail is where float would lose the ordering).
  const bool tall = rows >= cols;
  const at::Tensor gram = (tall ? centred.t().matmul(centred) : centred.matmul(centred.t())).to(at::kDouble);
  auto [values, vectors] = at::linalg_eigh(gram);  // ascending
  const at::Tensor top_values = values.flip(0).narrow(0, 0, n).clamp_min(0);
  const at::Tensor top_vectors = vectors.flip(1).narrow(1, 0, n);
  Pca out;
  out.explained = (top_values.sum() / values.clamp_min(0).sum()).item<double>();
  // Principal axes [cols x n]: the covariance's eigenvectors, or on the Gram side (eigenvectors u_k of
  // X X^T) the unit vectors X^T u_k / sqrt(λ_k).
  const at::Tensor axes =
      tall ? top_vectors
           : centred.t().to(at::kDouble).matmul(top_vectors) / top_values.sqrt().clamp_min(1e-300);
  out.scores = centred.matmul(canonical_signs(axes).to(table.scalar_type()));
  return out;
}

}  // namespace recgrid::data
