// `recgrid bench`: what training costs at a size, without training to the end (bench/growth.sh).
// Builds the run as run_training does (the setup time includes loading and the graph), samples the
// first epoch, times `steps` training steps after `warmup` ones, and, with eval_users > 0, one
// validation pass over that many users. Writes no run folder.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

#include "config/run_config.hpp"
#include "plugin/loader.hpp"

namespace recgrid::train {

struct BenchOptions {
  int64_t steps = 20, warmup = 2, eval_users = 0;
};
nlohmann::json benchmark_training(const config::RunConfig& config, const plugin::Registry& registry,
                                  const BenchOptions& options);

}  // namespace recgrid::train
