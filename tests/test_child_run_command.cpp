// Every `recgrid run` command a grid starts (grid/child_run_command.hpp: a cell's child process, a
// Slurm cell task, a Slurm search task and the submission a search task ends with), in each
// combination of its optional parts, parsed by the runner's own parser (runner/run_options.cpp): every
// option the command carries comes back with the command's value, and every one it leaves out keeps
// the runner's default. A Slurm task's line goes through bash first, with the task's variables set, as
// the task's script runs it; so its quoting is checked too.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "grid/child_run_command.hpp"
#include "run_options.hpp"
#include "util/subprocess.hpp"

namespace po = boost::program_options;
namespace flag = recgrid::grid::run_flag;
using recgrid::grid::ArgValue;
using recgrid::grid::ChildRunCommand;

namespace {

// The words bash passes on for `command_text`, run where a task's variables are set and where
// `show_args` prints its arguments (the test's stand-in for the runner).
std::vector<std::string> bash_words(const std::string& command_text) {
  const std::string prelude =
      "cell='cell-b s2'; SLURM_ARRAY_TASK_ID=1; SLURM_CPUS_PER_TASK=3; show_args() { printf '%s\\0' \"$@\"; }\n";
  const recgrid::CommandResult r = recgrid::run_command({"bash", "-c", prelude + command_text});
  EXPECT_EQ(r.exit_status, 0) << command_text << "\n" << r.errors;
  std::vector<std::string> words;
  for (size_t start = 0, end; (end = r.output.find('\0', start)) != std::string::npos; start = end + 1)
    words.push_back(r.output.substr(start, end - start));
  return words;
}

// What a value is when the runner gets it: as written, or as the task's shell expands it.
std::string expanded(const ArgValue& v) {
  if (!v.from_shell) return v.text;
  static std::map<std::string, std::string> seen;
  if (!seen.count(v.text)) {
    const std::vector<std::string> words = bash_words("show_args \"" + v.text + "\"");
    seen[v.text] = words.size() == 1 ? words[0] : "<not one word>";
  }
  return seen[v.text];
}

bool given(const po::variables_map& vm, const char* name) { return vm.count(name) && !vm[name].defaulted(); }

std::vector<std::string> strings(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

void expect_slurm_options(const po::variables_map& vm, const std::optional<recgrid::grid::SlurmOptions>& o) {
  EXPECT_EQ(vm[flag::kExecutor].as<std::string>(), o ? recgrid::grid::kSlurmExecutor : recgrid::grid::kLocalExecutor);
  if (!o) return;
  EXPECT_EQ(vm[flag::kPartition].as<std::string>(), o->partition);
  EXPECT_EQ(vm[flag::kTime].as<std::string>(), o->time_limit);
  EXPECT_EQ(vm[flag::kAccount].as<std::string>(), o->account);
  EXPECT_EQ(vm[flag::kMemPerCell].as<std::string>(), o->mem_per_cell);
  EXPECT_EQ(vm[flag::kCpusPerCell].as<int>(), o->cpus_per_cell);
  EXPECT_EQ(vm[flag::kMaxRunning].as<int>(), o->max_running);
  EXPECT_EQ(vm[flag::kWarnBefore].as<int>(), o->warning_seconds);
  EXPECT_EQ(strings(vm, flag::kSbatchArg), o->sbatch_args);
}

// Parses `argv` (the program, "run", then the arguments) as `recgrid run` does; checks it against `c`.
void expect_parsed_as(const std::vector<std::string>& argv, const ChildRunCommand& c) {
  ASSERT_GE(argv.size(), 2u);
  EXPECT_EQ(argv[0], c.recgrid_exe);
  ASSERT_EQ(argv[1], "run");
  const std::vector<std::string> args(argv.begin() + 2, argv.end());
  const std::optional<po::variables_map> parsed = recgrid::parse_with_config(args, recgrid::run_options());
  ASSERT_TRUE(parsed);
  const po::variables_map& vm = *parsed;
  EXPECT_EQ(vm["config"].as<std::string>(), c.experiment);
  EXPECT_EQ(vm[flag::kOut].as<std::string>(), c.out_dir);
  EXPECT_EQ(vm.count(flag::kResume) > 0, c.resume);
  EXPECT_EQ(vm.count(flag::kSearchOnly) > 0, c.search_only);
  EXPECT_EQ(vm.count(flag::kNoProgress) > 0, c.no_progress);
  EXPECT_EQ(given(vm, flag::kJobs), c.jobs.has_value());
  if (c.jobs) EXPECT_EQ(vm[flag::kJobs].as<int>(), *c.jobs);
  EXPECT_EQ(given(vm, flag::kThreadsPerCell), c.threads_per_cell.has_value());
  if (c.threads_per_cell) EXPECT_EQ(std::to_string(vm[flag::kThreadsPerCell].as<int>()), expanded(*c.threads_per_cell));
  EXPECT_EQ(given(vm, flag::kShard), c.shard.has_value());
  if (c.shard) EXPECT_EQ(vm[flag::kShard].as<std::string>(), expanded(*c.shard));
  EXPECT_EQ(strings(vm, flag::kOnly), c.only);
  std::vector<std::string> cells;
  for (const ArgValue& id : c.cells) cells.push_back(expanded(id));
  EXPECT_EQ(strings(vm, flag::kCell), cells);
  EXPECT_EQ(strings(vm, flag::kSet), c.sets);
  EXPECT_EQ(strings(vm, flag::kPluginDir), c.plugin_dirs);
  expect_slurm_options(vm, c.slurm);
}

// The command as its Slurm task's bash runs it: the words it passes on, the program's name first.
std::vector<std::string> as_run_by_bash(const ChildRunCommand& c) {
  std::vector<std::string> argv = {c.recgrid_exe};
  for (std::string& w : bash_words(recgrid::grid::child_bash_line(c))) argv.push_back(std::move(w));
  return argv;
}

// The optional parts a grid's commands take from the grid and the submitting command, each present
// when its bit of `parts` is set. Values hold spaces and quotes.
recgrid::grid::TaskCommand task_with(unsigned parts) {
  recgrid::grid::TaskCommand t;
  t.recgrid_exe = "show_args";
  t.grid_file = "/grids/it's a grid.yaml";
  t.out_dir = "/runs/the grid";
  if (parts & 1u) t.sets = {"train.epochs=3", "name=a b'c"};
  if (parts & 2u) t.plugin_dirs = {"/plugins/one", "/plugins/t w'o"};
  if (parts & 4u) t.only = {"enhancers=none", "seed=2023"};
  if (parts & 8u) t.cell_ids = {"cell-a s1", "cell-b"};
  if (parts & 16u) t.shard = "1/3";
  return t;
}

recgrid::grid::SlurmOptions slurm_with(bool everything) {
  recgrid::grid::SlurmOptions o;
  if (!everything) return o;
  o.partition = "gpu";
  o.time_limit = "2:00:00";
  o.account = "lab 'x'";
  o.mem_per_cell = "8G";
  o.cpus_per_cell = 4;
  o.max_running = 2;
  o.warning_seconds = 300;
  o.sbatch_args = {"--qos=long", "--constraint=a b"};
  return o;
}

}  // namespace

TEST(ChildRunCommand, EveryCellChildCommandParsesBackToItsValues) {
  for (unsigned parts = 0; parts < 4; ++parts) {
    recgrid::grid::CellInfo cell;
    cell.dir = "/runs/g/cells/it's-1234";
    if (parts & 1u) cell.sets = {"train.pause_after_epoch=2", "x=y z"};
    recgrid::grid::GridOptions o;
    o.recgrid_exe = "/opt/recgrid/bin/recgrid";
    if (parts & 2u) o.plugin_dirs = {"/plugins/one", "/plugins/t w'o"};
    const ChildRunCommand c = recgrid::grid::cell_child_command(cell, o, 7);
    SCOPED_TRACE("parts " + std::to_string(parts));
    EXPECT_TRUE(c.resume);
    EXPECT_EQ(c.sets.front(), "train.threads=7");  // first: a cell's own --set comes later and wins
    expect_parsed_as(recgrid::grid::child_argv(c), c);
  }
}

TEST(ChildRunCommand, EverySlurmTaskCommandParsesBackToItsValuesAfterBash) {
  for (unsigned parts = 0; parts < 32; ++parts) {
    for (const bool everything : {false, true}) {
      const recgrid::grid::TaskCommand t = task_with(parts);
      const recgrid::grid::SlurmOptions o = slurm_with(everything);
      SCOPED_TRACE("parts " + std::to_string(parts) + (everything ? ", every Slurm option" : ", default Slurm options"));
      const ChildRunCommand commands[] = {recgrid::grid::slurm_cell_task_command(t, o, {"$cell", true}),
                                          recgrid::grid::slurm_search_task_command(t, o, 3),
                                          recgrid::grid::slurm_submit_cells_command(t, o)};
      for (const ChildRunCommand& c : commands) expect_parsed_as(as_run_by_bash(c), c);
    }
  }
}

// The values the shell fills in are the task's: its cell, its CPUs, its part of the search.
TEST(ChildRunCommand, ASlurmTaskTakesItsCellCpusAndShardFromItsShell) {
  const recgrid::grid::TaskCommand t = task_with(0);
  const recgrid::grid::SlurmOptions o = slurm_with(true);
  const ChildRunCommand cell_task = recgrid::grid::slurm_cell_task_command(t, o, {"$cell", true});
  EXPECT_EQ(expanded(cell_task.cells.at(0)), "cell-b s2");
  EXPECT_EQ(expanded(*cell_task.threads_per_cell), "3");
  EXPECT_EQ(expanded(*recgrid::grid::slurm_search_task_command(t, o, 3).shard), "1/3");
  // Only a script can carry a shell expression: exec'ing it would pass "$cell" as a cell id.
  EXPECT_THROW(recgrid::grid::child_argv(cell_task), std::logic_error);
}
