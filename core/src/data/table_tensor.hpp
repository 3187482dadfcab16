// Float tables (ndarray.hpp) as LibTorch tensors and back: the tables read from .npy/pickles feed the
// enhancers as tensors, and the text commands write tensors as tables.
#pragma once

#include <ATen/ATen.h>

#include "data/ndarray.hpp"

namespace recgrid::data {

// A [rows x cols] float32 CPU tensor owning a copy of the values.
inline at::Tensor to_tensor(const FloatTable& t) {
  return at::from_blob(const_cast<float*>(t.values.data()), {t.rows, t.cols}, at::kFloat).clone();
}

// A 2-D tensor (any dtype or device) as a float32 table.
inline FloatTable to_table(const at::Tensor& x) {
  const at::Tensor t = x.to(at::kFloat).cpu().contiguous();
  return FloatTable{t.size(0), t.size(1), std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel())};
}

}  // namespace recgrid::data
