// The irllrec-ref collapse of issue 29 (plugins/enhancers/irllrec/README.md, "When irllrec-ref does not
// learn"), reproduced on planted data whose text tables disagree with the interactions: the tables'
// rows are permuted (each user and item gets another's text; every statistic of the tables is kept).
// There irllrec-ref on LightGCN stays near the untrained model's Recall@20 while the same stack with
// `intent_propagation: intents` learns, as on the held-out real data set of the issue; with the
// tables in their own rows irllrec-ref learns too (so it is the disagreement, not the data).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/npy.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using recgrid::test::run_cli;

// The table with row r taking row (7919 r + shift) mod n (a permutation: 7919 is prime and does not
// divide n here), as bench/permute-npy-rows.py does.
void permute_rows(const std::string& in, const std::string& out, int64_t shift) {
  const recgrid::data::FloatTable t = recgrid::data::read_table_npy(in);
  ASSERT_NE(t.rows % 7919, 0);
  recgrid::data::FloatTable p = t;
  for (int64_t r = 0; r < t.rows; ++r)
    std::copy_n(t.values.begin() + ((7919 * r + shift) % t.rows) * t.cols, t.cols, p.values.begin() + r * t.cols);
  recgrid::data::write_table_npy(out, p);
}

// Validation Recall@20 of each evaluated epoch of an irllrec-ref run on the data in DIR.
std::vector<double> recall_curve(const std::string& base, const std::string& dir, const std::string& name,
                                 const std::string& extra) {
  const std::string out = base + "/" + name;
  const auto r = run_cli("run --no-progress --out " + out + " --set extends.model=lightgcn --set extends.enhancers=irllrec-ref" +
                         " --set dataset.format=tsv --set dataset.path=" + dir + " --set dataset.text_dir=" + dir +
                         " --set dataset.text.profile_user=profile_user.npy --set dataset.text.profile_item=profile_item.npy"
                         " --set dataset.text.intent_user=intent_user.npy --set dataset.text.intent_item=intent_item.npy"
                         " --set train.epochs=13 --set train.test_step=3 --set train.patience=100 --set train.threads=1 " +
                         extra);
  EXPECT_EQ(r.code, 0) << r.output;
  std::vector<double> curve;
  std::ifstream f(out + "/metrics.jsonl");
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) curve.push_back(json::parse(line)["valid"]["recall@20"].get<double>());
  return curve;
}

}  // namespace

TEST(IrllrecRef, CollapsesWhenTheTextDisagreesWithTheInteractionsAndIntentPropagationLearns) {
  const std::string base = ::testing::TempDir() + "/irllrec_ref_collapse";
  fs::remove_all(base);
  const std::string own = base + "/own", permuted = base + "/permuted";
  // 2,000 users x 2,000 items, 24 intents (the built-in data's), ~6 interactions a user.
  ASSERT_EQ(run_cli("synth --out " + own + " --users 2000 --items 2000 --intents 24").code, 0);
  fs::create_directories(permuted);
  for (const char* split : {"train.tsv", "valid.tsv", "test.tsv"}) fs::copy_file(own + "/" + split, permuted + "/" + split);
  for (const char* table : {"profile_user", "profile_item", "intent_user", "intent_item"})
    permute_rows(own + "/" + table + ".npy", permuted + "/" + table + ".npy", 29);

  const auto ref = recall_curve(base, permuted, "ref", "");
  const auto intents = recall_curve(base, permuted, "intents", "--set enhancer.irllrec.intent_propagation=intents");
  const auto ref_own = recall_curve(base, own, "ref_own", "");
  ASSERT_EQ(ref.size(), 5u);
  ASSERT_EQ(intents.size(), 5u);
  ASSERT_EQ(ref_own.size(), 5u);
  // Measured (1 thread): irllrec-ref 0.0165 0.0240 0.0290 0.0295 0.0255 at epochs 0-12; with
  // intent_propagation: intents 0.0160 -> 0.1435; irllrec-ref on the tables in their own rows 0.0198
  // -> 0.3300.
  EXPECT_LT(ref.back(), 0.04);
  EXPECT_LT(ref.back(), *std::max_element(ref.begin(), ref.end()));  // falling again after its peak
  EXPECT_GT(intents.back(), 0.08);
  EXPECT_GT(intents.back(), 4 * ref.back());
  EXPECT_GT(ref_own.back(), 0.08);
}
