// The results store of a grid folder:
//
//   OUT/grid.json             the cells of the grid (id, folder, axes), written when a grid starts
//   OUT/cells/<id>-<hash>/    one run folder per cell (config.yaml, log.txt, metrics.jsonl, ...)
//       record.json           the cell's result record, written once it finished
//   OUT/results.jsonl         one record per finished cell, in grid order
//
// record.json is the source of truth and is written atomically (temp file + rename), so a process
// killed at any moment leaves a cell either without a record or with a whole one. results.jsonl is
// rebuilt from the records (again atomically, under a lock shared by every process working on the
// folder), so it never holds a half line, a duplicate or a lost record.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace recgrid::grid {

// What a grid knows about a cell once its configuration is resolved.
struct CellInfo {
  std::string id;
  std::string hash;                 // of the resolved configuration, thread count excluded
  std::string dir;                  // OUT/cells/<id>-<hash>
  nlohmann::json axes;              // {"dataset": "amazon", "seed": "2023", ...}
  std::vector<std::string> axis_order;
  std::string resolved_yaml;        // what the cell's run folder holds as config.yaml
  std::vector<std::string> sets;    // more `--set`s for its run, of execution keys only (a trial's pause)
  nlohmann::json tuned;             // the values a search chose for its row (null: not tuned)
};

// The record of a finished cell: its identity, axes, resolved configuration (as JSON) and the run's
// results.json (metrics @5/10/20 on valid and test, best epoch, epochs, wall time, peak memory,
// versions of RecGrid and of each plugin, seed).
nlohmann::json make_record(const std::string& grid_name, const CellInfo& cell, const nlohmann::json& run_results);

bool has_record(const CellInfo& cell);

// Why a finished cell's record is not a result ("" for one that is): its divergence error, or the
// reasons it was flagged as never having learned. `recgrid status` and the report show this text.
std::string why_not_a_result(const nlohmann::json& record);
void write_record(const CellInfo& cell, const nlohmann::json& record);

// Rewrites OUT/results.jsonl from the records of `cells` that exist (grid order). Safe to call from
// several processes at once.
void rebuild_results(const std::string& out_dir, const std::vector<CellInfo>& cells);

// OUT/grid.json: {"name", "file", "cells": [{"id", "dir", "axes", "axis_order"}]}.
void write_grid_index(const std::string& out_dir, const std::string& name, const std::string& file,
                      const std::vector<CellInfo>& cells);

// The records in OUT/results.jsonl; throws naming file:line for a malformed line.
std::vector<nlohmann::json> read_results(const std::string& out_dir);

}  // namespace recgrid::grid
