// Building a run from its configuration: the dataset and its text tables, the graph, the plugin stack
// (ModelStack), the sampler, the two evaluators and the optimiser.
#pragma once

#include <torch/optim/adam.h>

#include <spdlog/logger.h>

#include <memory>

#include "config/run_config.hpp"
#include "data/dataset.hpp"
#include "data/sampler.hpp"
#include "eval/evaluator.hpp"
#include "plugin/loader.hpp"
#include "recgrid/graph.hpp"
#include "recgrid/tensor_list.hpp"
#include "train/model_stack.hpp"
#include "train/text_inputs.hpp"

namespace recgrid::train {

// The model of a run and what it reads: text tables, dataset, graph, the plugin stack.
struct ModelParts {
  TextSources text;
  data::Dataset dataset;
  Graph graph;
  NamedTensors graph_list;
  std::unique_ptr<ModelStack> model;
};

// Everything a run trains and evaluates, built from the configuration.
struct RunParts : ModelParts {
  std::unique_ptr<data::UserItemIndex> train_index;
  std::unique_ptr<data::BprSampler> sampler;
  std::unique_ptr<eval::Evaluator> valid_eval, test_eval;
  std::unique_ptr<torch::optim::Adam> optimizer;
};

// The model alone (what an export reads). The plugin instances are created after seeding the
// generator with the run seed (random init).
void build_model(ModelParts& p, const config::RunConfig& cfg, const plugin::Registry& registry,
                 const at::Device& device, spdlog::logger& log);

// The model, then the sampler, the evaluators and Adam over every parameter.
void build_parts(RunParts& p, const config::RunConfig& cfg, const plugin::Registry& registry,
                 const at::Device& device, spdlog::logger& log);

}  // namespace recgrid::train
