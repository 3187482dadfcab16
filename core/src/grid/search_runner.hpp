// Runs a grid's search (search_spec.hpp) before its cells: every row (the cells that differ only by
// seed) gets the same trials and epochs; its best trial's values then become a layer of its cells, so
// reports, t-tests and the store work unchanged. docs/GRIDS.md, "Tuning".
//
// Everything is derived from files, so a search killed at any moment resumes where it stood and ends
// with what an uninterrupted one chooses:
//   OUT/search/<row>/trial-<k>-<hash>/   trial k's run folder (its own checkpoint.pt, metrics.jsonl)
//       rung-<E>.json                    written when the trial reached E epochs (or ended before)
//       converged.json                   epochs: auto, trial 0: its run to early stopping ended
//   OUT/search/<row>/search.json         the row's trials, rungs, budget spent, curve and choice
// A trial goes from one rung to the next by resuming its run (train.pause_after), never by starting
// over. Trials run like cells (`--jobs`, child processes, locks); shards share a rung's trials, and a
// process that finished its own takes those no one holds, then waits for the rest.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "grid/grid_runner.hpp"
#include "grid/grid_spec.hpp"
#include "plugin/loader.hpp"

namespace recgrid::grid {

struct SearchOutcome {
  bool complete = false;                         // every searched row has chosen
  std::map<std::string, nlohmann::json> chosen;  // row -> {key: value} of its best trial
  GridSummary summary;                           // the trials this process ran (failed, interrupted, stop)
};

// Searches the rows of the cells `options` takes (--only / --cell; all rows for shards). Returns when
// every row chose, or when a trial failed or a signal stopped the search (then complete = false).
SearchOutcome run_search(const GridSpec& spec, const plugin::Registry& registry, const GridOptions& options);

// Where the search stands, without running anything (each row's search.json is brought up to date).
SearchOutcome search_progress(const GridSpec& spec, const plugin::Registry& registry, const GridOptions& options);

// The grid's cells with each searched row's chosen values as a layer (above the grid file's layers,
// below --set), validated and named as prepare_cells names them; CellInfo::tuned holds the values.
std::vector<CellInfo> prepare_tuned_cells(const GridSpec& spec, const plugin::Registry& registry,
                                          const std::string& out_dir, const std::map<std::string, nlohmann::json>& chosen);

// The best metric among a run's validations before `epochs` epochs (metrics.jsonl), or -1 for none.
double best_metric_before(const std::string& metrics_path, const std::string& metric, int epochs);

// The same with where it was: the (first) epoch of the best, and the last validated epoch (-1: none).
struct ValidationsBefore {
  double best = -1;
  int best_epoch = -1;
  int last_epoch = -1;
};
ValidationsBefore validations_before(const std::string& metrics_path, const std::string& metric, int epochs);

}  // namespace recgrid::grid
