// Whole grids through the `recgrid` executable: a grid killed with SIGKILL part way and rerun, two
// shards (and a third, overlapping process) sharing one folder, and the report, checked in headless
// Chromium.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "grid/cell_lock.hpp"
#include "report/stats.hpp"
#include "report_folders.hpp"
#include "process_support.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// 2 base models x 3 enhancer stacks x 2 seeds on a tiny planted dataset: 12 cells of ~1 s.
const char* const kGrid = R"(grid:
  name: cli-test
  datasets: [planted]
  models: [lightgcn, simgcl]
  enhancers: [none, rlmrec_con, irllrec]
  seeds: [1, 2]
dataset:
  synthetic: {users: 300, items: 250, interactions_per_user: 8}
train: {epochs: 8, test_step: 1, batch_size: 256, patience: 100}
)";

std::string write_grid_file(const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name + ".yaml";
  std::ofstream(path) << kGrid;
  return path;
}

std::string fresh_dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/gridcli_" + name;
  fs::remove_all(d);
  return d;
}

using recgrid::test::wait_exit;

using recgrid::test::start_recgrid;
using recgrid::read_text_for_test;

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::vector<fs::path> cell_dirs(const std::string& out) {
  std::vector<fs::path> dirs;
  if (fs::exists(out + "/cells"))
    for (const auto& e : fs::directory_iterator(out + "/cells")) dirs.push_back(e.path());
  return dirs;
}

std::vector<json> results_lines(const std::string& out) {
  std::vector<json> lines;
  std::ifstream f(out + "/results.jsonl");
  for (std::string line; std::getline(f, line);) lines.push_back(json::parse(line));  // throws on a half line
  return lines;
}

// Every cell finished exactly once: 12 records, one per cell, and each run folder's log says
// "results written" once (a cell run twice, or restarted instead of resumed, would say it twice or
// have two records).
void expect_complete_once(const std::string& out) {
  const auto records = results_lines(out);
  ASSERT_EQ(records.size(), 12u);
  std::set<std::string> cells;
  for (const json& r : records) cells.insert(r["cell"].get<std::string>());
  EXPECT_EQ(cells.size(), 12u);
  const auto dirs = cell_dirs(out);
  ASSERT_EQ(dirs.size(), 12u);
  for (const fs::path& d : dirs) {
    EXPECT_TRUE(fs::exists(d / "record.json")) << d;
    EXPECT_EQ(count_of(read_text_for_test((d / "log.txt").string()), "results written to"), 1u) << d;
  }
}

// Opens a copy of the page, with a checking script appended, in headless Chromium: returns what the
// script found ("rows=N charts=M bars=B") and every console line Chromium logged.
struct PageCheck {
  std::string found;
  std::vector<std::string> console;
};

PageCheck check_in_chromium(const std::string& html_path) {
  const std::string probe = html_path + ".probe.html";
  std::string page = read_text_for_test(html_path);
  const std::string script = R"(<script>
window.addEventListener('load', () => {
  const rows = document.querySelectorAll('table.results tbody tr').length;
  let charts = 0;
  for (const svg of document.querySelectorAll('svg.chart')) {
    const line = svg.querySelector('polyline.series');
    if (line && line.getTotalLength() > 0 && svg.getBoundingClientRect().width > 0) charts++;
  }
  let bars = 0;  // the gain-by-user-group charts: a drawn bar each
  for (const svg of document.querySelectorAll('svg.chart.bars')) {
    const bar = svg.querySelector('rect.bar');
    if (bar && bar.getBBox().height > 0 && svg.getBoundingClientRect().width > 0) bars++;
  }
  document.body.setAttribute('data-check', 'rows=' + rows + ' charts=' + charts + ' bars=' + bars);
});
</script>)";
  page.insert(page.rfind("</body>"), script);
  std::ofstream(probe) << page;
  const std::string err = probe + ".stderr";
  const std::string cmd = "timeout 120 chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 "
                          "--virtual-time-budget=5000 --dump-dom file://" + fs::absolute(probe).string() + " 2>" + err;
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string dom;
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) dom.append(buf.data(), n);
  pclose(pipe);
  PageCheck r;
  const size_t at = dom.find("data-check=\"");
  if (at != std::string::npos) r.found = dom.substr(at + 12, dom.find('"', at + 12) - at - 12);
  std::ifstream e(err);
  for (std::string line; std::getline(e, line);)
    if (line.find("CONSOLE") != std::string::npos) r.console.push_back(line);
  return r;
}

bool have_chromium() { return std::system("command -v chromium > /dev/null 2>&1") == 0; }

std::string fixed4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

}  // namespace

TEST(GridCli, KilledPartWayAndRerunEveryCellFinishesExactlyOnce) {
  const std::string grid = write_grid_file("grid_kill");
  const std::string out = fresh_dir("kill");
  const std::vector<std::string> run = {"run", grid, "--out", out, "--jobs", "2", "--threads-per-cell", "1", "--no-progress"};
  const pid_t first = start_recgrid(run, out + ".first.log");
  // Wait until some cells have finished and another is part way through (its metrics started).
  std::set<std::string> mid_run;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  for (;;) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << read_text_for_test(out + ".first.log");
    int finished = 0;
    mid_run.clear();
    for (const fs::path& d : cell_dirs(out)) {
      if (fs::exists(d / "record.json")) ++finished;
      else if (fs::exists(d / "checkpoint.pt") && !fs::exists(d / "results.json")) mid_run.insert(d.filename().string());
    }
    if (finished >= 3 && !mid_run.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  EXPECT_EQ(wait_exit(first), -SIGKILL);
  // Its training children die with it (PR_SET_PDEATHSIG): wait until no cell lock is held.
  for (int tries = 0;; ++tries) {
    bool any_held = false;
    for (const fs::path& d : cell_dirs(out)) any_held |= !recgrid::grid::CellLock::try_acquire(d.string());
    if (!any_held) break;
    ASSERT_LT(tries, 500) << "a training process outlived the killed grid";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::map<std::string, std::string> finished_before;  // folder -> record text
  for (const fs::path& d : cell_dirs(out))
    if (fs::exists(d / "record.json")) finished_before[d.filename().string()] = read_text_for_test((d / "record.json").string());
  ASSERT_LT(finished_before.size(), 12u);
  const std::string status_cmd = recgrid::test::binary_dir() + "/bin/recgrid status " + out + " > " + out + ".status";
  ASSERT_EQ(std::system(status_cmd.c_str()), 0);
  EXPECT_NE(read_text_for_test(out + ".status").find(std::to_string(finished_before.size()) + " done, 0 running, " +
                                        std::to_string(12 - finished_before.size()) + " left of 12 cells"),
            std::string::npos)
      << read_text_for_test(out + ".status");

  ASSERT_EQ(wait_exit(start_recgrid(run, out + ".second.log")), 0) << read_text_for_test(out + ".second.log");
  expect_complete_once(out);
  ASSERT_EQ(std::system(status_cmd.c_str()), 0);
  EXPECT_NE(read_text_for_test(out + ".status").find("12 done, 0 running, 0 left of 12 cells"), std::string::npos);
  for (const auto& [folder, text] : finished_before)  // finished cells were not run again
    EXPECT_EQ(read_text_for_test(out + "/cells/" + folder + "/record.json"), text) << folder;
  for (const std::string& folder : mid_run) {
    // Interrupted cells resumed from their checkpoint (or, when the kill came a moment after
    // training ended, found it finished and only recorded it).
    const std::string log = read_text_for_test(out + "/cells/" + folder + "/log.txt");
    EXPECT_TRUE(log.find("resumed after epoch") != std::string::npos || log.find("already finished") != std::string::npos)
        << folder << "\n" << log;
  }

  // The report matches the records.
  ASSERT_EQ(std::system((recgrid::test::binary_dir() + "/bin/recgrid report " + out + " > /dev/null").c_str()), 0);
  const std::string md = read_text_for_test(out + "/report.md");
  for (const std::string& model : {"lightgcn", "simgcl"})
    for (const std::string& stack : {"none", "rlmrec_con", "irllrec"}) {
      std::vector<double> r20;
      for (const json& r : results_lines(out))
        if (r["axes"]["model"] == model && r["axes"]["enhancers"] == stack) r20.push_back(r["test"]["recall@20"]);
      ASSERT_EQ(r20.size(), 2u);
      const std::string cell = fixed4(recgrid::report::mean(r20)) + " ± " + fixed4(recgrid::report::sample_std(r20));
      const std::string label = stack == "none" ? "(base)" : "+ " + stack;
      // The row of this stack carries that value (bold or not).
      bool found = false;
      // Only the Results table: the later sections (beyond accuracy, groups) have rows of the same labels.
      const size_t results_at = md.find("## Results");
      std::istringstream lines(md.substr(results_at, md.find("\n## ", results_at + 1) - results_at));
      std::string current_model;
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("| " + model + " |", 0) == 0) current_model = model;
        else if (line.rfind("| ", 0) == 0 && line.rfind("|  |", 0) != 0) current_model = "";
        if (current_model == model && line.find("| " + label + " |") != std::string::npos)
          found = line.find(cell) != std::string::npos;
      }
      EXPECT_TRUE(found) << model << " " << stack << ": expected " << cell << " in\n" << md;
    }
  // With a reference table: our mean beside theirs and the relative difference, for the rows it has.
  {
    std::vector<double> base;
    for (const json& r : results_lines(out))
      if (r["axes"]["model"] == "lightgcn" && r["axes"]["enhancers"] == "none") base.push_back(r["test"]["recall@20"]);
    const std::string ref = out + ".reference.yaml";
    std::ofstream(ref) << "source: a test table\nmetrics: [recall@20, ndcg@20]\ndatasets:\n  planted:\n"
                          "    lightgcn: [0.2500, 0.1000]\n";
    ASSERT_EQ(std::system((recgrid::test::binary_dir() + "/bin/recgrid report " + out + " --reference " + ref + " > /dev/null").c_str()), 0);
    const double ours = recgrid::report::mean(base);
    char diff[32];
    std::snprintf(diff, sizeof diff, "%+.1f %%", 100 * (ours - 0.25) / 0.25);
    const std::string row = "| planted | lightgcn | R@20 | " + fixed4(ours) + " | 0.2500 | " + diff + " |";
    const std::string report = read_text_for_test(out + "/report.md");
    EXPECT_NE(report.find("## Against the reference: a test table"), std::string::npos);
    EXPECT_NE(report.find(row), std::string::npos) << row << "\n" << report;
    EXPECT_EQ(count_of(report, "| planted | "), 2u);  // lightgcn R@20, N@20: rows the reference lacks stay out
  }
  std::ifstream csv(out + "/results.csv");
  size_t csv_lines = 0;
  for (std::string line; std::getline(csv, line);) ++csv_lines;
  EXPECT_EQ(csv_lines, 13u);  // a header and 12 records

  if (!have_chromium()) FAIL() << "chromium is not installed: run scripts/setup.sh --tests";
  const PageCheck page = check_in_chromium(out + "/report.html");
  // 2 x (3 rows + Improv.); 6 settings x 2 charts; a gain-by-user-group chart per base model when the
  // runs wrote per-user files.
  const bool per_user = fs::exists(cell_dirs(out).front() / "per_user_test.tsv.gz");
  EXPECT_EQ(page.found, std::string("rows=8 charts=12 bars=") + (per_user ? "2" : "0"));
  EXPECT_TRUE(page.console.empty()) << page.console.front();
}

TEST(GridCli, TheHtmlCheckSeesConsoleErrorsAndMissingCharts) {
  // The check above must be able to fail: a page with a script error and no chart.
  if (!have_chromium()) FAIL() << "chromium is not installed: run scripts/setup.sh --tests";
  const std::string page = ::testing::TempDir() + "/broken_report.html";
  std::ofstream(page) << "<!DOCTYPE html><html><body><table class=\"results\"><tbody><tr><td>1</td></tr></tbody></table>"
                         "<script>notAFunction();</script></body></html>";
  const PageCheck r = check_in_chromium(page);
  EXPECT_EQ(r.found, "rows=1 charts=0 bars=0");
  ASSERT_FALSE(r.console.empty());
  EXPECT_NE(r.console.front().find("notAFunction"), std::string::npos);
}

TEST(GridCli, TheReportOfPerUserRunsShowsTheSignificanceAndGroupSectionsInChromium) {
  // A grid folder made by hand (report_folders.hpp): per-user files, beyond-accuracy and group keys.
  const std::string dir = fresh_dir("per_user_report");
  std::vector<recgrid::test::FakeRun> runs;
  for (const std::string seed : {"1", "2", "3"})
    for (const std::string stack : {"none", "irllrec"}) {
      recgrid::test::FakeRun r{"lightgcn", stack, seed};
      for (int u = 0; u < 40; ++u) {
        r.users.push_back(u), r.n_train.push_back(1 + u % 10);
        const double hit = ((u * 31 + std::stoi(seed)) % 5) / 4.0;
        r.recall.push_back(stack == "none" ? hit : std::min(1.0, hit + (u % 3 == 0 ? 0.25 : 0.0)));
        r.ndcg.push_back(r.recall.back() / 2);
      }
      r.extra_test = {{"coverage@20", 0.3}, {"gini@20", 0.7}, {"novelty@20", 9.5}, {"arp@20", 41.0}};
      r.test_groups = {
          {"user_groups", {{"by", "n_train"}, {"buckets", {{{"name", "sparse"}, {"n_train_min", 1}, {"n_train_max", 5},
                                                            {"recall@20", 0.2}, {"ndcg@20", 0.1}},
                                                           {{"name", "g2"}, {"n_train_min", 6}, {"n_train_max", 10},
                                                            {"recall@20", 0.3}, {"ndcg@20", 0.15}}}}}},
          {"item_groups", {{"head_share", 0.2}, {"groups", {{{"name", "head"}, {"slot_share@20", 0.8}, {"recall@20", 0.4}},
                                                            {{"name", "tail"}, {"slot_share@20", 0.2}, {"recall@20", 0.05}}}}}}};
      runs.push_back(r);
    }
  recgrid::test::write_fake_grid(dir, runs);
  ASSERT_EQ(std::system((recgrid::test::binary_dir() + "/bin/recgrid report " + dir + " > /dev/null").c_str()), 0);
  const std::string md = read_text_for_test(dir + "/report.md");
  for (const char* section : {"## Significance", "## Beyond accuracy", "## Groups", "### Gain by user group"})
    EXPECT_NE(md.find(section), std::string::npos) << section << "\n" << md;
  EXPECT_NE(md.find("| lightgcn | (base) | 0.3000 ± 0.0000 | 0.7000 ± 0.0000 | 9.5000 ± 0.0000 | 41.0000 ± 0.0000 |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| 0.2000 | 0.3000 | 0.1000 | 0.1500 | 0.8000 | 0.2000 | 0.4000 | 0.0500 |"), std::string::npos) << md;
  EXPECT_TRUE(fs::exists(dir + "/report/gain-toy-lightgcn.svg"));
  if (!have_chromium()) FAIL() << "chromium is not installed: run scripts/setup.sh --tests";
  const PageCheck page = check_in_chromium(dir + "/report.html");
  EXPECT_EQ(page.found, "rows=3 charts=0 bars=1");  // base, irllrec, Improv.; no curves (no metrics.jsonl), one gain chart
  EXPECT_TRUE(page.console.empty()) << page.console.front();
}

TEST(GridCli, ShardsAndAnOverlappingProcessShareOneFolderWithoutRunningACellTwice) {
  const std::string grid = write_grid_file("grid_shards");
  const std::string out = fresh_dir("shards");
  const auto shard = [&](const std::string& k, const std::string& log) {
    return start_recgrid({"run", grid, "--out", out, "--shard", k, "--threads-per-cell", "1", "--no-progress"}, out + log);
  };
  const pid_t a = shard("0/2", ".a.log");
  const pid_t b = shard("1/2", ".b.log");
  // A third process over the whole grid competes with both for every cell.
  const pid_t c = start_recgrid({"run", grid, "--out", out, "--threads-per-cell", "1", "--no-progress"}, out + ".c.log");
  EXPECT_EQ(wait_exit(a), 0) << read_text_for_test(out + ".a.log");
  EXPECT_EQ(wait_exit(b), 0) << read_text_for_test(out + ".b.log");
  EXPECT_EQ(wait_exit(c), 0) << read_text_for_test(out + ".c.log");
  expect_complete_once(out);
  // The shards split the cells by index: each ran only its own.
  const std::string a_log = read_text_for_test(out + ".a.log"), b_log = read_text_for_test(out + ".b.log");
  EXPECT_NE(a_log.find("shard 0/2 takes 6"), std::string::npos) << a_log;
  EXPECT_EQ(count_of(a_log, "-s2 ("), 0u) << a_log;  // shard 0 holds the even indexes: seed 1 cells
  EXPECT_EQ(count_of(b_log, "-s1 ("), 0u) << b_log;
}

TEST(GridCli, AFailingCellIsReportedAndRetriedWhileTheOthersFinish) {
  const std::string grid = ::testing::TempDir() + "/grid_fail.yaml";
  std::ofstream(grid) << "grid:\n  name: fail-test\n  datasets: [scientific]\n  models: [lightgcn]\n"
                         "  sweep: {dataset.path: [scientific, nowhere]}\n"
                         "dataset: {root: " + recgrid::test::fixture_data() + "}\n"
                         "train: {epochs: 1, test_step: 1}\n";
  const std::string out = fresh_dir("fail");
  EXPECT_EQ(wait_exit(start_recgrid({"run", grid, "--out", out, "--no-progress"}, out + ".log")), 1);
  std::string log = read_text_for_test(out + ".log");
  EXPECT_NE(log.find("FAILED scientific-lightgcn-path=nowhere"), std::string::npos) << log;
  EXPECT_NE(log.find("1 cell(s) finished now"), std::string::npos) << log;
  ASSERT_EQ(results_lines(out).size(), 1u);
  EXPECT_EQ(results_lines(out)[0]["axes"]["dataset.path"], "scientific");
  // A rerun keeps the finished cell and tries the failed one again.
  EXPECT_EQ(wait_exit(start_recgrid({"run", grid, "--out", out, "--no-progress"}, out + ".log")), 1);
  log = read_text_for_test(out + ".log");
  EXPECT_NE(log.find("1 already finished, 1 to run"), std::string::npos) << log;
  EXPECT_NE(log.find("FAILED scientific-lightgcn-path=nowhere"), std::string::npos) << log;
  EXPECT_EQ(results_lines(out).size(), 1u);
}

// A cell whose own run a signal stops (a scheduler's warning reaches the cell, not the grid) is
// interrupted, not failed: no failed.json, the grid exits 4 so a job wrapper can requeue, and the
// next run resumes the cell from its checkpoint and records it.
TEST(GridCli, ACellStoppedByASignalIsInterruptedNotFailedAndResumes) {
  const std::string grid = ::testing::TempDir() + "/grid_signal.yaml";
  std::ofstream(grid) << "grid:\n  name: signal-test\n  datasets: [scientific]\n  models: [lightgcn]\n"
                         "dataset: {root: " + recgrid::test::fixture_data() + "}\n"
                         "train: {epochs: 3, test_step: 1, batch_size: 512}\n";
  const std::string out = fresh_dir("signal");
  ::setenv("RECGRID_SIGNAL_AT", "1:2", 1);  // inherited by the cell's run: it stops after step 2 of epoch 1
  const int code = wait_exit(start_recgrid({"run", grid, "--out", out, "--no-progress"}, out + ".log"));
  ::unsetenv("RECGRID_SIGNAL_AT");
  std::string log = read_text_for_test(out + ".log");
  EXPECT_EQ(code, 4) << log;
  EXPECT_NE(log.find("INTERRUPTED scientific-lightgcn:"), std::string::npos) << log;
  EXPECT_NE(log.find("0 failed, 0 diverged, 1 interrupted"), std::string::npos) << log;
  EXPECT_TRUE(results_lines(out).empty());
  for (const auto& e : fs::directory_iterator(out + "/cells")) EXPECT_FALSE(fs::exists(e.path() / "failed.json"));
  EXPECT_EQ(wait_exit(start_recgrid({"run", grid, "--out", out, "--no-progress"}, out + ".log")), 0);
  log = read_text_for_test(out + ".log");
  EXPECT_NE(log.find("1 cell(s) finished now"), std::string::npos) << log;
  ASSERT_EQ(results_lines(out).size(), 1u);
  for (const auto& e : fs::directory_iterator(out + "/cells")) {
    const std::string run_log = read_text_for_test((e.path() / "log.txt").string());
    EXPECT_NE(run_log.find("resumed inside epoch 1 at step 3"), std::string::npos) << run_log;
  }
}

TEST(GridCli, TheTable2GridOfEveryBaseModelAndEnhancerTrainsOnPlantedData) {
  // configs/grids/planted-table2.yaml, one seed, on a tiny planted dataset: 5 base models x
  // {none, kar, rlmrec_con, rlmrec_gen, irllrec} + LightGCN with AlphaRec = 26 cells.
  const std::string out = fresh_dir("table2");
  const std::vector<std::string> args = {
      "run", recgrid::test::source_dir() + "/configs/grids/planted-table2.yaml", "--out", out, "--only", "seed=2023",
      "--jobs", "2", "--threads-per-cell", "1", "--no-progress", "--set", "dataset.synthetic.users=200", "--set",
      "dataset.synthetic.items=150", "--set", "train.epochs=2", "--set", "train.test_step=1", "--set",
      "train.batch_size=256"};
  ASSERT_EQ(wait_exit(start_recgrid(args, out + ".log")), 0) << read_text_for_test(out + ".log");
  const auto records = results_lines(out);
  ASSERT_EQ(records.size(), 26u);
  // --only ran a part; the folder still describes the whole grid (78 cells, 52 left).
  EXPECT_EQ(json::parse(read_text_for_test(out + "/grid.json"))["cells"].size(), 78u);
  ASSERT_EQ(std::system((recgrid::test::binary_dir() + "/bin/recgrid status " + out + " > " + out + ".status").c_str()), 0);
  const std::string status = read_text_for_test(out + ".status");
  EXPECT_NE(status.find("26 done, 0 running, 52 left of 78 cells"), std::string::npos) << status;
  std::map<std::string, json> first_epoch;  // "model/stack" -> epoch-0 loss terms
  for (const json& r : records) {
    const std::string model = r["axes"]["model"], stack = r["axes"]["enhancers"];
    SCOPED_TRACE(model + " + " + stack);
    std::ifstream f(out + "/cells/" + r["folder"].get<std::string>() + "/metrics.jsonl");
    std::vector<json> lines;
    for (std::string line; std::getline(f, line);) lines.push_back(json::parse(line));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_GT(r["test"]["recall@20"].get<double>(), 0);
    first_epoch[model + "/" + stack] = lines[0]["loss"];
    std::vector<std::string> own;  // the enhancer's own loss terms
    if (stack == "rlmrec_con") own = {"rlmrec_con.kd"};
    if (stack == "rlmrec_gen") own = {"rlmrec_gen.rec"};
    if (stack == "irllrec") own = {"irllrec.pair", "irllrec.tran", "irllrec.itm"};
    if (stack == "alpharec") own = {"alpharec.softmax"};
    for (const std::string& term : own) {
      ASSERT_TRUE(lines[1]["loss"].contains(term)) << lines[1]["loss"].dump();
      const double v = lines[1]["loss"][term];
      EXPECT_TRUE(std::isfinite(v) && v != 0) << term << " = " << v;
    }
    EXPECT_TRUE(std::isfinite(lines[1]["loss"]["total"].get<double>()));
    if (stack == "alpharec") EXPECT_FALSE(lines[1]["loss"].contains("lightgcn.bpr")) << "AlphaRec replaces BPR";
  }
  // KAR has no term of its own: it changes the base model's loss through layer 0.
  for (const std::string model : {"lightgcn", "sgl", "simgcl", "dccf", "bigcf"}) {
    const std::string main_term = model + ".bpr";
    ASSERT_TRUE(first_epoch[model + "/none"].contains(main_term));
    EXPECT_NE(first_epoch[model + "/none"][main_term], first_epoch[model + "/kar"][main_term]) << model;
  }
}
