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
#include "train/trainer.hpp"
#include "util/files.hpp"
#include "util/format.hpp"
#include "util/hash.hpp"

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

std::vector<CellInfo> prepare_cells(const GridSpec& spec, const plugin::Registry& registry, const std::string& out_dir) {
  std::vector<CellInfo> cells;
  for (const CellSpec& s : spec.cells) {
    config::Config cfg = s.config;
    const YAML::Node resolved = config::validate(
        cfg, [&](const std::string& name, rg_plugin_kind kind) { return registry.options_of(name, kind); });
    config::to_run_config(resolved, [&](const std::string& key) { return cfg.origin(key).str(); });
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

// Forks `recgrid run CELL/cell.yaml --out CELL --resume`; the child inherits the cell's lock and
// dies with this process (PR_SET_PDEATHSIG), so an orphan never keeps training a cell.
pid_t spawn_cell(const CellInfo& cell, const CellLock& lock, const GridOptions& o, int threads) {
  write_file_atomic(cell.dir + "/cell.yaml", cell.resolved_yaml);
  std::vector<std::string> args = {o.recgrid_exe, "run", cell.dir + "/cell.yaml", "--out", cell.dir, "--resume",
                                   "--no-progress", "--set", "train.threads=" + std::to_string(threads)};
  for (const std::string& d : o.plugin_dirs) {
    args.push_back("--plugin-dir");
    args.push_back(d);
  }
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

class StatusLine {
 public:
  explicit StatusLine(bool tty) : tty_(tty) {}
  void event(const std::string& text) {
    clear();
    std::cerr << text << std::endl;
  }
  void draw(const std::string& text) {
    if (!tty_) return;
    std::cerr << "\r\033[K" << text.substr(0, 200) << std::flush;
    drawn_ = true;
  }
  void clear() {
    if (drawn_) std::cerr << "\r\033[K" << std::flush;
    drawn_ = false;
  }

 private:
  bool tty_;
  bool drawn_ = false;
};

}  // namespace

GridSummary run_grid(const GridSpec& spec, const std::vector<CellInfo>& cells, const GridOptions& o) {
  fs::create_directories(fs::path(o.out_dir) / "cells");
  // The index and the results always describe the whole grid, whatever part this process runs.
  write_grid_index(o.out_dir, spec.name, spec.file, cells);
  rebuild_results(o.out_dir, cells);  // picks up records a killed process wrote but did not list

  GridSummary summary;
  std::vector<const CellInfo*> queue;
  for (size_t k = 0; k < cells.size(); ++k) {
    if (static_cast<int>(k % o.shard_count) != o.shard_index) continue;
    if (!o.only.empty() && !o.only.count(cells[k].id)) continue;
    if (has_record(cells[k])) ++summary.already_finished;
    else queue.push_back(&cells[k]);
  }
  const int mine = static_cast<int>(queue.size()) + summary.already_finished;
  const int jobs = std::max(1, o.jobs);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = o.threads_per_cell > 0 ? o.threads_per_cell : std::max(1, cores / jobs);
  StatusLine status(o.progress);
  status.event("grid " + spec.name + ": " + std::to_string(cells.size()) + " cells" +
               (o.shard_count > 1 ? ", shard " + std::to_string(o.shard_index) + "/" + std::to_string(o.shard_count) +
                                        " takes " + std::to_string(mine)
                                  : "") +
               "; " + std::to_string(summary.already_finished) + " already finished, " + std::to_string(queue.size()) +
               " to run, " + std::to_string(jobs) + " at a time with " + std::to_string(threads) + " thread(s) each; in " +
               o.out_dir);

  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  struct sigaction old_int {}, old_term {};
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);

  std::vector<Running> running;
  std::vector<double> durations;
  size_t next = 0;
  auto done_count = [&] { return summary.already_finished + summary.finished_now + static_cast<int>(summary.diverged.size()); };
  auto eta = [&]() -> std::string {
    if (durations.empty()) return "?";
    double mean = 0;
    for (double d : durations) mean += d;
    mean /= static_cast<double>(durations.size());
    const double left = static_cast<double>(queue.size() - next) + 0.5 * static_cast<double>(running.size());
    return format_duration(mean * left / jobs);
  };
  auto counts = [&] {
    return std::to_string(done_count()) + "/" + std::to_string(mine) + " done, " + std::to_string(running.size()) +
           " running, " + std::to_string(queue.size() - next) + " left" +
           (summary.failed.empty() ? "" : ", " + std::to_string(summary.failed.size()) + " failed") +
           (summary.diverged.empty() ? "" : ", " + std::to_string(summary.diverged.size()) + " diverged") +
           (summary.held_elsewhere ? ", " + std::to_string(summary.held_elsewhere) + " held elsewhere" : "");
  };
  auto last_heartbeat = Clock::now();

  while ((next < queue.size() || !running.empty())) {
    if (g_stop_signal) break;
    // Start cells while there is room.
    while (static_cast<int>(running.size()) < jobs && next < queue.size()) {
      const CellInfo* cell = queue[next++];
      std::unique_ptr<CellLock> lock = CellLock::try_acquire(cell->dir);
      if (!lock) {
        ++summary.held_elsewhere;
        status.event("  " + cell->id + ": held by another process (" + CellLock::last_holder(cell->dir) + "), skipped");
        continue;
      }
      if (has_record(*cell)) {  // another process finished it while we were getting here
        ++summary.already_finished;
        continue;
      }
      const pid_t pid = spawn_cell(*cell, *lock, o, threads);
      running.push_back({cell, std::move(lock), pid, Clock::now()});
      status.event("  started " + cell->id + " (pid " + std::to_string(pid) + ")  [" + counts() + "]");
    }
    // Collect the cells that ended.
    for (auto it = running.begin(); it != running.end();) {
      int wstatus = 0;
      if (::waitpid(it->pid, &wstatus, WNOHANG) != it->pid) {
        ++it;
        continue;
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - it->started).count();
      const CellInfo& cell = *it->cell;
      std::string failure, message;
      const bool ran_out = WIFEXITED(wstatus) && (WEXITSTATUS(wstatus) == 0 || WEXITSTATUS(wstatus) == train::kExitDiverged);
      if (ran_out) {
        try {
          const auto results = nlohmann::json::parse(read_text(cell.dir + "/results.json"));
          write_record(cell, make_record(spec.name, cell, results));
          rebuild_results(o.out_dir, cells);
          durations.push_back(seconds);
          message = finished_message(cell, results, seconds);
          if (results.value("status", std::string("ok")) == "diverged") summary.diverged.push_back(cell.id);
          else ++summary.finished_now;
        } catch (const std::exception& e) {
          failure = std::string("its results could not be recorded: ") + e.what();
        }
      } else {
        failure = WIFSIGNALED(wstatus) ? "killed by signal " + std::to_string(WTERMSIG(wstatus))
                                       : "exit status " + std::to_string(WEXITSTATUS(wstatus));
      }
      if (!failure.empty() && g_stop_signal) {  // stopped with the grid: it resumes next time, nothing failed
        it = running.erase(it);
        continue;
      }
      if (!failure.empty()) {
        const std::string output_tail = tail_of(cell.dir + "/output.txt", 5);
        write_file_atomic(cell.dir + "/failed.json",
                          nlohmann::json{{"cell", cell.id}, {"reason", failure}, {"output_tail", output_tail}}.dump(2) + "\n");
        summary.failed.push_back(cell.id + ": " + failure);
        message = "  FAILED " + cell.id + ": " + failure + " (see " + cell.dir + "/output.txt)\n" + output_tail;
      }
      it = running.erase(it);  // releases the lock
      status.event(message + "  [" + counts() + ", ETA " + eta() + "]");
    }
    // Progress.
    std::string line = "grid " + counts() + ", ETA " + eta();
    for (const Running& r : running) line += " | " + r.cell->id + ": " + cell_progress(*r.cell);
    status.draw(line);
    if (!o.progress && Clock::now() - last_heartbeat > std::chrono::seconds(60)) {
      status.event(line);
      last_heartbeat = Clock::now();
    }
    if (!running.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  if (g_stop_signal) {
    status.event("grid: interrupted; stopping " + std::to_string(running.size()) +
                 " running cell(s) (they resume from their last checkpoint next time)");
    for (const Running& r : running) ::kill(r.pid, SIGTERM);
    for (const Running& r : running) ::waitpid(r.pid, nullptr, 0);
    running.clear();
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  rebuild_results(o.out_dir, cells);
  status.clear();
  if (g_stop_signal) throw std::runtime_error("interrupted by signal " + std::to_string(g_stop_signal));
  return summary;
}

}  // namespace recgrid::grid
