// The training graph as plugins see it: one sorted entry list (CSR) shared by the normalised
// adjacency Â and the plain edge list P (ALGORITHMS.md §1.2), plus its transpose permutation.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace recgrid {

struct Graph {
  int64_t n_nodes = 0;   // V = users + items; user u is node u, item i is node M + i
  at::Tensor rowptr;     // [V+1] int64
  at::Tensor row;        // [E] int64, sorted by (row, col)
  at::Tensor col;        // [E] int64
  at::Tensor norm;       // [E] float: 1 / sqrt(deg_row * deg_col)
  at::Tensor t_rowptr;   // [V+1] int64: CSR row pointer of the transpose
  at::Tensor t_col;      // [E] int64: column of each transpose entry (= row of the original entry)
  at::Tensor t_perm;     // [E] int64: entries of the transpose, as indices into this list
  int64_t n_edges() const { return row.numel(); }
};

}  // namespace recgrid
