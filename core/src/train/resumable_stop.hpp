// The ways a run stops before its end and can be resumed: a stop signal inside an epoch or between
// two, a stop signal during an evaluation, and train.pause_after. Each leaves checkpoint.pt at the
// point `--resume` continues from and throws Interrupted or Paused (trainer.hpp).
#pragma once

#include <spdlog/logger.h>

#include <cstdint>

#include "train/checkpoint.hpp"
#include "train/run_parts.hpp"
#include "train/trainer.hpp"

namespace recgrid::train {

// A stop signal inside (or right after an unevaluated) epoch: checkpoint.pt with the position in
// state.mid, then Interrupted.
[[noreturn]] void stop_here(RunParts& p, const RunOptions& o, LoopState& state, double epoch_train_s, double elapsed_s,
                            spdlog::logger& log);

// A stop signal during an evaluated epoch's evaluation or checkpoint: that checkpoint is the point.
[[noreturn]] void stop_after_evaluation(int64_t epoch, spdlog::logger& log);

// train.pause_after reached before `epoch`: checkpoint.pt holds the start of that epoch, then Paused.
[[noreturn]] void pause_before(int64_t epoch, RunParts& p, const RunOptions& o, LoopState& state, double elapsed_s,
                               spdlog::logger& log);

}  // namespace recgrid::train
