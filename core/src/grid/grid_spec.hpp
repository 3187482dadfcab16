// A grid file: experiments over axes (datasets x base models x enhancer stacks x seeds x option
// sweeps), expanded into cells. docs/GRIDS.md describes the format; in short:
//
//   grid:
//     name: demo                      # the default output folder is runs/<name>
//     datasets: [amazon, yelp]        # configs/datasets/NAME.yaml
//     models: [lightgcn, sgl]         # configs/models/NAME.yaml (+ its for_dataset block)
//     enhancers: [none, rlmrec_con, [rlmrec_con, irllrec]]   # presets; a list is a stack
//     seeds: [2023, 2024, 2025]       # train.seed
//     sweep: {train.lr: [1.0e-3, 5.0e-4]}                    # any dotted key
//     exclude: [{model: sgl, enhancers: irllrec}]            # cells matching all given axes
//     overrides:                                             # settings for matching cells only
//       - when: {dataset: movie, model: [sgl, simgcl]}
//         set: {train: {batch_size: 2048}}
//   train: {epochs: 50}               # any other top-level key: a layer applied to every cell
//   search: {...}                     # optional: tune each row first (search_spec.hpp)
//
// A cell's layers, lowest first: built-in defaults < dataset < model < enhancer presets < the grid
// file's common keys < matching overrides < sweep values < seed < --set.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "grid/search_spec.hpp"

namespace recgrid::grid {

// One point of the grid before validation.
struct CellSpec {
  std::string id;                           // readable: amazon-lightgcn-irllrec-s2023[-lr=0.0005]
  std::string row;                          // the id without the seed: the cells a search tunes together
  std::map<std::string, std::string> axes;  // dataset, model, enhancers, seed and each sweep key
  std::vector<std::string> axis_order;      // the axes' names in display order
  config::Config config;                    // the layered configuration (not yet validated)
};

struct GridSpec {
  std::string name;
  std::string file;
  std::vector<CellSpec> cells;  // in a fixed order: datasets, models, enhancers, sweeps, seeds
  SearchSpec search;            // the file's `search:` block (enabled = false without one)
};

// Reads and expands a grid file; throws config::ConfigError naming file:line for a bad grid.
GridSpec load_grid(const std::string& path, const std::vector<std::string>& sets);

// The ids of the cells whose axes match every AXIS=VALUE filter (several values of one axis: any of
// them). Throws std::invalid_argument for an axis the grid lacks or a filter that matches no cell.
std::set<std::string> select_cells(const GridSpec& spec, const std::vector<std::string>& filters);

// True when the YAML file has a top-level `grid:` key (`recgrid run` then runs a grid).
bool is_grid_file(const std::string& path);

}  // namespace recgrid::grid
