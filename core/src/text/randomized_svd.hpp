// Truncated SVD of a (sparse) matrix by random projection (Halko, Martinsson & Tropp 2011,
// Algorithms 4.4 + 5.1): the second half of the offline text encoder.
//
//   Y = A Ω, Ω ~ N(0, 1) [n_cols x (k + oversample)]; `power_iterations` rounds of Q = qr(A (Aᵀ Q))
//   B = Qᵀ A (small, dense), B = Û Σ Vᵀ,  A ≈ (Q Û) Σ Vᵀ, keep the first k
// Deterministic for a seed (its own generator); each component's sign is fixed so that its largest
// absolute entry in V is positive.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace recgrid::text {

struct TruncatedSvd {
  at::Tensor singular_values;  // [k], descending
  at::Tensor components;       // V [n_cols x k]: A V = U Σ are the row coordinates
};

TruncatedSvd randomized_svd(const at::Tensor& a, int64_t k, uint64_t seed, int64_t oversample = 10,
                            int64_t power_iterations = 4);

}  // namespace recgrid::text
