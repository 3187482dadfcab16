// Early stopping (ALGORITHMS.md §1.5): a strictly better validation Recall@20 resets patience;
// evaluations before train.min_epochs never count against it. Its bookkeeping lives in LoopState, so
// a checkpoint keeps it.
#pragma once

#include <cstdint>

#include "config/run_config.hpp"
#include "train/checkpoint.hpp"

namespace recgrid::train {

struct EarlyStopping {
  LoopState& state;
  const config::TrainConfig& train;

  // Returns true when this evaluation is the best so far.
  bool observe(int64_t epoch, double recall) {
    state.epoch = epoch;
    if (recall > state.best_recall) {
      state.best_recall = recall;
      state.best_epoch = epoch;
      state.bad_evals = 0;
      return true;
    }
    if (epoch >= train.min_epochs) ++state.bad_evals;
    return false;
  }
  bool should_stop() const { return state.bad_evals >= train.patience; }
};

}  // namespace recgrid::train
