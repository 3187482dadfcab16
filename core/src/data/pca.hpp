// Principal component analysis of a text table: the `text.reduce_dim` option. A CPU user with
// 3072-wide LLM embeddings can train on their top-N components instead (towers N wide, not 3072).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace recgrid::data {

struct Pca {
  at::Tensor scores;         // [rows x n]: the centred table projected on its top-n principal axes
  double explained = 0;      // share of the table's total variance those n axes keep, in [0, 1]
};

// The top-n principal component scores of `table` [rows x cols] (float, any device), with
// n < cols and n <= rows. Columns are ordered by decreasing variance; each axis has the sign that
// makes its largest-magnitude coordinate positive, so the result does not depend on the
// eigensolver's sign choice. The eigenproblem is solved in double on the smaller Gram side
// (cols x cols covariance, or rows x rows when the table is wider than tall).
Pca principal_components(const at::Tensor& table, int64_t n);

}  // namespace recgrid::data
