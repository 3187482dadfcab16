// A grid file's `search:` block: tune every row of the grid (a dataset x model x enhancer stack x
// sweep setting, all seeds together) with the same budget before its seeds run. docs/GRIDS.md,
// "Tuning"; in short:
//
//   search:
//     method: halving             # random: every trial trains `epochs`; halving: successive halving
//     trials: 9                   # per row
//     epochs: 27                  # the most epochs one trial trains; or auto (below)
//     horizon_factor: 2           # epochs: auto: the last rung is this x trial 0's epochs to its best
//     min_epochs: 3               # halving: the first rung; each next rung is `reduction` times longer
//     reduction: 3                # halving: the best 1/reduction of a rung's trials go on to the next
//     metric: recall@20           # on validation (the test split never chooses anything)
//     seed: 1                     # the trials' values and their train.seed
//     include_configured: true    # trial 0: the row's own values (presets, grid file), not drawn
//     space:
//       train.reg_weight: {log_uniform: [1.0e-8, 1.0e-4]}
//       enhancer.irllrec.pair_temperature: {choice: [0.1, 0.2, 0.5]}
//       model.layers: {int: [1, 4]}
//       enhancer.rlmrec_con.kd_temperature: {uniform: [0.1, 1.0]}
//
// A key applies to the rows whose resolved configuration has it (an enhancer's options to the rows
// that stack it); a key no row has is an error. Trial k draws each key's value from (seed, key, k)
// alone, so every row that has a key tries the same values of it.
//
// `epochs: auto` puts the last rung where the rows converge: trial 0 of every row (its configured
// values) first trains to early stopping like a seed run; the horizon H is horizon_factor x the most
// epochs any row's trial 0 needed to its best validation (the same H for every row, so the budget
// stays equal), the rungs are min_epochs, min_epochs x reduction, ... up to H, and every trial trains
// under the rows' own early stopping, paused at the rungs.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace recgrid::grid {

struct SearchDimension {
  std::string key;   // dotted: enhancer.irllrec.pair_weight
  std::string kind;  // choice, uniform, log_uniform, int
  std::vector<std::string> choices;  // choice: the values as YAML text
  double low = 0, high = 0;          // uniform, log_uniform, int (inclusive)
  int line = 0;                      // in the grid file
};

struct SearchSpec {
  bool enabled = false;
  std::string method = "random";  // random | halving
  int trials = 8;
  int epochs = 0;       // the most one trial trains (required; with auto_epochs, 0 until the horizon is known)
  bool auto_epochs = false;     // epochs: auto
  double horizon_factor = 2.0;  // auto: H = horizon_factor x (trial 0's best epoch + 1), the most over the rows
  bool min_epochs_given = false;
  int min_epochs = 0;   // halving's first rung (0: epochs / reduction^2, at least 1)
  int reduction = 3;
  std::string metric = "recall@20";
  uint64_t seed = 1;
  bool include_configured = false;  // trial 0 takes the row's configured values instead of draws
  std::vector<SearchDimension> space;
  std::string file;
  int line = 0;  // of `search:`

  // auto: the block with its horizon set (epochs = H; min_epochs, unless given, H / reduction^2).
  SearchSpec with_horizon(int horizon) const;
  // auto: the horizon for the rows' trial-0 best epochs (0-based), the most of them.
  int horizon_for(int latest_best_epoch) const;

  // The epochs at which trials are compared, increasing, the last = epochs (random: just that one).
  std::vector<int> rungs() const;
  // How many trials train to rungs()[k]: all at k = 0, then the best 1/reduction of the previous.
  int trials_at_rung(size_t k) const;
  // Trial `trial`'s value of each dimension, as YAML text, in space order.
  std::vector<std::string> values_of(int trial) const;
  // "GRID:LINE" of a dimension (or of the block).
  std::string where(int at_line) const;
};

// Reads the `search:` node of a grid file; throws config::ConfigError naming file:line.
SearchSpec read_search(const YAML::Node& node, const std::string& file);

// A dimension's value for a uniform draw u in [0, 1), as YAML text (floats with 4 significant digits,
// so that reports and configurations read well).
std::string draw_value(const SearchDimension& d, double u);

}  // namespace recgrid::grid
