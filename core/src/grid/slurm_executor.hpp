// `recgrid run GRID --executor slurm`: the grid's unfinished cells as one Slurm job array, a task per
// cell, each task running its cell through the ordinary grid runner (`recgrid run GRID --cell ID`),
// so locks, checkpoints, records and reports work as on one machine. The sbatch script is kept in
// GRID_DIR/slurm/ (readable, re-submittable by hand); GRID_DIR/slurm/submissions.jsonl lists what
// was submitted, which `recgrid status` and `recgrid cancel` read. docs/CLUSTER.md.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "grid/grid_spec.hpp"
#include "grid/results_store.hpp"

namespace recgrid::grid {

// The job's resources, as sbatch takes them; empty strings are left to the cluster's defaults.
struct SlurmOptions {
  std::string partition, time_limit, account, mem_per_cell;
  int cpus_per_cell = 1;                 // --cpus-per-task; each cell trains with as many threads
  int max_running = 0;                   // the array throttle %N (0: none)
  int warning_seconds = 120;             // SIGUSR1 this long before the time limit: checkpoint + requeue
  std::vector<std::string> sbatch_args;  // more sbatch options, each written as an #SBATCH line
  bool dry_run = false;                  // write and print the script, submit nothing
};

// What every task runs: `RECGRID run GRID_FILE --out OUT_DIR --cell ID` with these extras.
struct TaskCommand {
  std::string recgrid_exe, grid_file, out_dir;  // absolute paths (tasks start in another folder)
  std::vector<std::string> sets;                // the grid's --set overrides
  std::vector<std::string> plugin_dirs;
  // The submitting command's selection, which a search's tasks carry on (cell tasks name their cell):
  // --only filters and --cell ids restrict the rows searched and the cells submitted after the search;
  // --shard I/N of the cells ("" for all) the cells submitted.
  std::vector<std::string> only, cell_ids;
  std::string shard;
};

// The sbatch script of an array whose task k runs cell_ids[k].
std::string array_script(const std::string& grid_name, const std::vector<std::string>& cell_ids,
                         const TaskCommand& task, const SlurmOptions& o);

struct SlurmSubmission {
  std::string script_path;
  std::string script;
  std::string job_id;               // "" for a dry run
  std::vector<std::string> cells;   // one per array task
  int finished = 0;                 // cells skipped: they have a record
  int active = 0;                   // cells skipped: an earlier task of theirs is queued or running
};

// Writes the script for the cells (of `cells`, the selected ones) that are neither finished nor
// queued or running from an earlier submission, submits it with sbatch (unless a dry run) and
// records the submission. Throws std::runtime_error with sbatch's message when it refuses.
SlurmSubmission submit_to_slurm(const std::string& grid_name, const std::vector<CellInfo>& cells,
                                const TaskCommand& task, const SlurmOptions& o);

// A grid's search (search_runner.hpp) as an array of `n_tasks` tasks sharing its trials, each running
// `recgrid run GRID --search-only --shard K/n_tasks` with the task's --only / --cell; the first task to
// find every row chosen submits the tuned cells with the same options and selection (`recgrid run
// GRID --executor slurm ...` with --only, --cell and the cells' --shard: the submission lock
// keeps the others from submitting them again). Nothing is submitted while a search task is queued or
// running (sub.active counts them). The ids in submissions.jsonl are "search/K".
SlurmSubmission submit_search_to_slurm(const std::string& grid_name, int n_tasks, const TaskCommand& task,
                                       const SlurmOptions& o);
std::string search_script(const std::string& grid_name, int n_tasks, const TaskCommand& task, const SlurmOptions& o);

// A cell's latest Slurm task: "12_3" and the state squeue reports (PENDING, RUNNING, ...; "" once
// Slurm has forgotten the job; UNKNOWN when squeue failed, its message as the reason), with squeue's
// reason.
struct SlurmTask {
  std::string task, state, reason;
};

// The latest task of each cell submitted from this grid folder (empty when none was).
std::map<std::string, SlurmTask> slurm_tasks(const std::string& out_dir);

// True for the states of a task that will still run: queued, running, requeued, suspended.
bool slurm_task_active(const SlurmTask& t);

// Cancels this grid's queued and running tasks (scancel: running cells get SIGTERM, finish their step
// and checkpoint within Slurm's KillWait) and waits (up to 150 s) until they have ended; returns the
// tasks cancelled ("12_3").
std::vector<std::string> cancel_slurm_tasks(const std::string& out_dir);

}  // namespace recgrid::grid
