// One training run: data, graph, model stack, the epoch loop with early stopping, evaluation,
// checkpoints, and the run folder (config.yaml, log.txt, metrics.jsonl, checkpoint.pt, best.pt,
// results.json). ALGORITHMS.md §1.3-§1.5. trainer.cpp puts a run together from its parts: the run
// folder (run_folder.hpp), building the run (run_parts.hpp), the epoch loop (epoch_loop.hpp) and the
// final evaluation; `recgrid bench` is benchmark.hpp, `recgrid export` reads trained_model.hpp.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

#include "config/run_config.hpp"
#include "plugin/loader.hpp"

namespace recgrid::train {

struct RunOptions {
  std::string out_dir;
  std::string resolved_yaml;  // written to out_dir/config.yaml; compared on --resume
  bool resume = false;        // continue from out_dir/checkpoint.pt
  bool force = false;         // discard whatever out_dir holds
  bool progress = false;      // draw the progress line
};

// The loss or a gradient became NaN / Inf, or the loss passed train.loss_bound. results.json says
// `status: diverged`; checkpoint.pt and best.pt keep the last good evaluation. The runner exits 3.
struct Diverged : std::runtime_error {
  using std::runtime_error::runtime_error;
};
constexpr int kExitDiverged = 3;

// SIGTERM, or SIGUSR1 (what `sbatch --signal=USR1@120` sends ahead of a time limit), during training:
// the current step finishes, checkpoint.pt is written there, and run_training throws Interrupted.
// `--resume` continues from that step with the numbers of an uninterrupted run. The runner exits 4,
// and a grid counts the cell as interrupted (it resumes next time), not failed.
struct Interrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};
constexpr int kExitInterrupted = 4;

// train.pause_after = N: once epochs 0..N-1 ran, checkpoint.pt is written and run_training throws
// Paused; `--resume` (with a larger or no pause_after) continues with the numbers of an unpaused run.
// The runner exits 5. A grid's search trains a trial rung by rung this way (docs/GRIDS.md).
struct Paused : std::runtime_error {
  using std::runtime_error::runtime_error;
};
constexpr int kExitPaused = 5;

// Runs to early stopping (or train.epochs) and returns the content of results.json. Its "status" is
// "ok", or "no_learning" when the best validation is not above the untrained model's (evaluated before
// epoch 0) or the BPR term never moved (learning_check.hpp; a warning says what to try). Throws Diverged after writing a results.json with status "diverged".
nlohmann::json run_training(const config::RunConfig& config, const plugin::Registry& registry, const RunOptions& options);

}  // namespace recgrid::train
