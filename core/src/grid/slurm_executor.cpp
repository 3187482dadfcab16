#include "grid/slurm_executor.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <thread>
#include <set>
#include <sstream>
#include <stdexcept>

#include "grid/child_run_command.hpp"
#include "util/files.hpp"
#include "util/format.hpp"
#include "util/subprocess.hpp"

namespace recgrid::grid {

namespace fs = std::filesystem;

namespace {

std::string slurm_dir(const std::string& out_dir) { return out_dir + "/slurm"; }
std::string submissions_path(const std::string& out_dir) { return slurm_dir(out_dir) + "/submissions.jsonl"; }

std::string sbatch_header(const std::string& grid_name, size_t n_tasks, const std::string& log_dir, const SlurmOptions& o) {
  std::ostringstream h;
  h << "#SBATCH --job-name=recgrid-" << grid_name << "\n";
  h << "#SBATCH --array=0-" << n_tasks - 1 << (o.max_running > 0 ? "%" + std::to_string(o.max_running) : "") << "\n";
  h << "#SBATCH --cpus-per-task=" << o.cpus_per_cell << "\n";
  if (!o.mem_per_cell.empty()) h << "#SBATCH --mem=" << o.mem_per_cell << "\n";
  if (!o.time_limit.empty()) h << "#SBATCH --time=" << o.time_limit << "\n";
  if (!o.partition.empty()) h << "#SBATCH --partition=" << o.partition << "\n";
  if (!o.account.empty()) h << "#SBATCH --account=" << o.account << "\n";
  h << "#SBATCH --output=" << log_dir << "/%A_%a.out\n";
  h << "#SBATCH --open-mode=append\n";  // a requeued task adds to its log
  h << "#SBATCH --requeue\n";           // preempted or requeued tasks run again and resume
  h << "#SBATCH --signal=B:USR1@" << o.warning_seconds << "\n";
  for (const std::string& a : o.sbatch_args) h << "#SBATCH " << a << "\n";
  return h.str();
}

// The task's body: run `command` in the background so that this shell can pass signals on; on the
// time-limit warning (USR1) it checkpoints, exits 4, and the task requeues itself. `what` names the
// task's work in its log; `then` runs after a success.
std::string task_body(const std::string& what, const std::string& command, const std::string& then) {
  std::ostringstream b;
  b << "echo \"recgrid: task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} runs " << what
    << " (restart ${SLURM_RESTART_COUNT:-0}) on $(hostname) at $(date -u +%FT%TZ)\"\n";
  b << command << " &\n"
       "pid=$!\n"
       "warned=0\n"
       "trap 'warned=1; kill -USR1 $pid 2>/dev/null' USR1  # the time-limit warning: checkpoint, then requeue\n"
       "trap 'kill -TERM $pid 2>/dev/null' TERM            # scancel or preemption: checkpoint and stop\n"
       "# A trapped signal ends `wait` early: wait until the process has gone, then take its own status\n"
       "# (bash keeps it for a second `wait`).\n"
       "wait $pid\n"
       "while kill -0 $pid 2>/dev/null; do wait $pid; done\n"
       "status=0\n"
       "wait $pid || status=$?\n"
       "if [ \"$status\" -eq 4 ] && [ \"$warned\" -eq 1 ]; then\n"
       "  echo \"recgrid: " << what << " checkpointed before the time limit; requeueing\"\n"
       "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n"
       "fi\n";
  if (!then.empty()) b << "if [ \"$status\" -eq 0 ]; then\n" << then << " || status=$?\nfi\n";
  b << "exit $status\n";
  return b.str();
}

// The body of a cell array: task k runs cell_ids[k] through the grid runner.
std::string cell_task_body(const std::vector<std::string>& cell_ids, const TaskCommand& t, const SlurmOptions& o) {
  std::ostringstream b;
  b << "cells=(";
  for (const std::string& id : cell_ids) b << "\n  " << shell_quoted(id);
  b << "\n)\ncell=${cells[$SLURM_ARRAY_TASK_ID]}\n";
  return b.str() + task_body("cell $cell", child_bash_line(slurm_cell_task_command(t, o, {"$cell", true})), "");
}

// A folder-wide lock on GRID_DIR/slurm/submit.lock for one submission: two processes submitting at
// once (the search's tasks, each submitting the tuned cells when it ends) never submit a cell twice.
class SubmitLock {
 public:
  explicit SubmitLock(const std::string& out_dir) {
    fs::create_directories(slurm_dir(out_dir));
    fd_ = ::open((slurm_dir(out_dir) + "/submit.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + slurm_dir(out_dir) + "/submit.lock");
  }
  ~SubmitLock() { ::close(fd_); }
  SubmitLock(const SubmitLock&) = delete;
  SubmitLock& operator=(const SubmitLock&) = delete;

 private:
  int fd_ = -1;
};

std::vector<nlohmann::json> read_submissions(const std::string& out_dir) {
  std::vector<nlohmann::json> subs;
  for (const std::string& line : read_lines(submissions_path(out_dir))) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) subs.push_back(j);  // a torn last line (a killed process) is skipped
  }
  return subs;
}

// "12" from sbatch --parsable's "12" or "12;cluster".
std::string submit_script(const std::string& path) {
  if (!on_path("sbatch"))
    throw std::runtime_error("sbatch is not on PATH: --executor slurm needs a machine that can submit Slurm jobs "
                             "(a login node; for a local test cluster see scripts/test-cluster.sh)");
  const CommandResult r = run_command({"sbatch", "--parsable", path});
  if (r.exit_status != 0)
    throw std::runtime_error("sbatch refused " + path + " (exit " + std::to_string(r.exit_status) + "): " + r.errors +
                             "edit the options (--partition, --time, --mem-per-cell, --sbatch-arg) and run again");
  const std::string id = r.output.substr(0, r.output.find_first_of(";\n"));
  if (id.empty()) throw std::runtime_error("sbatch printed no job id for " + path + ": " + r.output + r.errors);
  return id;
}

}  // namespace

std::string array_script(const std::string& grid_name, const std::vector<std::string>& cell_ids,
                         const TaskCommand& task, const SlurmOptions& o) {
  if (cell_ids.empty()) throw std::invalid_argument("array_script: no cells");
  return "#!/bin/bash\n"
         "# Written by `recgrid run --executor slurm` at " + utc_now() + ": grid " + grid_name + ", one array task per cell.\n"
         "# Submit again by hand with `sbatch " + slurm_dir(task.out_dir) + "/<this file>`: finished cells are skipped,\n"
         "# interrupted ones resume from their checkpoint (docs/CLUSTER.md).\n" +
         sbatch_header(grid_name, cell_ids.size(), slurm_dir(task.out_dir), o) + "\n" + cell_task_body(cell_ids, task, o);
}

namespace {

// The latest task of every id submitted from the folder; throws when squeue cannot tell, so that
// nothing is submitted twice.
std::map<std::string, SlurmTask> known_tasks(const std::string& out_dir) {
  const std::map<std::string, SlurmTask> earlier = slurm_tasks(out_dir);
  for (const auto& [cell, t] : earlier)
    if (t.state == "UNKNOWN")
      throw std::runtime_error("cannot ask Slurm which cells are still queued or running (" + t.reason +
                               "): nothing submitted, so that no cell is submitted twice; try again when squeue works");
  return earlier;
}

bool is_active(const std::map<std::string, SlurmTask>& tasks, const std::string& id) {
  const auto it = tasks.find(id);
  return it != tasks.end() && slurm_task_active(it->second);
}

// Writes sub.script as array-N.sh (the next free N: every script stays, a dry run's too), submits it
// unless a dry run, and records the submission.
void write_and_submit(SlurmSubmission& sub, const std::string& out_dir, bool dry_run) {
  fs::create_directories(slurm_dir(out_dir));
  for (int n = 1; sub.script_path.empty() || fs::exists(sub.script_path); ++n)
    sub.script_path = slurm_dir(out_dir) + "/array-" + std::to_string(n) + ".sh";
  write_file_atomic(sub.script_path, sub.script);
  ::chmod(sub.script_path.c_str(), 0755);
  if (dry_run) return;
  sub.job_id = submit_script(sub.script_path);
  append_line_whole(submissions_path(out_dir), nlohmann::json{{"job", sub.job_id}, {"script", sub.script_path},
                                                              {"cells", sub.cells}, {"submitted", utc_now()}}.dump() + "\n");
}

}  // namespace

SlurmSubmission submit_to_slurm(const std::string& grid_name, const std::vector<CellInfo>& cells,
                                const TaskCommand& task, const SlurmOptions& o) {
  const SubmitLock lock(task.out_dir);
  SlurmSubmission sub;
  const std::map<std::string, SlurmTask> earlier = known_tasks(task.out_dir);
  for (const CellInfo& cell : cells) {
    if (has_record(cell)) ++sub.finished;
    else if (is_active(earlier, cell.id)) ++sub.active;
    else sub.cells.push_back(cell.id);
  }
  if (sub.cells.empty()) return sub;
  sub.script = array_script(grid_name, sub.cells, task, o);
  write_and_submit(sub, task.out_dir, o.dry_run);
  return sub;
}

std::string search_script(const std::string& grid_name, int n_tasks, const TaskCommand& task, const SlurmOptions& o) {
  return "#!/bin/bash\n"
         "# Written by `recgrid run --executor slurm` at " + utc_now() + ": the search of grid " + grid_name + " as " +
         std::to_string(n_tasks) + " tasks\n# sharing its trials (docs/GRIDS.md, Tuning); the first task that finds "
         "every row chosen submits the tuned cells.\n" +
         sbatch_header(grid_name + "-search", static_cast<size_t>(n_tasks), slurm_dir(task.out_dir), o) + "\n" +
         task_body("part $SLURM_ARRAY_TASK_ID of the search", child_bash_line(slurm_search_task_command(task, o, n_tasks)),
                   child_bash_line(slurm_submit_cells_command(task, o)));
}

SlurmSubmission submit_search_to_slurm(const std::string& grid_name, int n_tasks, const TaskCommand& task,
                                       const SlurmOptions& o) {
  const SubmitLock lock(task.out_dir);
  SlurmSubmission sub;
  const std::map<std::string, SlurmTask> earlier = known_tasks(task.out_dir);
  for (const auto& [id, t] : earlier) sub.active += id.rfind("search/", 0) == 0 && slurm_task_active(t);
  if (sub.active > 0) return sub;  // the search is already on its way
  for (int k = 0; k < n_tasks; ++k) sub.cells.push_back("search/" + std::to_string(k));
  sub.script = search_script(grid_name, n_tasks, task, o);
  write_and_submit(sub, task.out_dir, o.dry_run);
  return sub;
}

std::map<std::string, SlurmTask> slurm_tasks(const std::string& out_dir) {
  std::map<std::string, SlurmTask> tasks;
  const std::vector<nlohmann::json> subs = read_submissions(out_dir);
  if (subs.empty()) return tasks;
  for (const auto& s : subs) {  // later submissions replace earlier ones
    const auto ids = s["cells"].get<std::vector<std::string>>();
    for (size_t k = 0; k < ids.size(); ++k) tasks[ids[k]] = {s["job"].get<std::string>() + "_" + std::to_string(k), "", ""};
  }
  // Slurm's view: every task it still knows (finished ones for MinJobAge), one line each.
  std::map<std::string, std::pair<std::string, std::string>> state_of;
  const CommandResult r = on_path("squeue")
                              ? run_command({"squeue", "--noheader", "--array", "--states=all", "--format=%i|%T|%r"})
                              : CommandResult{127, "", "squeue is not on PATH"};
  if (r.exit_status != 0) {  // Slurm unreachable: say so rather than guess
    for (auto& [cell, t] : tasks) t.state = "UNKNOWN", t.reason = r.errors.substr(0, r.errors.find('\n'));
    return tasks;
  }
  {
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      const size_t a = line.find('|'), b = line.rfind('|');
      if (a != std::string::npos && b > a) state_of[line.substr(0, a)] = {line.substr(a + 1, b - a - 1), line.substr(b + 1)};
    }
  }
  for (auto& [cell, t] : tasks) {
    auto it = state_of.find(t.task);
    // Tasks of an array that never started are listed under the array's own id ("12").
    if (it == state_of.end()) it = state_of.find(t.task.substr(0, t.task.find('_')));
    if (it == state_of.end()) continue;
    t.state = it->second.first;
    t.reason = it->second.second == "None" ? "" : it->second.second;
  }
  return tasks;
}

bool slurm_task_active(const SlurmTask& t) {
  static const std::set<std::string> active = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED",
                                               "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SUSPENDED", "STOPPED",
                                               "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD"};
  return active.count(t.state) > 0;
}

namespace {

bool any_active(const std::string& out_dir) {
  for (const auto& [cell, t] : slurm_tasks(out_dir))
    if (slurm_task_active(t)) return true;
  return false;
}

}  // namespace

std::vector<std::string> cancel_slurm_tasks(const std::string& out_dir) {
  std::set<std::string> jobs;
  for (const auto& [cell, t] : slurm_tasks(out_dir))
    if (slurm_task_active(t)) jobs.insert(t.task);
  if (jobs.empty()) return {};
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), jobs.begin(), jobs.end());
  const CommandResult r = run_command(argv);
  if (r.exit_status != 0) throw std::runtime_error("scancel failed (exit " + std::to_string(r.exit_status) + "): " + r.errors);
  // Until they have ended: a running cell first finishes its step and writes its checkpoint (within
  // Slurm's KillWait), and a submission made before then would find the cell still held.
  for (int waited = 0; waited < 300 && any_active(out_dir); ++waited) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return {jobs.begin(), jobs.end()};
}

}  // namespace recgrid::grid
