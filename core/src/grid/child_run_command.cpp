#include "grid/child_run_command.hpp"

#include <stdexcept>
#include <utility>

namespace recgrid::grid {

namespace {

// A word of a command line, and how a bash script writes it.
struct Word {
  enum class Kind {
    kBare,   // an option name or a fixed word: written as is
    kValue,  // any text: single-quoted
    kShell,  // a bash expression: double-quoted, so that the task's shell expands it
  };
  Kind kind;
  std::string text;
  bool own_line = false;  // in a script: starts a continuation line (the long, repeated options)
};

class Words {
 public:
  void bare(const std::string& text) { words_.push_back({Word::Kind::kBare, text}); }
  void flag(const char* name, bool own_line = false) {
    words_.push_back({Word::Kind::kBare, std::string("--") + name, own_line});
  }
  void value(const std::string& text) { words_.push_back({Word::Kind::kValue, text}); }
  void value(const ArgValue& v) { words_.push_back({v.from_shell ? Word::Kind::kShell : Word::Kind::kValue, v.text}); }
  template <class V>
  void option(const char* name, const V& v, bool own_line = false) {
    flag(name, own_line);
    value(v);
  }
  const std::vector<Word>& words() const { return words_; }

 private:
  std::vector<Word> words_;
};

// --executor slurm and the options that give `o` back, dry_run aside.
void add_slurm_words(Words& w, const SlurmOptions& o) {
  w.flag(run_flag::kExecutor);
  w.bare(kSlurmExecutor);
  w.option(run_flag::kCpusPerCell, std::to_string(o.cpus_per_cell));
  w.option(run_flag::kMaxRunning, std::to_string(o.max_running));
  w.option(run_flag::kWarnBefore, std::to_string(o.warning_seconds));
  const std::pair<const char*, const std::string*> named[] = {{run_flag::kPartition, &o.partition},
                                                              {run_flag::kTime, &o.time_limit},
                                                              {run_flag::kAccount, &o.account},
                                                              {run_flag::kMemPerCell, &o.mem_per_cell}};
  for (const auto& [flag, value] : named)
    if (!value->empty()) w.option(flag, *value);
  // One word with '=': the value is itself an option (--qos=long), which the parser would otherwise
  // take for one of its own.
  for (const std::string& a : o.sbatch_args) w.value(std::string("--") + run_flag::kSbatchArg + "=" + a);
}

// The one place that turns a ChildRunCommand into words: both renderings below read it.
std::vector<Word> child_words(const ChildRunCommand& c) {
  Words w;
  w.value(c.recgrid_exe);
  w.bare("run");
  w.value(c.experiment);
  w.option(run_flag::kOut, c.out_dir);
  if (c.resume) w.flag(run_flag::kResume);
  if (c.slurm) add_slurm_words(w, *c.slurm);
  if (c.search_only) w.flag(run_flag::kSearchOnly);
  if (c.jobs) w.option(run_flag::kJobs, std::to_string(*c.jobs));
  if (c.threads_per_cell) w.option(run_flag::kThreadsPerCell, *c.threads_per_cell);
  if (c.no_progress) w.flag(run_flag::kNoProgress);
  for (const std::string& f : c.only) w.option(run_flag::kOnly, f);
  for (const ArgValue& id : c.cells) w.option(run_flag::kCell, id);
  if (c.shard) w.option(run_flag::kShard, *c.shard);
  for (const std::string& s : c.sets) w.option(run_flag::kSet, s, true);
  for (const std::string& d : c.plugin_dirs) w.option(run_flag::kPluginDir, d, true);
  return w.words();
}

// What every task of a Slurm job runs: the grid file in its folder, with the grid's --set and
// --plugin-dir options.
ChildRunCommand slurm_task_base(const TaskCommand& t) {
  ChildRunCommand c;
  c.recgrid_exe = t.recgrid_exe;
  c.experiment = t.grid_file;
  c.out_dir = t.out_dir;
  c.sets = t.sets;
  c.plugin_dirs = t.plugin_dirs;
  return c;
}

// A task's threads: the CPUs Slurm gave it, or as many as it was asked for.
ArgValue task_threads(const SlurmOptions& o) {
  return {"${SLURM_CPUS_PER_TASK:-" + std::to_string(o.cpus_per_cell) + "}", true};
}

}  // namespace

std::string shell_quoted(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::vector<std::string> child_argv(const ChildRunCommand& c) {
  std::vector<std::string> argv;
  for (const Word& w : child_words(c)) {
    if (w.kind == Word::Kind::kShell)
      throw std::logic_error("child_argv: " + w.text + " needs a shell to expand it; only a script can run this command");
    argv.push_back(w.text);
  }
  return argv;
}

std::string child_bash_line(const ChildRunCommand& c) {
  std::string line;
  for (const Word& w : child_words(c)) {
    if (!line.empty()) line += w.own_line ? " \\\n  " : " ";
    switch (w.kind) {
      case Word::Kind::kBare: line += w.text; break;
      case Word::Kind::kValue: line += shell_quoted(w.text); break;
      case Word::Kind::kShell: line += "\"" + w.text + "\""; break;
    }
  }
  return line;
}

ChildRunCommand cell_child_command(const CellInfo& cell, const GridOptions& o, int threads) {
  ChildRunCommand c;
  c.recgrid_exe = o.recgrid_exe;
  c.experiment = cell.dir + "/cell.yaml";
  c.out_dir = cell.dir;
  c.resume = true;
  c.no_progress = true;
  c.sets = {"train.threads=" + std::to_string(threads)};
  c.sets.insert(c.sets.end(), cell.sets.begin(), cell.sets.end());
  c.plugin_dirs = o.plugin_dirs;
  return c;
}

ChildRunCommand slurm_cell_task_command(const TaskCommand& t, const SlurmOptions& o, const ArgValue& cell) {
  ChildRunCommand c = slurm_task_base(t);
  c.cells = {cell};
  c.jobs = 1;
  c.threads_per_cell = task_threads(o);
  c.no_progress = true;
  return c;
}

ChildRunCommand slurm_search_task_command(const TaskCommand& t, const SlurmOptions& o, int n_tasks) {
  ChildRunCommand c = slurm_task_base(t);
  c.search_only = true;
  // The search's own shard splits its trials among the tasks; --only / --cell choose its rows.
  c.shard = ArgValue{"$SLURM_ARRAY_TASK_ID/" + std::to_string(n_tasks), true};
  c.jobs = 1;
  c.threads_per_cell = task_threads(o);
  c.no_progress = true;
  c.only = t.only;
  for (const std::string& id : t.cell_ids) c.cells.push_back({id});
  return c;
}

ChildRunCommand slurm_submit_cells_command(const TaskCommand& t, const SlurmOptions& o) {
  ChildRunCommand c = slurm_task_base(t);
  c.slurm = o;
  // The cells the submitting command selected, not the whole grid.
  c.only = t.only;
  for (const std::string& id : t.cell_ids) c.cells.push_back({id});
  if (!t.shard.empty()) c.shard = ArgValue{t.shard};
  return c;
}

}  // namespace recgrid::grid
