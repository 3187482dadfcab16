// Choosing the reader of a run's dataset from dataset.format: the generator (synthetic), TSV files or
// the SSLRec pickles, and the dataset.name that overrides the one the reader found.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config/run_config.hpp"
#include "data/dataset.hpp"

namespace recgrid::data {

// The interactions, and where the text tables come from: `text_files` becomes dataset.text (input
// name -> file). A synthetic dataset is generated here and supplies its four tables in memory, in
// `preloaded` (on `device`) under the pseudo-path "<synthetic>/NAME" that `text_files` names for each,
// unless dataset.text names a file for one of them.
Dataset load_dataset(const config::DatasetConfig& config, const at::Device& device,
                     std::vector<std::pair<std::string, std::string>>& text_files,
                     std::map<std::string, at::Tensor>& preloaded);

// The interactions alone (a fitted model reads no text table).
Dataset load_interactions(const config::DatasetConfig& config);

}  // namespace recgrid::data
