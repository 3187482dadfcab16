#include "grid/grid_status.hpp"

#include "grid/results_store.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "grid/cell_lock.hpp"
#include "grid/slurm_executor.hpp"
#include "util/files.hpp"
#include "util/format.hpp"

namespace recgrid::grid {

namespace fs = std::filesystem;

namespace {

std::string last_epoch(const std::string& cell_dir) {
  const auto lines = read_lines(cell_dir + "/metrics.jsonl");
  if (lines.empty()) return "starting";
  const auto m = nlohmann::json::parse(lines.back(), nullptr, false);
  if (m.is_discarded()) return "running";
  char buf[80];
  std::snprintf(buf, sizeof buf, "epoch %d, valid R@20 %.4f", m.value("epoch", 0),
                m.contains("valid") ? m["valid"].value("recall@20", 0.0) : 0.0);
  return buf;
}

// "  diverged ID: why" / "  no_learning ID: why" for a finished cell that is not a result, else "".
std::string flagged_line(const std::string& id, const nlohmann::json& record) {
  const std::string status = record.value("status", std::string("ok"));
  if (status == "ok") return "";
  return "  " + status + " " + id + ": " + why_not_a_result(record) + "\n";
}

// " [Slurm 12_3 PENDING (Priority)]" for a cell submitted to Slurm, else "".
std::string slurm_note(const std::map<std::string, SlurmTask>& tasks, const std::string& id) {
  const auto it = tasks.find(id);
  if (it == tasks.end()) return "";
  const SlurmTask& t = it->second;
  return " [Slurm " + t.task + " " + (t.state.empty() ? std::string("no longer listed") : t.state) +
         (t.reason.empty() ? "" : " (" + t.reason + ")") + "]";
}

// The line of a cell that is neither done nor running: failed, interrupted (a checkpoint to resume
// from), queued on Slurm, or "" for a cell not started yet.
std::string waiting_line(const std::string& dir, const std::string& id, const std::map<std::string, SlurmTask>& tasks) {
  const std::string note = slurm_note(tasks, id);
  if (fs::exists(dir + "/failed.json")) {
    const auto f = nlohmann::json::parse(read_text(dir + "/failed.json"));
    return "  failed  " + id + ": " + f.value("reason", std::string("?")) + " (" + dir + "/output.txt)" + note + "\n";
  }
  if (fs::exists(dir + "/checkpoint.pt")) return "  interrupted " + id + ": checkpointed at " + last_epoch(dir) + note + "\n";
  const auto it = tasks.find(id);
  if (it == tasks.end() || it->second.state.empty()) return "";
  // Slurm says running, the cell's lock is not taken yet: the task is starting.
  if (it->second.state == "RUNNING") return "  starting " + id + ":" + note + "\n";
  if (it->second.state == "UNKNOWN") return "  unknown " + id + ":" + note + "\n";  // squeue failed
  // Ended without a record (cancelled, failed, out of time): `recgrid run --executor slurm` submits it again.
  return std::string(slurm_task_active(it->second) ? "  queued  " : "  stopped ") + id + ":" + note + "\n";
}

// A searched row that has not chosen yet: how many trials reached each rung, and those running now.
std::string search_progress_line(const fs::path& row_dir, const nlohmann::json& summary) {
  std::string reached, running;
  for (const auto& e : summary["rungs"]) {
    int n = 0;
    for (const auto& trial : fs::directory_iterator(row_dir))
      n += trial.is_directory() && fs::exists(trial.path() / ("rung-" + e.dump() + ".json"));
    reached += (reached.empty() ? "" : ", ") + std::to_string(n) + " at " + e.dump() + " epochs";
  }
  for (const auto& trial : fs::directory_iterator(row_dir))
    if (trial.is_directory() && fs::exists(trial.path() / "lock") && !CellLock::try_acquire(trial.path().string()))
      running += "; running " + trial.path().filename().string() + " (" + last_epoch(trial.path().string()) + ")";
  if (summary["rungs"].empty()) reached = "measuring the horizon (epochs: auto: trial 0 of each row to early stopping)";
  return "  searching " + summary.value("row", row_dir.filename().string()) + ": " + reached + running + "\n";
}

// The search of a grid (OUT/search/<row>/search.json): each row's choice or progress, and the
// search's Slurm tasks.
std::string search_lines(const std::string& out_dir, const std::map<std::string, SlurmTask>& tasks) {
  const fs::path dir = fs::path(out_dir) / "search";
  if (!fs::exists(dir)) return "";
  std::vector<fs::path> rows;
  for (const auto& e : fs::directory_iterator(dir))
    if (fs::exists(e.path() / "search.json")) rows.push_back(e.path());
  std::sort(rows.begin(), rows.end());
  int chosen = 0;
  std::string lines;
  for (const fs::path& row : rows) {
    const auto s = nlohmann::json::parse(read_text((row / "search.json").string()));
    if (s["chosen"].is_null()) {
      lines += search_progress_line(row, s);
      continue;
    }
    ++chosen;
    char metric[96];
    std::snprintf(metric, sizeof metric, "%s %.4f, %d epochs spent", s.value("metric", std::string()).c_str(),
                  s["chosen"]["metric"].get<double>(), s.value("epochs_spent", 0));
    lines += "  chose   " + s.value("row", std::string()) + ": " + s["chosen"]["values"].dump() + " (" + metric + ")\n";
  }
  for (const auto& [id, t] : tasks)
    if (id.rfind("search/", 0) == 0 && slurm_task_active(t)) lines += "  search task" + slurm_note(tasks, id) + "\n";
  return "search: " + std::to_string(chosen) + " of " + std::to_string(rows.size()) + " rows chosen\n" + lines;
}

}  // namespace

std::string grid_status(const std::string& out_dir) {
  const std::string index_path = out_dir + "/grid.json";
  if (!fs::exists(index_path)) throw std::runtime_error(index_path + ": no such file (is " + out_dir + " a grid folder?)");
  const auto index = nlohmann::json::parse(read_text(index_path));
  const std::map<std::string, SlurmTask> tasks = slurm_tasks(out_dir);
  int done = 0, left = 0, flagged = 0;
  double done_seconds = 0;
  std::string details;
  std::vector<std::string> running;
  for (const auto& cell : index["cells"]) {
    const std::string dir = out_dir + "/cells/" + cell["dir"].get<std::string>();
    const std::string id = cell["id"];
    if (fs::exists(dir + "/record.json")) {
      ++done;
      const auto record = nlohmann::json::parse(read_text(dir + "/record.json"));
      done_seconds += record.value("wall_time_s", 0.0);
      details += flagged_line(id, record);
      flagged += record.value("status", std::string("ok")) != "ok";
      continue;
    }
    // A lock we cannot take is held by a live process: the cell is running.
    if (fs::exists(dir + "/lock") && !CellLock::try_acquire(dir)) {
      running.push_back(id);
      details += "  running " + id + ": " + last_epoch(dir) + " (" + CellLock::last_holder(dir) + ")" + slurm_note(tasks, id) + "\n";
      continue;
    }
    details += waiting_line(dir, id, tasks);
    ++left;
  }
  std::string eta = "?";
  if (done > 0 && !running.empty()) {
    const double per_cell = done_seconds / done;
    const double s = per_cell * (left + 0.5 * static_cast<double>(running.size())) / static_cast<double>(running.size());
    eta = format_duration(s);
  }
  return "grid " + index.value("name", std::string("?")) + ": " + std::to_string(done) + " done" +
         (flagged ? " (" + std::to_string(flagged) + " flagged: not results)" : "") + ", " +
         std::to_string(running.size()) + " running, " + std::to_string(left) + " left of " +
         std::to_string(index["cells"].size()) + " cells; ETA " + eta +
         (running.empty() ? "" : " at the current pace") + "\n" + details + search_lines(out_dir, tasks);
}

}  // namespace recgrid::grid
