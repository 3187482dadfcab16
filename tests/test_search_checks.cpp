// The checks of a grid's search against the rest of the grid and the command line, made when the grid
// is read (grid/search_checks.hpp): a key both swept and searched, a --set on a searched key and a
// search.metric whose K is not in train.topk are configuration errors naming the lines involved;
// before, the first two were silently overwritten and the third failed at the first rung.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "config/config.hpp"
#include "grid/grid_spec.hpp"

namespace {

// A two-row search grid (LightGCN alone and with RLMRec-Con), written to a temp file: `extra` goes
// into its grid: block after line 6, `train` is its train: line, `search_extra` goes into its search:
// block after `epochs:`.
std::string write_grid(const std::string& name, const std::string& extra, const std::string& search_extra,
                       const std::string& train = "train: {epochs: 4}\n") {
  const std::string path = ::testing::TempDir() + "/search_checks_" + name + ".yaml";
  std::ofstream(path) << "grid:\n"                            // 1
                         "  name: checks\n"                   // 2
                         "  datasets: [planted]\n"            // 3
                         "  models: [lightgcn]\n"             // 4
                         "  enhancers: [none, rlmrec_con]\n"  // 5
                         "  seeds: [1]\n"                     // 6
                      << extra << train << "search:\n  epochs: 4\n" << search_extra
                      << "  space:\n"
                         "    train.lr: {log_uniform: [1.0e-4, 1.0e-2]}\n"
                         "    enhancer.rlmrec_con.kd_weight: {log_uniform: [1.0e-3, 1.0]}\n";
  return path;
}

std::string error_of(const std::string& path, const std::vector<std::string>& sets = {}) {
  try {
    recgrid::grid::load_grid(path, sets);
  } catch (const recgrid::config::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

// A swept key that the search also tunes: each trial overwrote the sweep's value, so the sweep's rows
// all tuned the same setting. Now an error at the search key's line naming the sweep's.
TEST(SearchChecks, AKeyBothSweptAndSearchedIsAnErrorNamingBothLines) {
  const std::string path = write_grid("sweep", "  sweep: {train.lr: [1.0e-3, 1.0e-2]}\n", "");
  const std::string e = error_of(path);
  // Lines: sweep 7, train 8, search 9, epochs 10, space 11, train.lr 12.
  EXPECT_TRUE(has(e, path + ":12: search.space.train.lr is also a sweep axis (grid.sweep.train.lr, " + path + ":7)")) << e;
  // A sweep of another key is fine.
  EXPECT_EQ(error_of(write_grid("sweep3", "  sweep: {train.reg_weight: [1.0e-4, 1.0e-5]}\n", "")), "no error");
}

// A --set on a searched key was silently replaced by the search's choice: now an error naming the
// search key's line and what to drop.
TEST(SearchChecks, ASetOnASearchedKeyIsAnError) {
  const std::string path = write_grid("set", "", "");
  std::string e = error_of(path, {"train.epochs=2", "train.lr=0.01"});
  EXPECT_TRUE(has(e, "--set train.lr: train.lr is searched (" + path + ":11: search.space.train.lr)")) << e;
  EXPECT_TRUE(has(e, "drop the --set, or the key from search.space")) << e;
  e = error_of(path, {"enhancer.rlmrec_con={kd_weight: 0.5}"});
  EXPECT_TRUE(has(e, "--set enhancer.rlmrec_con: enhancer.rlmrec_con.kd_weight is searched (" + path + ":12:")) << e;
  EXPECT_EQ(error_of(path, {"train.epochs=2", "train.reg_weight=1.0e-5"}), "no error");
}

// search.metric's K must be one of every cell's train.topk: checked when the grid is read (it was
// found when the first rung was recorded, after the first trials had trained).
TEST(SearchChecks, TheSearchMetricsKIsCheckedAgainstTrainTopkWhenTheGridIsRead) {
  const std::string path = write_grid("metric", "", "  metric: ndcg@50\n");
  const std::string e = error_of(path);
  // Lines: train 7, search 8, epochs 9, metric 10.
  EXPECT_TRUE(has(e, path + ":10: search.metric ndcg@50 needs 50 in train.topk, which is [5, 10, 20] for cell "
                         "planted-lightgcn-none-s1 (set at <built-in defaults")) << e;
  // With 50 in train.topk it reads; an override that drops it for one row names that row's cell and
  // the override's line (lines: overrides 7, when 8, set 9).
  const std::string overrides = "  overrides:\n    - when: {enhancers: rlmrec_con}\n      set: {train: {topk: [10, 20]}}\n";
  EXPECT_EQ(error_of(write_grid("metric2", "", "  metric: ndcg@50\n", "train: {epochs: 4, topk: [20, 50]}\n")), "no error");
  const std::string path3 = write_grid("metric3", overrides, "  metric: recall@50\n", "train: {epochs: 4, topk: [20, 50]}\n");
  const std::string e3 = error_of(path3);
  EXPECT_TRUE(has(e3, path3 + ":13: search.metric recall@50 needs 50 in train.topk, which is [10, 20] for cell "
                          "planted-lightgcn-rlmrec_con-s1 (set at " + path3 + ":9)")) << e3;
}
