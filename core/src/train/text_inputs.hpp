// The embedding tables enhancers declare (rg_input_spec), loaded and checked by the host.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "recgrid/abi.h"
#include "recgrid/tensor_list.hpp"

namespace recgrid::train {

// For each declared input, finds its file in `files` (dataset.text), reads it (.npy or pickled numpy),
// and checks: rows = users or items of the dataset, columns = the declared width (if any), every value
// finite. Errors name the enhancer, the input, the file, and the expected and found shapes.
// Returns the tables as float32 tensors on `device`, by input name. `cache` (by file path) lets the
// enhancers of one run share a table instead of reading it again.
using TableCache = std::map<std::string, at::Tensor>;

// text.reduce_dim: tables an enhancer accepts at any width and wider than `dim` are replaced by their
// top-`dim` principal components (data/pca.hpp), computed once per file and shared through the cache.
// `report` (if set) receives one line per reduced table: the widths, variance kept, and seconds.
struct TextReduction {
  int64_t dim = 0;
  std::function<void(const std::string&)> report;
};

// Where a run's text tables come from: dataset.text (name -> file), and tables already in memory
// (a synthetic dataset's), stored in `preloaded` under the pseudo-path given in `files`.
struct TextSources {
  std::vector<std::pair<std::string, std::string>> files;
  TableCache preloaded;
  TextReduction reduce;
};
NamedTensors load_text_inputs(const std::string& enhancer, const rg_input_spec* specs, uint32_t n_specs,
                              const std::vector<std::pair<std::string, std::string>>& files, int64_t n_users,
                              int64_t n_items, const at::Device& device, TableCache& cache,
                              const TextReduction& reduce = {});

}  // namespace recgrid::train
