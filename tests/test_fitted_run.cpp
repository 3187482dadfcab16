// The host's run of a fitted base model (abi.h rg_fitted_model_api, core/src/train/fitted_run.cpp):
// no SGD loop, one evaluation through the evaluator's tiles, the usual run folder; a fitted model
// with enhancers is refused by `recgrid run` and left out of a grid, which says so.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "data/synthetic.hpp"
#include "eval/evaluator.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace recgrid;

namespace {

std::string fresh_dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/fitted_" + name;
  fs::remove_all(d);
  return d;
}

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> lines;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

const char* const kSmall = " --no-progress --set dataset.synthetic.users=300 --set dataset.synthetic.items=250 "
                           "--set dataset.synthetic.interactions_per_user=8";

}  // namespace

TEST(FittedRun, WritesTheRunFolderWithOneEvaluationAndNoSgd) {
  const std::string out = fresh_dir("mostpop");
  const auto r = test::run_cli("run --out " + out + kSmall + " --set model.name=mostpop");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"config.yaml", "log.txt", "metrics.jsonl", "results.json", "fitted.pt"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  EXPECT_FALSE(fs::exists(out + "/checkpoint.pt"));
  const json results = read_json(out + "/results.json");
  EXPECT_EQ(results["status"], "ok");
  EXPECT_EQ(results["stopped_by"], "fitted");
  EXPECT_EQ(results["epochs_run"], 1);
  EXPECT_TRUE(results["test"].contains("recall@20"));
  const auto lines = read_jsonl(out + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["valid"], results["valid"]);
  // --resume of a finished fitted run keeps it; a second run without it is refused.
  EXPECT_EQ(test::run_cli("run --out " + out + kSmall + " --set model.name=mostpop --resume").code, 0);
  EXPECT_NE(test::run_cli("run --out " + out + kSmall + " --set model.name=mostpop").code, 0);
}

TEST(FittedRun, AnIterativeFitReportsItsSweepsAsEpochs) {
  const std::string out = fresh_dir("ials");
  const auto r = test::run_cli("run --out " + out + kSmall + " --set model.name=ials --set model.iterations=4 --set model.factors=8");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto lines = read_jsonl(out + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 4u);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(lines[k]["epoch"], k);
    if (k > 0) EXPECT_LT(lines[k]["loss"]["total"].get<double>(), lines[k - 1]["loss"]["total"].get<double>());
  }
  EXPECT_TRUE(lines[3].contains("valid"));
  EXPECT_EQ(read_json(out + "/results.json")["epochs_run"], 4);
}

TEST(FittedRun, AFittedModelWithAnEnhancerIsRefusedNamingThePair) {
  const std::string out = fresh_dir("refused");
  const auto r = test::run_cli("run --out " + out + kSmall + " --set model.name=ease --set enhancers=[rlmrec_con]");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("'ease' is a fitted model"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rlmrec_con"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out + "/results.json"));
}

TEST(FittedRun, AGridRunsTheFittedModelsBaseRowsAndSaysWhichPairsItLeftOut) {
  const std::string grid = ::testing::TempDir() + "/fitted_grid.yaml", out = fresh_dir("grid");
  std::ofstream(grid) << "grid:\n  name: fitted-grid\n  datasets: [planted]\n  models: [mostpop, lightgcn]\n"
                         "  enhancers: [none, kar]\n  seeds: [1]\n"
                         "dataset:\n  synthetic: {users: 300, items: 250, interactions_per_user: 8}\n"
                         "train: {epochs: 2, batch_size: 256}\n";
  const auto r = test::run_cli("run " + grid + " --no-progress --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("1 cell(s) pair a fitted model with enhancers"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mostpop is a fitted model and takes no enhancer (kar)"), std::string::npos) << r.output;
  size_t cells = 0;
  for (const auto& e : fs::directory_iterator(out + "/cells")) cells += fs::exists(e.path() / "results.json");
  EXPECT_EQ(cells, 3u);  // mostpop, lightgcn, lightgcn + kar
}

// The tile scorer is the evaluator's only scoring path: a scorer that returns the dot products of the
// embeddings tile by tile gives run()'s metrics exactly.
TEST(FittedRun, TheEvaluatorsTileScorerGivesTheEmbeddingMetricsExactly) {
  data::SynthOptions so;
  so.users = 200, so.items = 150, so.interactions_per_user = 6;
  const data::Dataset ds = data::generate_synthetic(so).dataset;
  at::manual_seed(3);
  const at::Tensor user = at::randn({ds.n_users, 8}), item = at::randn({ds.n_items, 8});
  const eval::Evaluator ev(ds, ds.valid, {5, 20}, 64, 40);
  const auto by_embeddings = ev.run([&] { return eval::Embeddings{user, item}; });
  const auto by_tiles = ev.run_scorer([&](const at::Tensor& users) -> eval::TileFn {
    const at::Tensor rows = user.index_select(0, users);
    return [rows, &item](int64_t r_lo, int64_t m, int64_t lo, int64_t n) {
      return rows.narrow(0, r_lo, m).mm(item.narrow(0, lo, n).t());
    };
  });
  EXPECT_EQ(by_tiles, by_embeddings);
  const auto reversed = ev.run_scorer([&](const at::Tensor& users) -> eval::TileFn {  // a scorer that differs
    const at::Tensor rows = user.index_select(0, users);
    return [rows, &item](int64_t r_lo, int64_t m, int64_t lo, int64_t n) {
      return -rows.narrow(0, r_lo, m).mm(item.narrow(0, lo, n).t());
    };
  });
  EXPECT_NE(reversed, by_embeddings);
}
