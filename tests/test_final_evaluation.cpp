// The final evaluation's per-user results file, beyond-accuracy metrics and groups: in process on a
// small dataset, and end to end through `recgrid run` (per_user_test.tsv.gz beside results.json).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "config/config.hpp"
#include "eval/final_evaluation.hpp"
#include "test_support.hpp"
#include "util/line_reader.hpp"

namespace fs = std::filesystem;
using namespace recgrid;

namespace {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  double mean(const std::string& column) const {
    const size_t c = static_cast<size_t>(std::find(header.begin(), header.end(), column) - header.begin());
    EXPECT_LT(c, header.size()) << column;
    if (c >= header.size() || rows.empty()) return std::nan("");
    double s = 0;
    for (const auto& r : rows) s += r[c];
    return s / static_cast<double>(rows.size());
  }
};

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, '\t');) out.push_back(f);
  return out;
}

Table read_gz_tsv(const std::string& path) {
  Table t;
  LineReader reader(path);
  std::string line;
  if (!reader.next(line)) return t;
  t.header = split_tabs(line);
  while (reader.next(line)) {
    std::vector<double> row;
    for (const std::string& f : split_tabs(line)) row.push_back(std::stod(f));
    t.rows.push_back(row);
  }
  return t;
}

// 60 users, 97 items, 8 training / 2 valid / 2 test items each, users 50+ with fewer training items.
data::Dataset small_dataset() {
  data::Dataset ds;
  ds.n_users = 60, ds.n_items = 97;
  for (int64_t u = 0; u < ds.n_users; ++u)
    for (int k = 0; k < 12; ++k) {
      if (u >= 50 && k >= 3 && k < 8) continue;
      data::Interactions& split = k < 8 ? ds.train : k < 10 ? ds.valid : ds.test;
      split.user.push_back(u), split.item.push_back(static_cast<int64_t>((u * 7 + k * 13) % ds.n_items));
    }
  return ds;
}

}  // namespace

TEST(FinalEvaluation, PerUserFileAveragesToTheReportedMetrics) {
  const data::Dataset ds = small_dataset();
  at::manual_seed(4);
  const at::Tensor users = at::randint(-3, 4, {60, 8}, at::kFloat), items = at::randint(-3, 4, {97, 8}, at::kFloat);
  const auto encode = [&] { return eval::Embeddings{users, items}; };
  const eval::Evaluator ev(ds, ds.test, {20, 5, 1}, 16);
  const std::string path = ::testing::TempDir() + "/final_eval_per_user.tsv.gz";
  fs::remove(path);
  eval::AnalysisOptions o{{"coverage", "gini", "novelty", "arp"}, 4, 0.2, path};
  const eval::FinalEvaluation r = eval::evaluate_with_analysis(ev, ds, o, encode);

  // Recall/NDCG are the plain evaluation's numbers, bit for bit.
  for (const auto& [name, value] : ev.run(encode)) EXPECT_EQ(r.metrics.at(name), value) << name;
  for (const char* m : {"coverage@20", "gini@5", "novelty@1", "arp@20"}) EXPECT_TRUE(r.metrics.count(m)) << m;

  const Table t = read_gz_tsv(path);
  EXPECT_EQ(t.header, (std::vector<std::string>{"user", "n_train", "n_truth", "recall@1", "ndcg@1", "novelty@1",
                                                "arp@1", "recall@5", "ndcg@5", "novelty@5", "arp@5", "recall@20",
                                                "ndcg@20", "novelty@20", "arp@20"}));
  ASSERT_EQ(static_cast<int64_t>(t.rows.size()), ev.n_users());
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto u = static_cast<int64_t>(t.rows[i][0]);
    EXPECT_EQ(u, ev.users()[i]);  // ascending user
    EXPECT_EQ(t.rows[i][1], u >= 50 ? 3 : 8);
    EXPECT_EQ(t.rows[i][2], 2);
  }
  for (const std::string m : {"recall", "ndcg", "novelty", "arp"})
    for (int k : {1, 5, 20}) {
      const std::string c = m + "@" + std::to_string(k);
      EXPECT_NEAR(t.mean(c), r.metrics.at(c), 1e-12) << c;
    }
  // The user groups split the same per-user values: their user-weighted mean is the total.
  double weighted = 0, grouped = 0;
  for (const auto& b : r.groups["user_groups"]["buckets"]) {
    weighted += b["recall@20"].get<double>() * b["users"].get<double>();
    grouped += b["users"].get<double>();
  }
  EXPECT_EQ(grouped, ev.n_users());
  EXPECT_NEAR(weighted / grouped, r.metrics.at("recall@20"), 1e-12);
  EXPECT_EQ(r.groups["user_groups"]["buckets"][0]["name"], "sparse");
  // n_train: 10 users with 3, 50 with 8: every quartile position (15, 30, 45) lies in the run of 8s
  // (positions 10-59), whose only boundary is its start: one edge, 8.
  ASSERT_EQ(r.groups["user_groups"]["buckets"].size(), 2u);
  EXPECT_EQ(r.groups["user_groups"]["buckets"][0]["users"], 10);
  EXPECT_EQ(r.groups["user_groups"]["buckets"][0]["n_train_max"], 7);
  EXPECT_GT(r.metrics.at("recall@20"), 0.0);
}

TEST(FinalEvaluation, NoBeyondAccuracyMetricsWhenNoneAsked) {
  const data::Dataset ds = small_dataset();
  const at::Tensor users = at::ones({60, 2}), items = at::ones({97, 2});
  const eval::Evaluator ev(ds, ds.valid, {20}, 64);
  eval::AnalysisOptions o{{}, 4, 0.2, ""};
  const auto r = eval::evaluate_with_analysis(ev, ds, o, [&] { return eval::Embeddings{users, items}; });
  EXPECT_EQ(r.metrics.size(), 2u);  // recall@20, ndcg@20
  EXPECT_TRUE(r.groups.contains("user_groups"));  // groups are always computed
}

// A run on the planted default writes per_user_test.tsv.gz (and per_user_valid.tsv.gz when asked) for
// the best epoch: each column's mean is results.json's number.
TEST(FinalEvaluation, RunWritesPerUserFilesThatAverageToResults) {
  const std::string out = ::testing::TempDir() + "/final_eval_run";
  fs::remove_all(out);
  const test::CliResult r = test::run_cli("run --no-progress --out " + out +
                                          " --set train.epochs=4 --set eval.per_user_valid=true");
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream f(out + "/results.json");
  const nlohmann::json res = nlohmann::json::parse(f);
  for (const std::string split : {"valid", "test"}) {
    SCOPED_TRACE(split);
    const Table t = read_gz_tsv(out + "/per_user_" + split + ".tsv.gz");
    ASSERT_FALSE(t.rows.empty());
    EXPECT_EQ(t.header[0], "user");
    for (const auto& [name, value] : res[split].items()) {
      if (name.rfind("coverage", 0) == 0 || name.rfind("gini", 0) == 0) continue;  // not per user
      EXPECT_NEAR(t.mean(name), value.get<double>(), 1e-12) << name;
    }
    for (const char* m : {"coverage@20", "gini@20", "novelty@20", "arp@20"}) EXPECT_TRUE(res[split].contains(m)) << m;
    EXPECT_EQ(res["groups"][split]["user_groups"]["buckets"][0]["name"], "sparse");
    EXPECT_EQ(res["groups"][split]["item_groups"]["groups"][0]["name"], "head");
  }
}

// eval.* chooses what the final evaluation records: two configurations that differ only there are the
// same run (same grid-cell hash, --resume accepted), and folders from before the section existed too.
TEST(FinalEvaluation, EvalKeysDoNotNameARun) {
  const std::string before = "train:\n  epochs: 3\n  threads: 2\nmodel:\n  name: lightgcn\n";
  const std::string with_eval = "train:\n  epochs: 3\n  threads: 2\neval:\n  metrics: [gini]\n  per_user_valid: true\n"
                                "model:\n  name: lightgcn\n";
  EXPECT_EQ(config::without_execution_keys(with_eval), config::without_execution_keys(before));
  const std::string other = "train:\n  epochs: 4\n  threads: 2\nmodel:\n  name: lightgcn\n";
  EXPECT_NE(config::without_execution_keys(other), config::without_execution_keys(before));
}
