// One training epoch (ALGORITHMS.md §1.3, §1.5): fresh negatives, shuffled batches, one train_step
// each. Its randomness depends only on the seed and the epoch number, so an epoch resumed at a step
// (MidEpoch, checkpoint.hpp) ends with the numbers of an uninterrupted one.
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/run_config.hpp"
#include "data/sampler.hpp"
#include "train/checkpoint.hpp"
#include "train/model_stack.hpp"
#include "train/progress.hpp"

namespace recgrid::train {

// Mean loss terms of one epoch, in the order the model reports them.
struct EpochLosses {
  std::vector<std::pair<std::string, double>> terms;
  double total = 0;
};

struct EpochRun {
  EpochLosses losses;
  bool stopped = false;
};

// When `mid` says the run stopped inside this epoch, runs its rest. A stop signal ends it after the
// current step: `mid` then holds where (and stopped is true). A finished epoch clears `mid`.
EpochRun train_epoch(ModelStack& model, torch::optim::Optimizer& optimizer, const data::BprSampler& sampler,
                     const config::RunConfig& cfg, int64_t epoch, const at::Device& device, Progress& progress,
                     const std::string& best_text, MidEpoch& mid);

}  // namespace recgrid::train
