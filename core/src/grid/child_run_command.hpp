// The `recgrid run` command lines a grid starts: a cell's child process (grid_runner.cpp) and the
// commands of a Slurm task (slurm_executor.cpp). The names of the options are declared here, once: the
// runner defines `recgrid run`'s options from them (runner/run_options.cpp, runner/grid_commands.cpp),
// so a renamed option is renamed on both floors, and tests/test_child_run_command.cpp parses every
// command built here with the runner's own parser.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "grid/grid_runner.hpp"
#include "grid/slurm_executor.hpp"

namespace recgrid::grid {

// The long names of `recgrid run`'s options that a grid passes on to the commands it starts.
namespace run_flag {
inline constexpr char kOut[] = "out";
inline constexpr char kSet[] = "set";
inline constexpr char kResume[] = "resume";
inline constexpr char kNoProgress[] = "no-progress";
inline constexpr char kPluginDir[] = "plugin-dir";
inline constexpr char kShard[] = "shard";
inline constexpr char kJobs[] = "jobs";
inline constexpr char kThreadsPerCell[] = "threads-per-cell";
inline constexpr char kOnly[] = "only";
inline constexpr char kCell[] = "cell";
inline constexpr char kExecutor[] = "executor";
inline constexpr char kSearchOnly[] = "search-only";
// --executor slurm's resources (SlurmOptions).
inline constexpr char kPartition[] = "partition";
inline constexpr char kTime[] = "time";
inline constexpr char kCpusPerCell[] = "cpus-per-cell";
inline constexpr char kMemPerCell[] = "mem-per-cell";
inline constexpr char kAccount[] = "account";
inline constexpr char kMaxRunning[] = "max-running";
inline constexpr char kWarnBefore[] = "warn-before";
inline constexpr char kSbatchArg[] = "sbatch-arg";
}  // namespace run_flag

// The values --executor takes.
inline constexpr char kLocalExecutor[] = "local";
inline constexpr char kSlurmExecutor[] = "slurm";

// A value of a command line: as written, or (in a Slurm task's script) a bash expression that the
// task's shell expands when it starts, e.g. "$cell" or "${SLURM_CPUS_PER_TASK:-4}".
struct ArgValue {
  std::string text;
  bool from_shell = false;
};

// `RECGRID run EXPERIMENT --out OUT_DIR` and the options a grid adds; each optional part is left out
// of the command line when unset (the runner's default applies).
struct ChildRunCommand {
  std::string recgrid_exe;
  std::string experiment;                 // a cell's cell.yaml, or the grid file
  std::string out_dir;
  bool resume = false;                    // a cell's run: go on from its checkpoint
  std::optional<SlurmOptions> slurm;      // --executor slurm with these resources (dry_run aside)
  bool search_only = false;               // a grid's search: stop once every row has chosen
  std::optional<int> jobs;                // cells at once
  std::optional<ArgValue> threads_per_cell;
  bool no_progress = false;
  std::vector<std::string> only;          // --only AXIS=VALUE filters
  std::vector<ArgValue> cells;            // --cell ids
  std::optional<ArgValue> shard;          // I/N
  std::vector<std::string> sets;          // --set KEY=VALUE, in this order (a later one wins)
  std::vector<std::string> plugin_dirs;
};

// 'text' for bash, whatever it holds.
std::string shell_quoted(const std::string& text);

// The command as arguments for exec: the program, then its arguments. Throws std::logic_error when a
// value is a shell expression (only a script can carry those).
std::vector<std::string> child_argv(const ChildRunCommand& c);

// The command as a line of a bash script: values single-quoted (whatever they hold), shell
// expressions double-quoted, each --set and --plugin-dir on a continuation line of its own.
std::string child_bash_line(const ChildRunCommand& c);

// A cell's child process: its resolved configuration, resumed in its folder with `threads` threads.
ChildRunCommand cell_child_command(const CellInfo& cell, const GridOptions& o, int threads);

// A Slurm task of a cell array: `cell` (the script's variable holding the task's cell id) run through
// the grid runner with the task's CPUs as threads.
ChildRunCommand slurm_cell_task_command(const TaskCommand& t, const SlurmOptions& o, const ArgValue& cell);

// A Slurm task of a search's array: its part of the trials (shard = the task's index of n_tasks),
// with the submitting command's rows (--only, --cell).
ChildRunCommand slurm_search_task_command(const TaskCommand& t, const SlurmOptions& o, int n_tasks);

// What a search's task runs when the search has chosen: the tuned cells submitted as `o` says, with
// the submitting command's selection (--only, --cell, --shard).
ChildRunCommand slurm_submit_cells_command(const TaskCommand& t, const SlurmOptions& o);

}  // namespace recgrid::grid
