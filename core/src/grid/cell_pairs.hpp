// A grid's base model x enhancer pairs, checked against the plugins' encoding declarations
// (plugin/encoding_pairs.hpp) when the grid is read: a pair that cannot train fails before any cell starts.
#pragma once

#include "grid/grid_spec.hpp"
#include "plugin/loader.hpp"

namespace recgrid::grid {

// Resolves every cell and checks its pairs; throws config::ConfigError naming the grid file, the first
// cell of each failing pair, the pair and the missing tensor (every failing pair, once each).
// Run after grid::drop_fitted_with_enhancers (a fitted model takes no enhancer at all).
void check_cell_pairs(const GridSpec& spec, const plugin::Registry& registry);

}  // namespace recgrid::grid
