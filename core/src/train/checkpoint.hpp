// Checkpoints of a run: model tensors, optimizer state and the early-stopping bookkeeping, written
// atomically so that a run killed at any moment can continue from the last one (--resume).
#pragma once

#include <ATen/core/Tensor.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "recgrid/tensor_list.hpp"

namespace torch::optim {
class Optimizer;
}

namespace recgrid::train {

// A run folder file that cannot be read back (truncated, foreign, another model's): the message says
// which file and what to do.
struct DamagedRunFile : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A checkpoint written inside an epoch (a stop signal): the epoch to continue, its next step, the
// loss sums of its steps so far, the seconds they took and the torch generator's state there.
struct MidEpoch {
  int64_t epoch = -1;  // -1: the checkpoint is between epochs
  int64_t next_step = 0;
  std::vector<std::pair<std::string, double>> term_sums;
  double total_sum = 0, train_s = 0;
  at::Tensor rng_state;  // undefined at step 0 (the epoch seeds the generator itself)
};

// Where the loop stands after an evaluated epoch (or, with `mid`, inside an epoch).
struct LoopState {
  int64_t epoch = -1;          // last finished epoch
  int64_t best_epoch = -1;
  double best_recall = -1.0;   // best validation Recall@20 so far
  int64_t bad_evals = 0;       // consecutive evaluations without improvement
  double elapsed_s = 0;        // wall time spent before this checkpoint (all sessions)
  std::string untrained;       // the untrained model's evaluation (JSON) until the first evaluated line holds it
  MidEpoch mid;
};

// Full checkpoint: tensors (parameters and buffers, by name), optimizer, loop state.
void save_checkpoint(const std::string& path, const NamedTensors& params, const NamedTensors& buffers,
                     torch::optim::Optimizer& optimizer, const LoopState& state);
LoopState load_checkpoint(const std::string& path, const NamedTensors& params, const NamedTensors& buffers,
                          torch::optim::Optimizer& optimizer);

// Model tensors only (the best snapshot).
void save_tensors(const std::string& path, const NamedTensors& params, const NamedTensors& buffers);
// Copies the saved values into the given tensors in place; every name must be present with its shape.
void load_tensors(const std::string& path, const NamedTensors& params, const NamedTensors& buffers);

}  // namespace recgrid::train
