// One training run: data, graph, model stack, the epoch loop with early stopping, evaluation,
// checkpoints, and the run folder (config.yaml, log.txt, metrics.jsonl, checkpoint.pt, best.pt,
// results.json). ALGORITHMS.md §1.3-§1.5.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

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

// Runs to early stopping (or train.epochs) and returns the content of results.json.
nlohmann::json run_training(const config::RunConfig& config, const plugin::Registry& registry, const RunOptions& options);

}  // namespace recgrid::train
