// Runs the cells of a grid: skips finished cells, resumes interrupted ones from their checkpoint,
// runs `jobs` cells at once, each as a child `recgrid run` process holding the cell's lock, and keeps
// the results store (results_store.hpp) up to date. docs/GRIDS.md.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "grid/grid_spec.hpp"
#include "grid/results_store.hpp"
#include "plugin/loader.hpp"
#include "util/signal_guard.hpp"

namespace recgrid::grid {

struct GridOptions {
  std::string out_dir;                   // the grid folder
  int shard_index = 0, shard_count = 1;  // this process takes the cells with index % count == index
  std::set<std::string> only;            // and of those only these ids (--only); empty = all
  int jobs = 1;                          // cells at once
  int threads_per_cell = 0;              // 0: the cores divided by jobs
  std::string recgrid_exe;               // the runner binary the cells run with (`recgrid run`)
  std::vector<std::string> plugin_dirs;  // passed on to the cells
  bool progress = false;                 // redraw a status line (a terminal); otherwise a line per event
};

// True when this process takes the cell at `index` of the grid: its shard, and --only / --cell.
bool takes_cell(const GridOptions& options, size_t index, const std::string& id);

// Validates every cell against the host schema and the plugins' options (a bad cell fails before
// anything runs) and names its folder by id and configuration hash.
std::vector<CellInfo> prepare_cells(const GridSpec& spec, const plugin::Registry& registry, const std::string& out_dir);

struct GridSummary {
  int finished_now = 0;      // cells this process ran to the end
  int already_finished = 0;  // cells of this shard that had a record when it started
  int held_elsewhere = 0;    // cells another process was running
  std::vector<std::string> failed;  // "cell: reason"
  std::vector<std::string> diverged;  // cells recorded as diverged (never retried blindly)
  std::vector<std::string> interrupted;  // cells whose run a signal stopped (checkpointed; resumed next time)
  int stopped_by = 0;  // the signal that stopped the grid itself (SIGINT, SIGTERM, SIGUSR1), else 0
};

// While one is alive, SIGINT, SIGTERM and SIGUSR1 (Slurm's time-limit warning) do not end the process
// but set the grid's stop flag, which stop_signal() reads; nested guards share it, and the outermost
// clears it when it starts.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  std::unique_ptr<SignalGuard> guard_;
};
int stop_signal();  // the signal that asked the grid to stop, or 0

// How run_tasks treats its tasks: when one has nothing left to run, and what an ended one left behind
// (recorded, interrupted or failed: the summary updated and the event line to show; "" for none).
struct TaskHooks {
  std::string noun = "cells";
  std::function<bool(const CellInfo&)> done;
  std::function<std::string(const CellInfo&, int wstatus, double seconds, GridSummary&)> ended;
};

// Runs `queue` (run folders, each with its resolved configuration) `jobs` at a time, each as a child
// `recgrid run` process holding the folder's lock, as run_grid runs cells; `title` heads the first
// line. A stop signal stops them at the end of their step and returns (summary.stopped_by).
GridSummary run_tasks(const std::string& title, size_t total, std::vector<const CellInfo*> queue,
                      const GridOptions& options, const TaskHooks& hooks);

// What a task's process left when it neither finished nor paused: "" when the grid itself is stopping,
// an INTERRUPTED line (it resumes next time), or a FAILED line (failed.json in its folder).
std::string record_unfinished(const CellInfo& task, int wstatus, GridSummary& summary);

// Runs this shard's cells; returns what happened. A stop signal (SIGINT, SIGTERM, SIGUSR1) stops the
// cells it runs at the end of their step (they resume from their checkpoint next time) and returns.
GridSummary run_grid(const GridSpec& spec, const std::vector<CellInfo>& cells, const GridOptions& options);

// Parses "i/n" (0 <= i < n); throws std::invalid_argument.
void parse_shard(const std::string& text, int& index, int& count);

// 64-bit FNV-1a, as 16 hex digits: a stable hash (the same on every machine and build).
std::string stable_hash(const std::string& text);

}  // namespace recgrid::grid
