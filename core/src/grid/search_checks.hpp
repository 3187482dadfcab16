// The checks of a grid's `search:` block against the rest of the grid and the command line, made when
// the grid is read (load_grid), before anything runs. Each is a configuration error naming the
// search key's file and line:
//   - a key both swept (grid.sweep) and searched: every trial would overwrite the sweep's value;
//   - a --set on a searched key: the search chooses its value above every layer, --set included;
//   - search.metric's K missing from a cell's train.topk: no validation would report that metric
//     (it was found only when the first rung was recorded).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "grid/grid_spec.hpp"

namespace recgrid::grid {

// `root` is the grid file's YAML; `sets` the command line's --set assignments. Throws
// config::ConfigError. Does nothing for a grid without a search.
void check_search_against_grid(const GridSpec& spec, const YAML::Node& root, const std::vector<std::string>& sets);

}  // namespace recgrid::grid
