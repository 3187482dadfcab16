// A grid may list fitted base models (abi.h rg_fitted_model_api: the baselines) beside enhancer
// stacks; a fitted model takes no enhancer, so those pairs are not cells: only its base row runs.
#pragma once

#include <string>
#include <vector>

#include "grid/grid_spec.hpp"
#include "plugin/loader.hpp"

namespace recgrid::grid {

// Removes the cells that pair a fitted model with enhancers and returns one line per removed cell
// (what the grid says it did not run, and why). Throws config::ConfigError when no cell is left.
std::vector<std::string> drop_fitted_with_enhancers(GridSpec& spec, const plugin::Registry& registry);

}  // namespace recgrid::grid
