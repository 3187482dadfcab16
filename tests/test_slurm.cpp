// Grids on a real Slurm: `recgrid run GRID --executor slurm` on the local single-node test cluster
// (scripts/test-cluster.sh, which CI starts). Without a cluster these tests skip, unless
// RECGRID_REQUIRE_SLURM=1 (CI) makes that a failure.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "doc_replay.hpp"
#include "search_grid.hpp"
#include "test_support.hpp"
#include "util/subprocess.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool cluster_up() { return recgrid::on_path("sinfo") && recgrid::run_command({"sinfo", "--noheader"}).exit_status == 0; }

#define REQUIRE_CLUSTER()                                                                                       \
  do {                                                                                                          \
    if (cluster_up()) break;                                                                                    \
    const char* need = std::getenv("RECGRID_REQUIRE_SLURM");                                                    \
    if (need && std::string(need) == "1") FAIL() << "no Slurm cluster answers (SLURM_CONF=" << (std::getenv("SLURM_CONF") ? std::getenv("SLURM_CONF") : "") << ")"; \
    GTEST_SKIP() << "no Slurm cluster: `bash scripts/test-cluster.sh start` and export the SLURM_CONF it prints"; \
  } while (0)

std::string fresh_dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/slurm_" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<json> records(const std::string& out) {
  std::vector<json> r;
  std::ifstream f(out + "/results.jsonl");
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) r.push_back(json::parse(line));
  return r;
}

std::string status_of(const std::string& out) { return recgrid::test::run_cli("status " + out).output; }

// Polls `done` every 0.5 s for up to `seconds`; every status seen on the way is added to `seen`.
bool wait_for(const std::string& out, int seconds, const std::function<bool(const std::string&)>& done,
              std::string& seen) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    const std::string s = status_of(out);
    seen += s;
    if (done(s)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return false;
}

// Polls `done` every 0.2 s for up to `seconds` (for conditions on files: no status call between).
bool wait_until(int seconds, const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The array task of the grid's only submission that runs `cell`, e.g. "12_1".
std::string task_of(const std::string& out, const std::string& cell) {
  std::string task;
  std::ifstream f(out + "/slurm/submissions.jsonl");
  for (std::string line; std::getline(f, line);) {
    const json s = json::parse(line);
    const auto cells = s["cells"].get<std::vector<std::string>>();
    for (size_t k = 0; k < cells.size(); ++k)
      if (cells[k] == cell) task = s["job"].get<std::string>() + "_" + std::to_string(k);
  }
  return task;
}

// The metrics.jsonl lines of the one cell folder under OUT/cells.
size_t epochs_done(const std::string& out) {
  if (!fs::exists(out + "/cells")) return 0;
  for (const auto& e : fs::directory_iterator(out + "/cells")) {
    std::ifstream f(e.path() / "metrics.jsonl");
    size_t n = 0;
    for (std::string line; std::getline(f, line);) n += !line.empty();
    return n;
  }
  return 0;
}

const char* const kSmallGrid = R"(grid:
  name: slurm-test
  datasets: [planted]
  models: [lightgcn, simgcl]
  enhancers: [none, irllrec]
  seeds: [1]
dataset:
  synthetic: {users: 300, items: 250, interactions_per_user: 8}
train: {epochs: 6, test_step: 1, batch_size: 256, patience: 100}
)";

// One cell long enough to be stopped part way, twice (~0.3 s an epoch on one thread; with 14 epochs
// a loaded CI machine once finished the cell before the second stop came).
const char* const kLongCell = R"(grid:
  name: slurm-preempt
  datasets: [planted]
  models: [lightgcn]
  seeds: [7]
dataset:
  synthetic: {users: 3000, items: 2000, interactions_per_user: 20}
train: {epochs: 40, test_step: 1, batch_size: 512, patience: 100}
)";

}  // namespace

// A 2-base x 2-stack grid as one array, cancelled part way with `recgrid cancel` and submitted again:
// every cell ends with exactly one record, and status showed Slurm's states on the way.
TEST(Slurm, AGridCancelledPartWayAndSubmittedAgainEndsWithEveryRecordOnce) {
  REQUIRE_CLUSTER();
  const std::string dir = fresh_dir("grid"), out = dir + "/out", grid = dir + "/grid.yaml";
  std::ofstream(grid) << kSmallGrid;
  // One task at a time (%1), so some are still queued when the cancel comes.
  auto r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm --max-running 1");
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_TRUE(has(r.output, "4 to submit")) << r.output;
  const std::string script = slurp(out + "/slurm/array-1.sh");
  EXPECT_TRUE(has(script, "#SBATCH --array=0-3%1")) << script;
  std::string seen;
  // Some done, not all: on a loaded machine two cells once finished between two polls ("0 done" then
  // "2 done"), so waiting for exactly "1 done" missed its moment.
  auto some_done = [](const std::string& s) { return has(s, "1 done") || has(s, "2 done") || has(s, "3 done"); };
  ASSERT_TRUE(wait_for(out, 120, some_done, seen)) << seen;
  EXPECT_TRUE(has(seen, "PENDING")) << seen;
  r = recgrid::test::run_cli("cancel " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "cancelled")) << r.output;
  const std::string after_cancel = status_of(out);  // cancel waits until the tasks have ended
  for (const char* state : {"PENDING", "RUNNING", "COMPLETING"}) EXPECT_FALSE(has(after_cancel, state)) << after_cancel;
  EXPECT_TRUE(has(after_cancel, "CANCELLED")) << after_cancel;
  EXPECT_LT(records(out).size(), 4u) << after_cancel;

  r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm");
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_TRUE(wait_for(out, 180, [](const std::string& s) { return has(s, "4 done, 0 running, 0 left of 4 cells"); }, seen))
      << seen;
  std::multiset<std::string> ids;
  for (const json& rec : records(out)) ids.insert(rec["cell"].get<std::string>());
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 4u) << "a cell was recorded twice";
  r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm");
  EXPECT_TRUE(has(r.output, "4 finished, 0 already queued or running on Slurm, 0 to submit")) << r.output;
}

// A cell warned before its time limit (USR1 to the batch shell, as --signal=B:USR1@T sends) checkpoints
// and requeues itself; later cancelled with SIGTERM and requeued by hand (`scontrol requeue`), it
// resumes again; its numbers equal those of the same cell run here without interruption.
TEST(Slurm, ATaskStoppedTwiceAndRequeuedResumesWithTheNumbersOfAnUninterruptedRun) {
  REQUIRE_CLUSTER();
  const std::string dir = fresh_dir("preempt"), out = dir + "/out", grid = dir + "/grid.yaml";
  std::ofstream(grid) << kLongCell;
  const std::string cell = "planted-lightgcn-s7";
  auto r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string task = task_of(out, cell);
  ASSERT_FALSE(task.empty());
  std::string seen;
  ASSERT_TRUE(wait_until(120, [&] { return epochs_done(out) >= 2; }));
  // The time-limit warning: the task checkpoints, exits 4 and requeues itself.
  ASSERT_EQ(recgrid::run_command({"scancel", "--batch", "--signal=USR1", task}).exit_status, 0);
  ASSERT_TRUE(wait_for(out, 60, [&](const std::string& s) { return has(s, "interrupted " + cell); }, seen)) << seen;
  const size_t at_first_stop = epochs_done(out);
  ASSERT_TRUE(wait_until(120, [&] { return epochs_done(out) >= at_first_stop + 1; })) << status_of(out);
  // Cancelled by a TERM to the batch shell: checkpointed, not requeued until we ask.
  ASSERT_EQ(recgrid::run_command({"scancel", "--batch", "--signal=TERM", task}).exit_status, 0);
  ASSERT_TRUE(wait_for(out, 60, [&](const std::string& s) { return has(s, "interrupted " + cell) && !has(s, "RUNNING"); }, seen))
      << seen;
  EXPECT_TRUE(records(out).empty()) << seen;
  ASSERT_EQ(recgrid::run_command({"scontrol", "requeue", task}).exit_status, 0);
  ASSERT_TRUE(wait_for(out, 180, [](const std::string& s) { return has(s, "1 done, 0 running, 0 left of 1 cells"); }, seen))
      << seen;
  const std::string task_log = slurp(out + "/slurm/" + task + ".out");
  EXPECT_TRUE(has(task_log, "requeueing")) << task_log;
  EXPECT_TRUE(has(task_log, "(restart 2)")) << task_log;
  const auto recs = records(out);
  ASSERT_EQ(recs.size(), 1u);
  const std::string run_log = slurp(out + "/cells/" + recs[0]["folder"].get<std::string>() + "/log.txt");
  EXPECT_GE(std::count(run_log.begin(), run_log.end(), '\n'), 1);
  EXPECT_TRUE(has(run_log, "resumed")) << run_log;

  // The same cell, uninterrupted, on this machine.
  const std::string ref = dir + "/ref";
  r = recgrid::test::run_cli("run " + grid + " --out " + ref + " --threads-per-cell 1 --no-progress");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto ref_recs = records(ref);
  ASSERT_EQ(ref_recs.size(), 1u);
  EXPECT_EQ(recs[0]["test"], ref_recs[0]["test"]);
  EXPECT_EQ(recs[0]["valid"], ref_recs[0]["valid"]);
  EXPECT_EQ(recs[0]["best_epoch"], ref_recs[0]["best_epoch"]);
}

// Without sbatch on the PATH, --executor slurm says what is missing instead of failing obscurely;
// --dry-run writes the script with the options given, and submits nothing.
TEST(Slurm, DryRunWritesTheScriptAndAMissingSbatchIsNamed) {
  const std::string dir = fresh_dir("dry"), out = dir + "/out", grid = dir + "/grid.yaml";
  std::ofstream(grid) << kSmallGrid;
  auto r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm --dry-run --partition gpu "
                                  "--time 2:00:00 --cpus-per-cell 4 --mem-per-cell 8G --account lab --max-running 2 "
                                  "--sbatch-arg=--qos=long --set train.epochs=3");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* line : {"#SBATCH --array=0-3%2", "#SBATCH --partition=gpu", "#SBATCH --time=2:00:00",
                           "#SBATCH --cpus-per-task=4", "#SBATCH --mem=8G", "#SBATCH --account=lab",
                           "#SBATCH --qos=long", "#SBATCH --requeue", "#SBATCH --signal=B:USR1@120",
                           "--set 'train.epochs=3'", "'planted-simgcl-irllrec-s1'"})
    EXPECT_TRUE(has(r.output, line)) << line << "\n" << r.output;
  EXPECT_TRUE(fs::exists(out + "/slurm/array-1.sh"));
  EXPECT_FALSE(fs::exists(out + "/slurm/submissions.jsonl"));
  // The script is valid bash.
  EXPECT_EQ(recgrid::run_command({"bash", "-n", out + "/slurm/array-1.sh"}).exit_status, 0);

  r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm", "PATH=/nonexistent");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(has(r.output, "sbatch is not on PATH")) << r.output;
  // A grid submitted earlier whose tasks Slurm cannot be asked about: status says so, and nothing is
  // submitted again (a cell could be queued twice).
  std::ofstream(out + "/slurm/submissions.jsonl") << R"({"job":"99","cells":["planted-lightgcn-none-s1"],"script":"x"})" << "\n";
  r = recgrid::test::run_cli("status " + out, "PATH=/nonexistent");
  EXPECT_TRUE(has(r.output, "unknown planted-lightgcn-none-s1: [Slurm 99_0 UNKNOWN (squeue is not on PATH)]")) << r.output;
  r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm", "PATH=/nonexistent");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(has(r.output, "cannot ask Slurm which cells are still queued or running")) << r.output;
  r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurmx");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(has(r.output, "expected local or slurm")) << r.output;
  r = recgrid::test::run_cli("run " + grid + " --out " + out + " --cell nosuch");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(has(r.output, "no cell of that id")) << r.output;
}

// docs/CLUSTER.md, replayed: its grid file and its commands run as written on the test cluster, in
// a folder of their own; the grid ends with every cell recorded once and the report written.
TEST(Slurm, TheClusterPageRunsAsWritten) {
  REQUIRE_CLUSTER();
  const recgrid::test::Walkthrough w = recgrid::test::read_walkthrough(recgrid::test::source_dir() + "/docs/CLUSTER.md");
  ASSERT_EQ(w.files.count("cluster-grid.yaml"), 1u);
  ASSERT_EQ(w.steps.size(), 4u);
  const std::string dir = fresh_dir("page");
  std::ofstream(dir + "/cluster-grid.yaml") << w.files.at("cluster-grid.yaml");
  for (const std::string& step : w.steps) ASSERT_NO_FATAL_FAILURE(recgrid::test::run_block(dir, step));
  EXPECT_TRUE(has(slurp(dir + "/block.out"), "no queued or running Slurm task")) << slurp(dir + "/block.out");
  const std::string out = dir + "/runs/cluster-demo";
  EXPECT_TRUE(fs::exists(out + "/slurm/array-1.sh"));  // the dry run's script
  EXPECT_TRUE(fs::exists(out + "/slurm/array-2.sh"));  // the submitted one
  EXPECT_TRUE(fs::exists(out + "/report.md"));
  std::set<std::string> ids;
  for (const json& rec : records(out)) EXPECT_TRUE(ids.insert(rec["cell"].get<std::string>()).second);
  EXPECT_EQ(ids.size(), 4u);
}

// A grid with a search, submitted to Slurm: two tasks share the trials, the first to see every row
// chosen submits the tuned cells (once: the others find them queued), and the records and choices
// equal those of the same grid run here.
TEST(Slurm, ASearchGridRunsItsSearchAsTasksThatThenSubmitTheTunedCells) {
  REQUIRE_CLUSTER();
  const std::string dir = fresh_dir("search"), out = dir + "/out", grid = dir + "/grid.yaml";
  std::ofstream(grid) << recgrid::test::kSearchGrid;
  auto r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm --search-tasks 2");
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_TRUE(has(r.output, "its search submitted as job")) << r.output;
  r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm --search-tasks 2");
  EXPECT_TRUE(has(r.output, "its search is still queued or running")) << r.output;
  std::string seen;
  ASSERT_TRUE(wait_for(out, 300, [](const std::string& s) { return has(s, "4 done, 0 running, 0 left of 4 cells"); }, seen))
      << seen << slurp(out + "/slurm/submissions.jsonl");
  EXPECT_TRUE(has(seen, "searching planted-lightgcn-")) << seen;
  EXPECT_TRUE(has(status_of(out), "search: 2 of 2 rows chosen")) << status_of(out);
  std::vector<std::string> submissions;
  {
    std::ifstream f(out + "/slurm/submissions.jsonl");
    for (std::string line; std::getline(f, line);) submissions.push_back(line);
  }
  ASSERT_EQ(submissions.size(), 2u) << "the search, then the cells once";
  EXPECT_EQ(json::parse(submissions[1])["cells"].size(), 4u);

  const std::string local = dir + "/local";
  r = recgrid::test::run_cli("run " + grid + " --out " + local + " --jobs 2 --threads-per-cell 1 --no-progress");
  ASSERT_EQ(r.code, 0) << r.output;
  auto by_cell = [](const std::string& o) {
    std::map<std::string, json> m;
    for (const json& rec : records(o)) m[rec["folder"].get<std::string>()] = {rec["test"], rec["best_epoch"], rec["tuned"]};
    return m;
  };
  EXPECT_EQ(by_cell(out), by_cell(local));
  for (const char* row : {"planted-lightgcn-none", "planted-lightgcn-rlmrec_con"}) {
    const std::string path = std::string("/search/") + row + "/search.json";
    EXPECT_EQ(json::parse(slurp(out + path))["chosen"], json::parse(slurp(local + path))["chosen"]) << row;
  }
}

namespace {

size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

// A search grid submitted with --only, --cell and --shard: the search's tasks carry --only and --cell
// (their rows), and the command they end with, which submits the tuned cells, carries all three (the
// cells'); before, both commands carried none, so the whole grid was searched and submitted. A dry run:
// no cluster needed.
TEST(Slurm, ASearchScriptCarriesTheSelectionToTheSearchAndTheCells) {
  const std::string dir = fresh_dir("search_selection"), out = dir + "/out", grid = dir + "/grid.yaml";
  std::ofstream(grid) << recgrid::test::kSearchGrid;
  const auto r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm --dry-run --search-tasks 2 "
                                        "--only enhancers=none --cell planted-lightgcn-none-s2 --shard 1/2");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(count_of(r.output, "--only 'enhancers=none'"), 2u) << r.output;
  EXPECT_EQ(count_of(r.output, "--cell 'planted-lightgcn-none-s2'"), 2u) << r.output;
  EXPECT_EQ(count_of(r.output, "--shard '1/2'"), 1u) << r.output;
  // The search's line: its own shard of the trials, then the selection.
  EXPECT_TRUE(has(r.output, "--no-progress --only 'enhancers=none' --cell 'planted-lightgcn-none-s2'")) << r.output;
  EXPECT_TRUE(has(r.output, "--warn-before '120' --only 'enhancers=none' --cell 'planted-lightgcn-none-s2' --shard '1/2'"))
      << r.output;
  EXPECT_EQ(recgrid::run_command({"bash", "-n", out + "/slurm/array-1.sh"}).exit_status, 0);
}

// The same on the cluster: `--only enhancers=none` searches that row only and then submits its two
// cells only (the other row is neither searched nor run).
TEST(Slurm, ASearchGridSubmittedWithOnlySearchesAndRunsTheSelectedRowsOnly) {
  REQUIRE_CLUSTER();
  const std::string dir = fresh_dir("search_only"), out = dir + "/out", grid = dir + "/grid.yaml";
  std::ofstream(grid) << recgrid::test::kSearchGrid;
  const auto r = recgrid::test::run_cli("run " + grid + " --out " + out + " --executor slurm --search-tasks 2 --only enhancers=none");
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_TRUE(has(r.output, "its search submitted as job")) << r.output;
  std::string seen;
  ASSERT_TRUE(wait_for(out, 300, [&](const std::string& s) { return records(out).size() >= 2 && has(s, " 0 running"); }, seen))
      << seen << slurp(out + "/slurm/submissions.jsonl");
  std::vector<json> submissions;
  {
    std::ifstream f(out + "/slurm/submissions.jsonl");
    for (std::string line; std::getline(f, line);) submissions.push_back(json::parse(line));
  }
  ASSERT_EQ(submissions.size(), 2u) << "the search, then the selected cells once";
  EXPECT_EQ(submissions[1]["cells"], json({"planted-lightgcn-none-s1", "planted-lightgcn-none-s2"}));
  std::set<std::string> recorded;
  for (const json& rec : records(out)) recorded.insert(rec["cell"].get<std::string>());
  EXPECT_EQ(recorded, (std::set<std::string>{"planted-lightgcn-none-s1", "planted-lightgcn-none-s2"}));
  size_t other_trials = 0;
  if (fs::exists(out + "/search/planted-lightgcn-rlmrec_con"))
    for (const auto& e : fs::directory_iterator(out + "/search/planted-lightgcn-rlmrec_con"))
      other_trials += e.is_directory();
  EXPECT_EQ(other_trials, 0u) << "the row --only left out was searched";
}
