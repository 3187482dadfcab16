#include "grid_commands.hpp"

#include <filesystem>
#include <iostream>
#include <set>

#include "command_line.hpp"
#include "grid/cell_pairs.hpp"
#include "grid/child_run_command.hpp"
#include "grid/fitted_cells.hpp"
#include "grid/grid_runner.hpp"
#include "grid/grid_status.hpp"
#include "grid/search_runner.hpp"
#include "grid/slurm_executor.hpp"
#include "train/progress.hpp"
#include "train/trainer.hpp"

namespace po = boost::program_options;
namespace flag = recgrid::grid::run_flag;
namespace fs = std::filesystem;

namespace recgrid {

namespace {

// --only filters and --cell ids, together: the cells this command takes (empty: all).
std::set<std::string> selected_cells(const grid::GridSpec& spec, const po::variables_map& vm) {
  std::set<std::string> chosen;
  if (vm.count(flag::kOnly)) chosen = grid::select_cells(spec, vm[flag::kOnly].as<std::vector<std::string>>());
  if (!vm.count(flag::kCell)) return chosen;
  std::set<std::string> ids;
  for (const std::string& id : vm[flag::kCell].as<std::vector<std::string>>()) {
    bool known = false;
    for (const grid::CellSpec& c : spec.cells) known = known || c.id == id;
    if (!known) throw std::invalid_argument("--cell " + id + ": the grid " + spec.name + " has no cell of that id (see its grid.json)");
    if (chosen.empty() || chosen.count(id)) ids.insert(id);
  }
  if (ids.empty()) throw std::invalid_argument("--cell and --only select no cell together");
  return ids;
}

int print_summary(const grid::GridSpec& spec, const grid::GridOptions& o, const grid::GridSummary& s) {
  std::cout << "grid " << spec.name << ": " << s.finished_now << " cell(s) finished now, " << s.already_finished
            << " earlier, " << s.held_elsewhere << " held by other processes, " << s.failed.size() << " failed, "
            << s.diverged.size() << " diverged, " << s.interrupted.size() << " interrupted; records in "
            << o.out_dir << "/results.jsonl (`recgrid report " << o.out_dir << "`)\n";
  for (const std::string& f : s.failed) std::cout << "  failed: " << f << "\n";
  for (const std::string& d : s.diverged) std::cout << "  diverged: " << d << " (not retried: delete its folder under cells/ to run it again)\n";
  for (const std::string& c : s.interrupted) std::cout << "  interrupted: " << c << " (run the grid again: it resumes from its checkpoint)\n";
  if (s.stopped_by) std::cout << "grid stopped by signal " << s.stopped_by << "\n";
  if (!s.failed.empty()) return 1;
  if (!s.interrupted.empty() || s.stopped_by) return train::kExitInterrupted;  // a scheduler wrapper requeues on it
  return s.diverged.empty() ? 0 : train::kExitDiverged;
}

// Runs the grid's search; the tuned cells, or an exit status when the search stopped before every row
// chose (a failed trial: 1; a signal or an interrupted trial: 4, so a job wrapper requeues).
std::vector<grid::CellInfo> search_then_cells(const grid::GridSpec& spec, const grid::GridOptions& o,
                                              const plugin::Registry& registry, int& exit_status) {
  const grid::SearchOutcome found = grid::run_search(spec, registry, o);
  if (!found.complete) {
    std::cout << "search " << spec.name << ": stopped before every row chose (" << found.summary.failed.size()
              << " failed, " << found.summary.interrupted.size() << " interrupted trial(s)); run the grid again to go on\n";
    for (const std::string& f : found.summary.failed) std::cout << "  failed: " << f << "\n";
    exit_status = found.summary.failed.empty() ? train::kExitInterrupted : 1;
    return {};
  }
  std::cout << "search " << spec.name << ": every row chose (" << o.out_dir << "/search/<row>/search.json):\n";
  for (const auto& [row, values] : found.chosen) std::cout << "  " << row << ": " << values.dump() << "\n";
  exit_status = 0;
  return grid::prepare_tuned_cells(spec, registry, o.out_dir, found.chosen);
}

int submit_search(const grid::GridSpec& spec, const grid::GridOptions& go, const std::vector<std::string>& sets,
                  const po::variables_map& vm);

// A grid with a search: the search first (here, or submitted to Slurm); `cells` becomes the tuned
// cells once every row has chosen. Returns an exit status to stop with, or -1 to go on with the cells.
int search_stage(const grid::GridSpec& spec, const grid::GridOptions& o, const plugin::Registry& registry,
                 const std::vector<std::string>& sets, const po::variables_map& vm, std::vector<grid::CellInfo>& cells) {
  // `recgrid status` and `cancel` work from the start (the tuned cells' folders come later).
  fs::create_directories(fs::path(o.out_dir) / "cells");
  grid::write_grid_index(o.out_dir, spec.name, spec.file, cells);
  if (vm[flag::kExecutor].as<std::string>() == grid::kSlurmExecutor) {
    if (vm.count(flag::kSearchOnly)) throw std::invalid_argument("--search-only runs the search here: use it without --executor slurm");
    const grid::SearchOutcome now = grid::search_progress(spec, registry, o);
    if (!now.complete) return submit_search(spec, o, sets, vm);
    cells = grid::prepare_tuned_cells(spec, registry, o.out_dir, now.chosen);
    return -1;
  }
  int status = 0;
  cells = search_then_cells(spec, o, registry, status);
  return status != 0 || vm.count(flag::kSearchOnly) ? status : -1;
}

grid::SlurmOptions slurm_options(const po::variables_map& vm) {
  grid::SlurmOptions o;
  o.partition = vm[flag::kPartition].as<std::string>();
  o.time_limit = vm[flag::kTime].as<std::string>();
  o.account = vm[flag::kAccount].as<std::string>();
  o.mem_per_cell = vm[flag::kMemPerCell].as<std::string>();
  o.cpus_per_cell = vm[flag::kCpusPerCell].as<int>();
  o.max_running = vm[flag::kMaxRunning].as<int>();
  o.warning_seconds = vm[flag::kWarnBefore].as<int>();
  if (vm.count(flag::kSbatchArg)) o.sbatch_args = vm[flag::kSbatchArg].as<std::vector<std::string>>();
  o.dry_run = vm.count("dry-run") > 0;
  if (o.cpus_per_cell < 1) throw std::invalid_argument("--cpus-per-cell must be at least 1");
  if (o.max_running < 0) throw std::invalid_argument("--max-running must be 0 (no limit) or a number of tasks");
  if (o.warning_seconds < 10) throw std::invalid_argument("--warn-before must be at least 10 seconds (a step and a checkpoint must fit)");
  return o;
}

// What every Slurm task of this grid runs (absolute paths: tasks start in another folder).
grid::TaskCommand task_command(const grid::GridSpec& spec, const grid::GridOptions& go, const std::vector<std::string>& sets) {
  grid::TaskCommand task;
  task.recgrid_exe = go.recgrid_exe;
  task.grid_file = fs::absolute(spec.file).string();
  task.out_dir = fs::absolute(go.out_dir).lexically_normal().string();
  task.sets = sets;
  for (const std::string& d : go.plugin_dirs) task.plugin_dirs.push_back(fs::absolute(d).string());
  return task;
}

// A search not finished yet goes to Slurm first, as tasks sharing its trials; they submit the cells.
int submit_search(const grid::GridSpec& spec, const grid::GridOptions& go, const std::vector<std::string>& sets,
                  const po::variables_map& vm) {
  const int n_tasks = vm["search-tasks"].as<int>();
  if (n_tasks < 1) throw std::invalid_argument("--search-tasks must be at least 1");
  const grid::SlurmOptions so = slurm_options(vm);
  grid::TaskCommand task = task_command(spec, go, sets);
  // The search's tasks carry this command's selection on: its rows, then its cells.
  if (vm.count(flag::kOnly)) task.only = vm[flag::kOnly].as<std::vector<std::string>>();
  if (vm.count(flag::kCell)) task.cell_ids = vm[flag::kCell].as<std::vector<std::string>>();
  if (go.shard_count > 1) task.shard = vm[flag::kShard].as<std::string>();
  const grid::SlurmSubmission sub = grid::submit_search_to_slurm(spec.name, n_tasks, task, so);
  if (sub.active > 0) {
    std::cout << "grid " << spec.name << ": its search is still queued or running on Slurm (" << sub.active
              << " task(s)); its tasks submit the tuned cells when it ends (`recgrid status " << go.out_dir << "`)\n";
    return 0;
  }
  if (so.dry_run) {
    std::cout << sub.script << "(dry run: written to " << sub.script_path << ", not submitted)\n";
    return 0;
  }
  std::cout << "grid " << spec.name << ": its search submitted as job " << sub.job_id << " (" << n_tasks
            << " tasks sharing the trials; the cells follow when every row has chosen): " << sub.script_path
            << "\nfollow it with `recgrid status " << go.out_dir << "`, stop it with `recgrid cancel " << go.out_dir << "`\n";
  return 0;
}

int submit_grid(const grid::GridSpec& spec, const std::vector<grid::CellInfo>& cells, const grid::GridOptions& go,
                const std::vector<std::string>& sets, const po::variables_map& vm) {
  std::vector<grid::CellInfo> mine;
  for (size_t k = 0; k < cells.size(); ++k)
    if (grid::takes_cell(go, k, cells[k].id)) mine.push_back(cells[k]);
  const grid::TaskCommand task = task_command(spec, go, sets);
  const grid::SlurmOptions so = slurm_options(vm);
  const grid::SlurmSubmission sub = grid::submit_to_slurm(spec.name, mine, task, so);
  std::cout << "grid " << spec.name << ": " << mine.size() << " cell(s) selected, " << sub.finished << " finished, "
            << sub.active << " already queued or running on Slurm, " << sub.cells.size() << " to submit\n";
  if (sub.cells.empty()) return 0;
  if (so.dry_run) {
    std::cout << sub.script << "(dry run: written to " << sub.script_path << ", not submitted; `sbatch "
              << sub.script_path << "` submits it)\n";
    return 0;
  }
  std::cout << "submitted job " << sub.job_id << " (" << sub.cells.size() << " tasks): " << sub.script_path
            << "\nfollow it with `recgrid status " << go.out_dir << "`, stop it with `recgrid cancel " << go.out_dir << "`\n";
  return 0;
}

}  // namespace

po::options_description grid_run_options() {
  po::options_description d("grid files");
  d.add_options()(
      flag::kShard, po::value<std::string>()->default_value("0/1"), "run the cells with index % N == I (I/N)")(
      with_letter(flag::kJobs, 'j').c_str(), po::value<int>()->default_value(1), "cells at once on this machine")(
      flag::kThreadsPerCell, po::value<int>()->default_value(0), "threads of each cell (0 = cores / jobs)")(
      flag::kOnly, po::value<std::vector<std::string>>()->composing(),
      "only the cells with AXIS=VALUE (repeatable; e.g. --only seed=2023 --only model=sgl)")(
      flag::kCell, po::value<std::vector<std::string>>()->composing(), "only the cell of this id (repeatable)")(
      flag::kExecutor, po::value<std::string>()->default_value(grid::kLocalExecutor),
      "local: run the cells here; slurm: submit them as a Slurm job array (docs/CLUSTER.md)")(
      flag::kSearchOnly, "a grid with a search: stop once every row has chosen (its cells are not run)")(
      "search-tasks", po::value<int>()->default_value(4),
      "--executor slurm, a grid with an unfinished search: Slurm tasks that share its trials");
  return d;
}

po::options_description slurm_run_options() {
  po::options_description d("--executor slurm");
  d.add_options()(
      flag::kPartition, po::value<std::string>()->default_value(""), "sbatch --partition (default: the cluster's)")(
      flag::kTime, po::value<std::string>()->default_value(""), "time limit per cell, as sbatch takes it (e.g. 4:00:00)")(
      flag::kCpusPerCell, po::value<int>()->default_value(1), "CPUs per cell (sbatch --cpus-per-task; its threads)")(
      flag::kMemPerCell, po::value<std::string>()->default_value(""), "memory per cell, as sbatch --mem takes it (e.g. 8G)")(
      flag::kAccount, po::value<std::string>()->default_value(""), "sbatch --account")(
      flag::kMaxRunning, po::value<int>()->default_value(0), "at most this many cells at once (the array's %N; 0 = no limit)")(
      flag::kWarnBefore, po::value<int>()->default_value(120),
      "seconds before the time limit at which a cell checkpoints and requeues itself")(
      flag::kSbatchArg, po::value<std::vector<std::string>>()->composing(),
      "another sbatch option, e.g. --sbatch-arg=--qos=long (repeatable)")(
      "dry-run", "write and print the sbatch script, submit nothing");
  return d;
}

// The cells a grid does not run because they pair a fitted model with enhancers: said, never silent.
static void report_dropped_cells(const grid::GridSpec& spec, const std::vector<std::string>& dropped) {
  if (dropped.empty()) return;
  std::cerr << "grid " << spec.name << ": " << dropped.size()
            << " cell(s) pair a fitted model with enhancers; only the fitted models' base rows run:\n";
  for (const std::string& line : dropped) std::cerr << "  " << line << "\n";
}

int run_grid_file(const std::string& file, const std::vector<std::string>& sets, const po::variables_map& vm,
                  const plugin::Registry& registry) {
  if (vm.count(flag::kResume) || vm.count("force"))
    throw std::invalid_argument("a grid always resumes; to start a cell over, delete its folder under OUT/cells/");
  const std::string executor = vm[flag::kExecutor].as<std::string>();
  if (executor != grid::kLocalExecutor && executor != grid::kSlurmExecutor)
    throw std::invalid_argument("--executor " + executor + ": expected local or slurm");
  grid::GridSpec spec = grid::load_grid(file, sets);
  report_dropped_cells(spec, grid::drop_fitted_with_enhancers(spec, registry));
  grid::check_cell_pairs(spec, registry);  // a pair that cannot train fails here, before any cell starts
  grid::GridOptions o;
  o.out_dir = vm.count(flag::kOut) ? vm[flag::kOut].as<std::string>() : "runs/" + spec.name;
  grid::parse_shard(vm[flag::kShard].as<std::string>(), o.shard_index, o.shard_count);
  o.only = selected_cells(spec, vm);
  o.jobs = vm[flag::kJobs].as<int>();
  if (o.jobs < 1) throw std::invalid_argument("--jobs must be at least 1");
  o.threads_per_cell = vm[flag::kThreadsPerCell].as<int>();
  if (o.threads_per_cell < 0) throw std::invalid_argument("--threads-per-cell must be 0 (cores / jobs) or a number of threads");
  o.recgrid_exe = fs::read_symlink("/proc/self/exe").string();
  if (vm.count(flag::kPluginDir)) o.plugin_dirs = vm[flag::kPluginDir].as<std::vector<std::string>>();
  o.progress = !vm.count(flag::kNoProgress) && train::stderr_is_tty();
  std::vector<grid::CellInfo> cells = grid::prepare_cells(spec, registry, o.out_dir);  // a bad cell fails here
  if (vm.count(flag::kSearchOnly) && !spec.search.enabled) throw std::invalid_argument("--search-only: " + file + " has no search: block");
  if (spec.search.enabled)
    if (const int status = search_stage(spec, o, registry, sets, vm, cells); status >= 0) return status;
  if (executor == grid::kSlurmExecutor) {
    fs::create_directories(fs::path(o.out_dir) / "cells");
    grid::write_grid_index(o.out_dir, spec.name, spec.file, cells);  // `recgrid status` works before a task starts
    return submit_grid(spec, cells, o, sets, vm);
  }
  if (vm.count("dry-run")) throw std::invalid_argument("--dry-run is for --executor slurm");
  return print_summary(spec, o, grid::run_grid(spec, cells, o));
}

int cmd_status(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0][0] == '-') throw std::invalid_argument("usage: recgrid status GRID_DIR");
  std::cout << grid::grid_status(args[0]);
  return 0;
}

int cmd_cancel(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0][0] == '-') throw std::invalid_argument("usage: recgrid cancel GRID_DIR");
  if (!fs::exists(args[0] + "/grid.json")) throw std::runtime_error(args[0] + "/grid.json: no such file (is " + args[0] + " a grid folder?)");
  const std::vector<std::string> tasks = grid::cancel_slurm_tasks(args[0]);
  if (tasks.empty()) {
    std::cout << args[0] << ": no queued or running Slurm task (a grid running here stops with Ctrl-C)\n";
    return 0;
  }
  std::cout << "cancelled " << tasks.size() << " Slurm task(s):";
  for (const std::string& t : tasks) std::cout << " " << t;
  std::cout << "\nrunning cells finish their step and write their checkpoint; `recgrid run` submits what is left again\n";
  return 0;
}

}  // namespace recgrid
