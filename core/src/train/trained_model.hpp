// A run's model at its best epoch (best.pt), rebuilt from its resolved configuration: what
// `recgrid export` and `recgrid recommend` read.
#pragma once

#include <string>

#include "config/run_config.hpp"
#include "data/dataset.hpp"
#include "eval/evaluator.hpp"
#include "plugin/loader.hpp"
#include "recgrid/tensor_list.hpp"

namespace recgrid::train {

struct TrainedModel {
  data::Dataset dataset;
  eval::Embeddings embeddings;  // the base model's final user and item embeddings
  NamedTensors text_side;       // each enhancer's text-side embeddings, "<enhancer>.<name>" (may be empty)
};
TrainedModel load_trained_model(const std::string& run_dir, const config::RunConfig& config,
                                const plugin::Registry& registry);

}  // namespace recgrid::train
