// What the plugins' `auto` sample sizes (recgrid/sample_keys.hpp) become on a run's graph, for its log:
// one line per option left at auto, saying exact or sampled, so a run's log.txt tells which it trained.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "plugin/loader.hpp"

namespace recgrid::train {

// E.g. "enhancer.irllrec.translation_keys: auto -> exact (the graph has 6000 nodes, at most 32768)".
std::vector<std::string> auto_sample_key_lines(const config::RunConfig& config, const plugin::Registry& registry,
                                               int64_t n_nodes);

}  // namespace recgrid::train
