// One optimizer step on one batch of BPR triplets (ALGORITHMS.md §1.3), with the checks that stop a
// diverging run (Diverged, trainer.hpp) before its update is applied.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/optim/optimizer.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/run_config.hpp"
#include "data/sampler.hpp"
#include "recgrid/tensor_list.hpp"
#include "train/model_stack.hpp"

namespace recgrid::train {

// Triplets [start, end) as the batch tensors "users", "pos" and "neg" on `device`.
NamedTensors batch_tensors(const data::Triplets& t, size_t start, size_t end, const at::Device& device);

// The loss terms (into `step_terms`), their checks, backward, the gradients' check, the update and
// the plugins' after-step hook. Returns the total loss.
double train_step(ModelStack& model, torch::optim::Optimizer& optimizer, const NamedTensors& batch,
                  const config::RunConfig& cfg, int64_t epoch, int64_t step,
                  std::vector<std::pair<std::string, double>>& step_terms);

}  // namespace recgrid::train
