// Products of a table's rows with a parameter matrix whose gradients do not depend on the thread
// count (implemented in sdk/src/row_layer.cpp, which says why).
#pragma once

#include <ATen/core/Tensor.h>

namespace recgrid::ops {

// x.mm(w) and at::addmm(bias, x, w): a layer applied to every row of x ([n x in] times [in x out],
// bias [out]), the same values as at::mm / at::addmm. The gradients of w and bias (sums over the n
// rows) are the same bits at any thread count: fixed blocks of rows, each block's product on one
// thread, added in block order (sdk/src/row_layer.cpp says why). Use them for every product whose
// weight is a parameter and whose rows are nodes or a batch.
at::Tensor rows_mm(const at::Tensor& x, const at::Tensor& w);
at::Tensor rows_addmm(const at::Tensor& bias, const at::Tensor& x, const at::Tensor& w);

}  // namespace recgrid::ops
