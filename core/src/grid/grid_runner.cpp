#include "grid/grid_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "config/run_config.hpp"
#include "grid/cell_lock.hpp"
#include "grid/child_run_command.hpp"
#include "train/trainer.hpp"
#include "util/files.hpp"
#include "util/format.hpp"
#include "util/hash.hpp"
#include "util/signal_guard.hpp"
#include "util/status_line.hpp"

namespace recgrid::grid {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string stable_hash(const std::string& text) { return fnv1a64_hex(text); }

void parse_shard(const std::string& text, int& index, int& count) {
  const size_t slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("");
    size_t a = 0, b = 0;
    index = std::stoi(text.substr(0, slash), &a);
    count = std::stoi(text.substr(slash + 1), &b);
    if (a != slash || b != text.size() - slash - 1) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw std::invalid_argument("--shard " + text + ": expected I/N, e.g. --shard 0/4");
  }
  if (count < 1 || index < 0 || index >= count)
    throw std::invalid_argument("--shard " + text + ": needs 0 <= I < N");
}

bool takes_cell(const GridOptions& o, size_t index, const std::string& id) {
  return static_cast<int>(index % static_cast<size_t>(o.shard_count)) == o.shard_index && (o.only.empty() || o.only.count(id));
}

std::vector<CellInfo> prepare_cells(const GridSpec& spec, const plugin::Registry& registry, const std::string& out_dir) {
  std::vector<CellInfo> cells;
  for (const CellSpec& s : spec.cells) {
    config::Config cfg = s.config;
    config::resolve(cfg, registry.schema_lookup());  // a bad cell fails here, before anything runs
    CellInfo cell;
    cell.id = s.id;
    cell.resolved_yaml = cfg.dump();
    // The thread count says how a cell runs, not what it computes: it does not name the cell.
    cell.hash = stable_hash(config::without_execution_keys(cell.resolved_yaml)).substr(0, 10);
    cell.dir = (fs::path(out_dir) / "cells" / (cell.id + "-" + cell.hash)).string();
    cell.axes = nlohmann::json(s.axes);
    cell.axis_order = s.axis_order;
    cells.push_back(std::move(cell));
  }
  return cells;
}

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }
int g_guard_depth = 0;

// A cell running in a child process.
struct Running {
  const CellInfo* cell;
  std::unique_ptr<CellLock> lock;
  pid_t pid;
  Clock::time_point started;
};

// "epoch 12, R@20 0.1234" from the last line of the cell's metrics.jsonl.
std::string cell_progress(const CellInfo& cell) {
  const auto lines = read_lines(cell.dir + "/metrics.jsonl");
  if (lines.empty()) return "starting";
  try {
    const auto m = nlohmann::json::parse(lines.back());
    char buf[96];
    const double r = m.contains("valid") ? m["valid"].value("recall@20", 0.0) : 0.0;
    std::snprintf(buf, sizeof buf, "epoch %d, valid R@20 %.4f", m.value("epoch", 0), r);
    return buf;
  } catch (const std::exception&) {
    return "running";
  }
}

std::string tail_of(const std::string& path, size_t n_lines) {
  const auto lines = read_lines(path);
  std::string out;
  for (size_t k = lines.size() > n_lines ? lines.size() - n_lines : 0; k < lines.size(); ++k) out += lines[k] + "\n";
  return out;
}

// Forks `recgrid run CELL/cell.yaml --out CELL --resume` (cell_child_command); the child inherits the
// cell's lock and dies with this process (PR_SET_PDEATHSIG), so an orphan never keeps training a cell.
pid_t spawn_cell(const CellInfo& cell, const CellLock& lock, const GridOptions& o, int threads) {
  const ChildRunCommand command = cell_child_command(cell, o, threads);
  write_file_atomic(command.experiment, cell.resolved_yaml);
  std::vector<std::string> args = child_argv(command);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string output = cell.dir + "/output.txt";
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed for cell " + cell.id);
  if (pid == 0) {  // the child: only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::fcntl(lock.fd(), F_SETFD, 0);  // keep the cell's lock across exec
    ::execv(argv[0], argv.data());
    const char msg[] = "recgrid grid: exec of the runner failed\n";
    [[maybe_unused]] const ssize_t n = ::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  return pid;
}

// The event line of a cell that ran to its end: its test numbers, or why it is not a result.
std::string finished_message(const CellInfo& cell, const nlohmann::json& results, double seconds) {
  const std::string status = results.value("status", std::string("ok"));
  if (status == "diverged")
    return "  DIVERGED " + cell.id + " after " + format_duration(seconds) + ": " + results.value("error", std::string("?")) +
           "; recorded as diverged and not retried (delete " + cell.dir + " to run it again)";
  const auto& t = results["test"];
  char buf[160];
  std::snprintf(buf, sizeof buf, "test R@20 %.4f N@20 %.4f, best epoch %d", t.value("recall@20", 0.0),
                t.value("ndcg@20", 0.0), results.value("best_epoch", 0));
  std::string text = "  finished " + cell.id + " in " + format_duration(seconds) + ": " + buf;
  if (status == "no_learning") {
    text += "\n    NO LEARNING: this cell is flagged, not averaged:";
    for (const auto& reason : results["no_learning"]) text += " " + reason.get<std::string>() + ";";
  }
  return text;
}

// failed.json in the task's folder, with the end of its output; the FAILED event line.
std::string record_failure(const CellInfo& cell, const std::string& failure, GridSummary& summary) {
  const std::string output_tail = tail_of(cell.dir + "/output.txt", 5);
  write_file_atomic(cell.dir + "/failed.json",
                    nlohmann::json{{"cell", cell.id}, {"reason", failure}, {"output_tail", output_tail}}.dump(2) + "\n");
  summary.failed.push_back(cell.id + ": " + failure);
  return "  FAILED " + cell.id + ": " + failure + " (see " + cell.dir + "/output.txt)\n" + output_tail;
}

}  // namespace

std::string record_unfinished(const CellInfo& cell, int wstatus, GridSummary& summary) {
  // Stopped with the grid, or the cell's own run stopped by a signal (Slurm's time-limit warning):
  // its checkpoint is written, it resumes next time.
  if (g_stop_signal) return "";
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == train::kExitInterrupted) {
    summary.interrupted.push_back(cell.id);
    return "  INTERRUPTED " + cell.id + ": stopped by a signal, checkpointed; it resumes next time";
  }
  return record_failure(cell, WIFSIGNALED(wstatus) ? "killed by signal " + std::to_string(WTERMSIG(wstatus))
                                                   : "exit status " + std::to_string(WEXITSTATUS(wstatus)),
                        summary);
}

namespace {

// What one ended cell process left behind (recorded results, an interruption, or a failure with the
// end of its output), as the event line to show; "" when the grid itself is stopping.
std::string record_ended_cell(const std::string& grid_name, const std::string& out_dir, const std::vector<CellInfo>& cells,
                              const CellInfo& cell, int wstatus, double seconds, GridSummary& summary) {
  const bool ran_out = WIFEXITED(wstatus) && (WEXITSTATUS(wstatus) == 0 || WEXITSTATUS(wstatus) == train::kExitDiverged);
  if (!ran_out) return record_unfinished(cell, wstatus, summary);
  try {
    const auto results = nlohmann::json::parse(read_text(cell.dir + "/results.json"));
    write_record(cell, make_record(grid_name, cell, results));
    rebuild_results(out_dir, cells);
    if (results.value("status", std::string("ok")) == "diverged") summary.diverged.push_back(cell.id);
    else ++summary.finished_now;
    return finished_message(cell, results, seconds);
  } catch (const std::exception& e) {
    return record_failure(cell, std::string("its results could not be recorded: ") + e.what(), summary);
  }
}

// Runs a queue of tasks (cells, or a search's trials) `jobs` at a time in child processes and tells
// how it goes.
class Scheduler {
 public:
  Scheduler(const GridOptions& o, const TaskHooks& hooks, std::vector<const CellInfo*> queue, GridSummary& summary)
      : o_(o), hooks_(hooks), queue_(std::move(queue)), summary_(summary), status_(o.progress),
        mine_(static_cast<int>(queue_.size()) + summary.already_finished), jobs_(std::max(1, o.jobs)) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads_ = o.threads_per_cell > 0 ? o.threads_per_cell : std::max(1, cores / jobs_);
  }

  void announce(const std::string& title, size_t total) {
    const std::string shard = o_.shard_count > 1 ? ", shard " + std::to_string(o_.shard_index) + "/" +
                                                       std::to_string(o_.shard_count) + " takes " + std::to_string(mine_)
                                                 : "";
    status_.event(title + ": " + std::to_string(total) + " " + hooks_.noun + shard + "; " +
                  std::to_string(summary_.already_finished) + " already finished, " + std::to_string(queue_.size()) +
                  " to run, " + std::to_string(jobs_) + " at a time with " + std::to_string(threads_) +
                  " thread(s) each; in " + o_.out_dir);
  }

  // Until every cell ended or a signal came.
  void run() {
    auto last_heartbeat = Clock::now();
    while (next_ < queue_.size() || !running_.empty()) {
      if (g_stop_signal) break;
      start_cells();
      collect_ended_cells();
      const std::string line = progress_line();
      status_.draw(line.substr(0, 200));
      if (!o_.progress && Clock::now() - last_heartbeat > std::chrono::seconds(60)) {
        status_.event(line);
        last_heartbeat = Clock::now();
      }
      if (!running_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  // After a signal: the running cells get SIGTERM, finish their step and write their checkpoint
  // (they resume from it next time); those that did are listed as interrupted.
  void stop_running() {
    status_.event("grid: interrupted; stopping " + std::to_string(running_.size()) +
                  " running cell(s) (they resume from their last checkpoint next time)");
    for (const Running& r : running_) ::kill(r.pid, SIGTERM);
    for (const Running& r : running_) {
      int wstatus = 0;
      ::waitpid(r.pid, &wstatus, 0);
      if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == train::kExitInterrupted) summary_.interrupted.push_back(r.cell->id);
    }
    running_.clear();
  }

  void clear_status() { status_.clear(); }

 private:
  void start_cells() {
    while (static_cast<int>(running_.size()) < jobs_ && next_ < queue_.size()) {
      const CellInfo* cell = queue_[next_++];
      std::unique_ptr<CellLock> lock = CellLock::try_acquire(cell->dir);
      if (!lock) {
        ++summary_.held_elsewhere;
        status_.event("  " + cell->id + ": held by another process (" + CellLock::last_holder(cell->dir) + "), skipped");
        continue;
      }
      if (hooks_.done(*cell)) {  // another process finished it while we were getting here
        ++summary_.already_finished;
        continue;
      }
      const pid_t pid = spawn_cell(*cell, *lock, o_, threads_);
      running_.push_back({cell, std::move(lock), pid, Clock::now()});
      status_.event("  started " + cell->id + " (pid " + std::to_string(pid) + ")  [" + counts() + "]");
    }
  }

  void collect_ended_cells() {
    for (auto it = running_.begin(); it != running_.end();) {
      int wstatus = 0;
      if (::waitpid(it->pid, &wstatus, WNOHANG) != it->pid) {
        ++it;
        continue;
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - it->started).count();
      const std::string event = hooks_.ended(*it->cell, wstatus, seconds, summary_);
      if (!event.empty()) durations_.push_back(seconds);
      it = running_.erase(it);  // releases the lock
      if (!event.empty()) status_.event(event + "  [" + counts() + ", ETA " + eta() + "]");
    }
  }

  int done_count() const {
    return summary_.already_finished + summary_.finished_now + static_cast<int>(summary_.diverged.size());
  }

  std::string counts() const {
    const auto n = [](size_t k, const char* what) { return k ? ", " + std::to_string(k) + what : std::string(); };
    return std::to_string(done_count()) + "/" + std::to_string(mine_) + " done, " + std::to_string(running_.size()) +
           " running, " + std::to_string(queue_.size() - next_) + " left" + n(summary_.failed.size(), " failed") +
           n(summary_.diverged.size(), " diverged") +
           n(static_cast<size_t>(summary_.held_elsewhere), " held elsewhere");
  }

  // The mean duration of the cells that ended, times the cells left (a running one counts half).
  std::string eta() const {
    if (durations_.empty()) return "?";
    double mean = 0;
    for (double d : durations_) mean += d;
    mean /= static_cast<double>(durations_.size());
    const double left = static_cast<double>(queue_.size() - next_) + 0.5 * static_cast<double>(running_.size());
    return format_duration(mean * left / jobs_);
  }

  std::string progress_line() const {
    std::string line = "grid " + counts() + ", ETA " + eta();
    for (const Running& r : running_) line += " | " + r.cell->id + ": " + cell_progress(*r.cell);
    return line;
  }

  const GridOptions& o_;
  const TaskHooks& hooks_;
  std::vector<const CellInfo*> queue_;
  GridSummary& summary_;
  StatusLine status_;
  int mine_, jobs_, threads_ = 1;
  size_t next_ = 0;
  std::vector<Running> running_;
  std::vector<double> durations_;
};

}  // namespace

StopSignals::StopSignals() {
  if (g_guard_depth++ > 0) return;
  g_stop_signal = 0;
  guard_ = std::make_unique<SignalGuard>(std::initializer_list<int>{SIGINT, SIGTERM, SIGUSR1}, on_stop_signal);
}

StopSignals::~StopSignals() { --g_guard_depth; }

int stop_signal() { return g_stop_signal; }

GridSummary run_tasks(const std::string& title, size_t total, std::vector<const CellInfo*> queue, const GridOptions& o,
                      const TaskHooks& hooks) {
  GridSummary summary;
  for (auto it = queue.begin(); it != queue.end();) {
    if (hooks.done(**it)) {
      ++summary.already_finished;
      it = queue.erase(it);
    } else {
      ++it;
    }
  }
  Scheduler scheduler(o, hooks, std::move(queue), summary);
  scheduler.announce(title, total);
  {
    // SIGUSR1 is Slurm's warning before a time limit (docs/CLUSTER.md): the scheduler stops its cells.
    const StopSignals signals;
    scheduler.run();
    summary.stopped_by = g_stop_signal;
    if (summary.stopped_by) scheduler.stop_running();
  }
  scheduler.clear_status();
  return summary;
}

GridSummary run_grid(const GridSpec& spec, const std::vector<CellInfo>& cells, const GridOptions& o) {
  fs::create_directories(fs::path(o.out_dir) / "cells");
  // The index and the results always describe the whole grid, whatever part this process runs.
  write_grid_index(o.out_dir, spec.name, spec.file, cells);
  rebuild_results(o.out_dir, cells);  // picks up records a killed process wrote but did not list

  std::vector<const CellInfo*> mine;
  for (size_t k = 0; k < cells.size(); ++k)
    if (takes_cell(o, k, cells[k].id)) mine.push_back(&cells[k]);
  TaskHooks hooks;
  hooks.done = [](const CellInfo& c) { return has_record(c); };
  hooks.ended = [&](const CellInfo& c, int wstatus, double seconds, GridSummary& summary) {
    return record_ended_cell(spec.name, o.out_dir, cells, c, wstatus, seconds, summary);
  };
  const GridSummary summary = run_tasks("grid " + spec.name, cells.size(), std::move(mine), o, hooks);
  rebuild_results(o.out_dir, cells);
  return summary;
}

}  // namespace recgrid::grid
