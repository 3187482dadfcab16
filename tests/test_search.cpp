// A grid's search (grid/search_spec.hpp, grid/search_runner.hpp): the block's reading and its
// errors, the draws, train.pause_after (how a trial goes from rung to rung), and whole searches
// through the `recgrid` executable: killed with SIGKILL twice and rerun, and split over two shards,
// each ending with the choices and records of one uninterrupted search.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "config/config.hpp"
#include "grid/cell_lock.hpp"
#include "grid/search_spec.hpp"
#include "process_support.hpp"
#include "search_grid.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using recgrid::grid::SearchSpec;

namespace {

SearchSpec read_block(const std::string& yaml) { return recgrid::grid::read_search(YAML::Load(yaml)["search"], "g.yaml"); }

// The ConfigError message of reading a block ("" when it reads).
std::string error_of(const std::string& yaml) {
  try {
    read_block(yaml);
  } catch (const recgrid::config::ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string slurp(const std::string& path) { return recgrid::read_text_for_test(path); }

}  // namespace

TEST(Search, TheBlockGivesItsRungsAndEachMistakeIsNamedWithItsLine) {
  const SearchSpec h = read_block(
      "search:\n  method: halving\n  trials: 9\n  epochs: 27\n  min_epochs: 3\n  space:\n    train.lr: {log_uniform: [1.0e-4, 1.0e-2]}\n");
  EXPECT_EQ(h.rungs(), (std::vector<int>{3, 9, 27}));
  EXPECT_EQ(h.trials_at_rung(0), 9);
  EXPECT_EQ(h.trials_at_rung(1), 3);
  EXPECT_EQ(h.trials_at_rung(2), 1);
  // Rungs that do not divide evenly end at the budget; the default first rung is epochs / reduction^2.
  const SearchSpec d = read_block("search:\n  method: halving\n  trials: 5\n  epochs: 20\n  space: {train.lr: {uniform: [0.001, 0.01]}}\n");
  EXPECT_EQ(d.rungs(), (std::vector<int>{2, 6, 18, 20}));
  EXPECT_EQ(d.trials_at_rung(3), 1);
  const SearchSpec r = read_block("search:\n  trials: 4\n  epochs: 12\n  space: {train.lr: {uniform: [0.001, 0.01]}}\n");
  EXPECT_EQ(r.method, "random");
  EXPECT_EQ(r.rungs(), (std::vector<int>{12}));

  const std::string base = "search:\n  epochs: 5\n  space:\n    train.lr: ";
  EXPECT_NE(error_of("search:\n  epochs: 5\n  trails: 3\n  space: {train.lr: {uniform: [0.1, 1]}}\n")
                .find("g.yaml:3: unknown key 'search.trails'; did you mean 'search.trials'?"),
            std::string::npos);
  EXPECT_NE(error_of(base + "{loguniform: [1, 2]}\n").find("g.yaml:4: search.space.train.lr: unknown kind 'loguniform'; did you mean 'log_uniform'?"),
            std::string::npos);
  EXPECT_NE(error_of(base + "{log_uniform: [0, 2]}\n").find("log_uniform needs 0 < low"), std::string::npos);
  EXPECT_NE(error_of(base + "{uniform: [2, 1]}\n").find("needs low < high"), std::string::npos);
  EXPECT_NE(error_of(base + "{int: [1.5, 3]}\n").find("int expects whole numbers"), std::string::npos);
  EXPECT_NE(error_of(base + "{choice: []}\n").find("choice expects a non-empty list"), std::string::npos);
  EXPECT_NE(error_of("search:\n  space: {train.lr: {uniform: [0.1, 1]}}\n").find("search.epochs is required"), std::string::npos);
  EXPECT_NE(error_of("search:\n  epochs: 5\n  metric: hit@10\n  space: {train.lr: {uniform: [0.1, 1]}}\n")
                .find("g.yaml:3: search.metric is recall@K or ndcg@K"),
            std::string::npos);
  EXPECT_NE(error_of("search:\n  epochs: 5\n  method: bayes\n  space: {train.lr: {uniform: [0.1, 1]}}\n")
                .find("search.method is random or halving"),
            std::string::npos);
}

TEST(Search, DrawsDependOnTheSeedTheKeyAndTheTrialOnlyAndStayInTheirRange) {
  const std::string space = "  space:\n    train.reg_weight: {log_uniform: [1.0e-8, 1.0e-2]}\n    model.layers: {int: [1, 3]}\n"
                            "    enhancer.kar.mode: {choice: [a, b, c]}\n";
  const SearchSpec s = read_block("search:\n  epochs: 5\n  trials: 600\n  seed: 3\n" + space);
  const SearchSpec again = read_block("search:\n  epochs: 5\n  trials: 600\n  seed: 3\n" + space);
  const SearchSpec other_seed = read_block("search:\n  epochs: 5\n  trials: 600\n  seed: 4\n" + space);
  // Another key before it does not change a key's draws: every row with the key tries the same values.
  const SearchSpec more_keys = read_block("search:\n  epochs: 5\n  trials: 600\n  seed: 3\n  space:\n"
                                          "    train.lr: {uniform: [0.1, 1]}\n    model.layers: {int: [1, 3]}\n");
  int below_middle = 0, differ = 0;
  std::map<std::string, int> layers, modes;
  for (int k = 0; k < 600; ++k) {
    const auto v = s.values_of(k);
    EXPECT_EQ(v, again.values_of(k));
    differ += v != other_seed.values_of(k);
    EXPECT_EQ(v[1], more_keys.values_of(k)[1]);
    const double reg = std::stod(v[0]);
    EXPECT_GE(reg, 1.0e-8 * (1 - 1e-3));
    EXPECT_LE(reg, 1.0e-2 * (1 + 1e-3));
    below_middle += reg < 1.0e-5;  // the log-scale middle: half of a log-uniform draw lies below it
    ++layers[v[1]];
    ++modes[v[2]];
    EXPECT_EQ(YAML::Load(v[0]).as<double>(), reg) << "a float draw must read back as that number: " << v[0];
  }
  EXPECT_GT(differ, 590);
  EXPECT_NEAR(below_middle / 600.0, 0.5, 0.1);
  EXPECT_EQ(layers.size(), 3u);  // 1, 2 and 3: both ends included
  for (const char* l : {"1", "2", "3"}) EXPECT_NEAR(layers[l] / 600.0, 1.0 / 3, 0.08) << l;
  EXPECT_EQ(modes.size(), 3u);
}

TEST(Search, APausedRunContinuedRungByRungEqualsOneUnpausedRun) {
  const std::string dir = ::testing::TempDir() + "/search_pause";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string exp = dir + "/exp.yaml";
  std::ofstream(exp) << "dataset: {format: synthetic, synthetic: {users: 300, items: 250, interactions_per_user: 8}}\n"
                        "train: {epochs: 7, test_step: 2, batch_size: 256, patience: 100, threads: 1}\n"
                        "enhancers: [rlmrec_con]\n";
  using recgrid::test::run_cli;
  ASSERT_EQ(run_cli("run " + exp + " --out " + dir + "/straight --no-progress").code, 0);
  const auto first = run_cli("run " + exp + " --out " + dir + "/paused --no-progress --set train.pause_after=2");
  EXPECT_EQ(first.code, 5) << first.output;  // paused after epochs 0 and 1 (epoch 1 was not evaluated)
  EXPECT_NE(first.output.find("paused after 2 epochs"), std::string::npos) << first.output;
  EXPECT_EQ(run_cli("run " + exp + " --out " + dir + "/paused --resume --no-progress --set train.pause_after=5").code, 5);
  const auto last = run_cli("run " + exp + " --out " + dir + "/paused --resume --no-progress");
  ASSERT_EQ(last.code, 0) << last.output;
  // Every evaluated epoch's numbers and losses, and the final results, as the unpaused run's.
  auto strip_times = [](const std::string& path) {
    std::vector<json> lines;
    std::ifstream f(path);
    for (std::string l; std::getline(f, l);) {
      json j = json::parse(l);
      j.erase("train_time_s");
      j.erase("eval_time_s");
      if (j.contains("untrained")) j["untrained"].erase("eval_time_s");  // epoch 0's line
      lines.push_back(j);
    }
    return lines;
  };
  EXPECT_EQ(strip_times(dir + "/paused/metrics.jsonl"), strip_times(dir + "/straight/metrics.jsonl"));
  const json a = json::parse(slurp(dir + "/paused/results.json")), b = json::parse(slurp(dir + "/straight/results.json"));
  EXPECT_EQ(a["test"], b["test"]);
  EXPECT_EQ(a["best_epoch"], b["best_epoch"]);
  EXPECT_EQ(a["epochs_run"], 7);
  const std::string log = slurp(dir + "/paused/log.txt");
  EXPECT_NE(log.find("paused before epoch 2"), std::string::npos);
  EXPECT_NE(log.find("paused before epoch 5"), std::string::npos);
}

namespace {

using recgrid::test::kSearchGrid;

std::string search_grid_file() {
  // Per process: ctest runs the tests of this file side by side, each in its own process.
  const std::string path = ::testing::TempDir() + "/search_grid_" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << kSearchGrid;
  return path;
}

using recgrid::test::start_recgrid;
using recgrid::test::wait_exit;

std::vector<std::string> run_args(const std::string& grid, const std::string& out) {
  return {"run", grid, "--out", out, "--jobs", "2", "--threads-per-cell", "1", "--no-progress"};
}

std::vector<fs::path> lock_dirs(const std::string& out) {
  std::vector<fs::path> dirs;
  if (!fs::exists(out)) return dirs;
  for (const auto& e : fs::recursive_directory_iterator(out))
    if (e.path().filename() == "lock") dirs.push_back(e.path().parent_path());
  return dirs;
}

// After a kill: its trainings die with it (PR_SET_PDEATHSIG); wait until no lock is held.
void wait_until_unlocked(const std::string& out) {
  for (int tries = 0;; ++tries) {
    bool held = false;
    for (const fs::path& d : lock_dirs(out)) held |= !recgrid::grid::CellLock::try_acquire(d.string());
    if (!held) return;
    ASSERT_LT(tries, 500) << "a training process outlived the killed grid";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Each row's search.json without what depends on timing; each record's results.
std::map<std::string, json> search_outcome(const std::string& out) {
  std::map<std::string, json> got;
  for (const auto& e : fs::directory_iterator(out + "/search")) {
    const json s = json::parse(slurp((e.path() / "search.json").string()));
    got["search " + e.path().filename().string()] = {s["chosen"], s["trials"], s["epochs_spent"], s["curve"]};
  }
  std::ifstream f(out + "/results.jsonl");
  for (std::string line; std::getline(f, line);) {
    const json r = json::parse(line);
    got["cell " + r["folder"].get<std::string>()] = {r["valid"],      r["test"], r["best_epoch"], r["tuned"],
                                                     r["axes"]["seed"], r["config"]["train"]["seed"],
                                                     r["config"]["train"]["epochs"]};
  }
  return got;
}

// No trial was lost or run twice: every trial's epochs are each trained and logged at most once,
// and every trial of the plan reached its last rung file.
void expect_each_epoch_once(const std::string& out) {
  for (const auto& row : fs::directory_iterator(out + "/search"))
    for (const auto& trial : fs::directory_iterator(row.path())) {
      if (!trial.is_directory()) continue;
      const std::string log = slurp((trial.path() / "log.txt").string());
      for (int epoch = 0; epoch < 4; ++epoch) {
        char line[32];
        std::snprintf(line, sizeof line, "epoch %4d  loss", epoch);
        size_t n = 0;
        for (size_t at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) ++n;
        EXPECT_LE(n, 1u) << trial.path() << " trained epoch " << epoch << " twice:\n" << log;
      }
      EXPECT_TRUE(fs::exists(trial.path() / "rung-1.json")) << trial.path();
    }
}

// The outcome of the search grid run once, uninterrupted, by one process (run once per test binary).
const std::map<std::string, json>& uninterrupted_outcome() {
  static const std::map<std::string, json> outcome = [] {
    const std::string out = ::testing::TempDir() + "/search_whole_" + std::to_string(::getpid());
    fs::remove_all(out);
    const int status = wait_exit(start_recgrid(run_args(search_grid_file(), out), out + ".log"));
    if (status != 0) throw std::runtime_error("the uninterrupted search failed:\n" + slurp(out + ".log"));
    return search_outcome(out);
  }();
  return outcome;
}

}  // namespace

TEST(Search, KilledTwiceAtRandomMomentsAndRerunChoosesAndRecordsAsAnUninterruptedSearch) {
  const std::string grid = search_grid_file();
  const std::string base = ::testing::TempDir() + "/search_kill";
  fs::remove_all(base);
  fs::create_directories(base);
  const auto& reference = uninterrupted_outcome();
  ASSERT_EQ(reference.size(), 2u + 4u);  // 2 rows searched, 4 cells recorded
  EXPECT_EQ(reference.at("search planted-lightgcn-none")[0]["values"].size(), 1u);  // kd_weight is not LightGCN's
  EXPECT_EQ(reference.at("search planted-lightgcn-rlmrec_con")[0]["values"].size(), 2u);
  EXPECT_EQ(reference.at("search planted-lightgcn-none")[2], 4 * 1 + 2 * 1 + 1 * 2);  // epochs spent: 8 of 16
  for (const auto& [key, got] : reference)  // each tuned cell trains with its own seed and the grid's epochs
    if (key.rfind("cell ", 0) == 0) {       // (not the trials' seed 5: a shared YAML tree once leaked it)
      EXPECT_EQ(got[5].get<int>(), std::stoi(got[4].get<std::string>())) << key;
      EXPECT_EQ(got[6].get<int>(), 4) << key;
    }

  std::random_device entropy;
  std::mt19937 rng(entropy());
  const std::string out = base + "/killed";
  for (int kill = 0; kill < 2; ++kill) {
    const int after_ms = std::uniform_int_distribution<int>(300, 9000)(rng);
    SCOPED_TRACE("kill " + std::to_string(kill) + " after " + std::to_string(after_ms) + " ms");
    const pid_t pid = start_recgrid(run_args(grid, out), base + "/killed.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(after_ms));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    wait_exit(pid);
    wait_until_unlocked(out);
  }
  ASSERT_EQ(wait_exit(start_recgrid(run_args(grid, out), base + "/killed.log")), 0) << slurp(base + "/killed.log");
  EXPECT_EQ(search_outcome(out), reference);
  expect_each_epoch_once(out);
}

TEST(Search, TwoShardsShareTheTrialsAndEndAsOneProcessDoes) {
  const std::string grid = search_grid_file();
  const std::string base = ::testing::TempDir() + "/search_shards";
  fs::remove_all(base);
  fs::create_directories(base);
  auto shard = [&](const char* which) {
    std::vector<std::string> args = run_args(grid, base + "/shared");
    args[5] = "1";  // --jobs 1 each
    args.insert(args.end(), {"--shard", which});
    return start_recgrid(args, base + "/shard" + std::string(1, which[0]) + ".log");
  };
  const pid_t a = shard("0/2"), b = shard("1/2");
  EXPECT_EQ(wait_exit(a), 0) << slurp(base + "/shard0.log");
  EXPECT_EQ(wait_exit(b), 0) << slurp(base + "/shard1.log");
  EXPECT_EQ(search_outcome(base + "/shared"), uninterrupted_outcome());
  expect_each_epoch_once(base + "/shared");
  // Both took part in the search.
  EXPECT_NE(slurp(base + "/shard0.log").find("trial planted-"), std::string::npos);
  EXPECT_NE(slurp(base + "/shard1.log").find("trial planted-"), std::string::npos);
  // The report: the Tuning section (each row's budget, 8 of 4 x 4 epochs spent) and the tuned rows marked.
  const auto report = recgrid::test::run_cli("report " + base + "/shared");
  ASSERT_EQ(report.code, 0) << report.output;
  const std::string md = slurp(base + "/shared/report.md");
  EXPECT_NE(md.find("## Tuning"), std::string::npos) << md;
  EXPECT_NE(md.find("| planted-lightgcn-none | halving | 4 | 8 of 16 | "), std::string::npos) << md;
  // Seconds spent: every trial's training and evaluation times, summed here from the trial folders.
  for (const char* row : {"planted-lightgcn-none", "planted-lightgcn-rlmrec_con"}) {
    double seconds = 0;
    for (const auto& trial : fs::directory_iterator(base + "/shared/search/" + row)) {
      if (!trial.is_directory()) continue;
      std::ifstream f(trial.path() / "metrics.jsonl");
      for (std::string line; std::getline(f, line);) {
        const json m = json::parse(line);
        seconds += m["train_time_s"].get<double>() + m["eval_time_s"].get<double>();
        if (m.contains("untrained")) seconds += m["untrained"]["eval_time_s"].get<double>();
      }
    }
    const json s = json::parse(slurp(base + "/shared/search/" + row + "/search.json"));
    EXPECT_NEAR(s["seconds_spent"].get<double>(), seconds, 1e-9 * (1 + seconds)) << row;
    EXPECT_GT(seconds, 0) << row;
  }
  EXPECT_NE(md.find("+ rlmrec_con ‡"), std::string::npos) << md;
  // 4 epochs is deliberately too short: both chosen trials were still improving at their last epoch
  // (the rung files say so), so both are marked cut short, with the footnote that says what to change.
  for (const char* row : {"planted-lightgcn-none", "planted-lightgcn-rlmrec_con"}) {
    const json s = json::parse(slurp(base + "/shared/search/" + row + "/search.json"));
    const json& last = s["trials"][s["chosen"]["trial"].get<int>()]["rungs"]["4"];
    EXPECT_EQ(last["best_epoch"], 3) << row;
    EXPECT_EQ(last["last_valid_epoch"], 3) << row;
    EXPECT_TRUE(s["chosen"]["cut_short"].get<bool>()) << row;
    const size_t line = md.find("| " + std::string(row) + " | halving");
    ASSERT_NE(line, std::string::npos) << md;
    EXPECT_NE(md.substr(line, md.find('\n', line) - line).find(" † |"), std::string::npos) << md;
  }
  EXPECT_NE(md.find("† Cut short: the chosen trial's best validation was its last one"), std::string::npos) << md;
  EXPECT_NE(md.find("Horizon: fixed, 4 epochs a trial"), std::string::npos) << md;
  EXPECT_TRUE(std::ifstream(base + "/shared/report/search.svg").good());
}

TEST(Search, AKeyNoRowHasIsAnErrorNamingItsLine) {
  const std::string path = ::testing::TempDir() + "/search_bad_key.yaml";
  std::string text = kSearchGrid;
  text.replace(text.find("enhancer.rlmrec_con.kd_weight"), std::string("enhancer.rlmrec_con.kd_weight").size(),
               "enhancer.irllrec.pair_weight");
  std::ofstream(path) << text;
  const auto r = recgrid::test::run_cli("run " + path + " --out " + ::testing::TempDir() + "/search_bad_key --no-progress");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find(path + ":19: search.space.enhancer.irllrec.pair_weight is a key of no row"), std::string::npos)
      << r.output;
}

// include_configured: trial 0 runs the row's own values (the presets' and the grid file's), so the
// untuned setting is always among the candidates; the other trials draw what they draw without it.
TEST(Search, IncludeConfiguredMakesTrialZeroTheRowsOwnValues) {
  std::string text = kSearchGrid;
  text.replace(text.find("  seed: 5\n"), 10, "  seed: 5\n  include_configured: true\n");
  text.replace(text.find("trials: 4"), 9, "trials: 2");
  text.replace(text.find("method: halving"), 15, "method: random");
  const std::string path = ::testing::TempDir() + "/search_configured.yaml", out = ::testing::TempDir() + "/search_configured";
  std::ofstream(path) << text;
  fs::remove_all(out);
  const auto r = recgrid::test::run_cli("run " + path + " --out " + out + " --search-only --jobs 2 --threads-per-cell 1 --no-progress");
  ASSERT_EQ(r.code, 0) << r.output;
  const json s = json::parse(slurp(out + "/search/planted-lightgcn-rlmrec_con/search.json"));
  // train.lr's default and RLMRec-Con's preset kd_weight.
  EXPECT_EQ(s["trials"][0]["values"], (json{{"train.lr", 0.001}, {"enhancer.rlmrec_con.kd_weight", 0.01}})) << s.dump(2);
  const json without = uninterrupted_outcome().at("search planted-lightgcn-rlmrec_con")[1];
  EXPECT_EQ(s["trials"][1]["values"], without[1]["values"]);
  EXPECT_NE(s["trials"][1]["values"], s["trials"][0]["values"]);
}
