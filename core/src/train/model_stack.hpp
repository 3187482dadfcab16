// The composed model of one run: a base-model plugin plus its stacked enhancers, driven through the
// plugin boundary. Implements the data flow of one training step (docs/DESIGN.md, "One training run, end to end"):
//   E0 -> enhancers.transform_inputs -> base.encode -> base.loss + enhancers.loss + reg
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

#include "config/run_config.hpp"
#include "data/dataset.hpp"
#include "eval/evaluator.hpp"
#include "plugin/loader.hpp"
#include "train/text_inputs.hpp"

namespace recgrid::train {

class ModelStack {
 public:
  // Creates the plugin instances; the caller seeds the generator first (parameter init is random).
  ModelStack(const plugin::Registry& registry, const config::RunConfig& config, const data::Dataset& ds,
             const NamedTensors& graph_tensors, const TextSources& text);

  // Named, weighted loss terms of one batch ("<plugin>.<term>", then "reg"); sum them for the total.
  NamedTensors train_losses(const NamedTensors& batch);
  // Scoring embeddings (no gradient).
  eval::Embeddings eval_embeddings();
  bool encode_per_eval_batch() const;
  // Each enhancer's text-side embeddings, "<enhancer>.<name>" (no gradient).
  NamedTensors text_side_embeddings();
  void after_step();

  // Every trainable tensor and every persistent buffer, by qualified name "<plugin>.<name>".
  const NamedTensors& parameters() const { return parameters_; }
  const NamedTensors& buffers() const { return buffers_; }
  // "name version" of each plugin in the stack.
  std::vector<std::pair<std::string, std::string>> versions() const;

 private:
  at::Tensor layer0(rg_mode mode);

  std::unique_ptr<plugin::Instance> base_;
  std::vector<std::unique_ptr<plugin::Instance>> enhancers_;
  NamedTensors parameters_, buffers_;
  double reg_weight_;
};

}  // namespace recgrid::train
