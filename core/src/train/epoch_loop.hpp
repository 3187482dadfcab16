// The epoch loop of a run: from the state after the last checkpoint to early stopping or
// train.epochs, with an evaluation, metrics.jsonl line and checkpoint.pt every train.test_step epochs,
// best.pt on improvement, and the resumable stops (resumable_stop.hpp) at a signal or pause_after.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "train/checkpoint.hpp"
#include "train/run_parts.hpp"
#include "train/timing.hpp"
#include "train/trainer.hpp"

namespace recgrid::train {

struct LoopOutcome {
  std::string stop_reason = "max_epochs";
  int64_t last_epoch = -1;
  std::vector<double> train_times, eval_times;  // this session's epochs and evaluations
};

// `elapsed_before` is the wall time of the earlier sessions, `session_start` when this one began.
LoopOutcome run_epochs(RunParts& p, const config::RunConfig& cfg, const RunOptions& o, LoopState& state,
                       double elapsed_before, Clock::time_point session_start, const at::Device& device,
                       spdlog::logger& log);

}  // namespace recgrid::train
