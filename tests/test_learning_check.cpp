// "Did not learn" (results.json status: no_learning) judged against the untrained model's validation:
// each rule on hand-written metrics.jsonl curves, and end to end: the untrained evaluation is recorded
// (also across a stop inside epoch 0) and changes no later number.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "train/learning_check.hpp"

using nlohmann::json;
using recgrid::train::no_learning_reasons;

namespace {

// One evaluated epoch's line: validation Recall@20 and loss terms.
json eval_line(int epoch, double recall, const json& loss) {
  return {{"epoch", epoch}, {"valid", {{"recall@20", recall}}}, {"loss", loss}};
}

// A curve of evaluations (epochs 0, 1, ...) with a BPR term; the untrained Recall@20 on the first line
// when `untrained` >= 0.
std::vector<json> curve(const std::vector<double>& recall, const std::vector<double>& bpr, double untrained) {
  std::vector<json> lines;
  for (size_t i = 0; i < recall.size(); ++i)
    lines.push_back(eval_line(static_cast<int>(i), recall[i], {{"lightgcn.bpr", bpr[i]}, {"total", bpr[i] + 0.01}}));
  if (untrained >= 0) lines.front()["untrained"] = {{"valid", {{"recall@20", untrained}}}, {"eval_time_s", 0.1}};
  return lines;
}

std::string joined(const std::vector<std::string>& reasons) {
  std::string s;
  for (const auto& r : reasons) s += r + "; ";
  return s;
}

}  // namespace

// The case: large data, thousands of steps an epoch, the best is epoch 0 and then it overfits.
// It learned in epoch 0 (above the untrained model); the old rule (best = first evaluation) flagged it.
TEST(LearningCheck, ARunThatLearnedInEpochZeroIsNotFlagged) {
  const auto lines = curve({0.30, 0.28, 0.25, 0.22, 0.20}, {0.40, 0.30, 0.25, 0.21, 0.18}, 0.012);
  EXPECT_TRUE(no_learning_reasons(lines).empty()) << joined(no_learning_reasons(lines));
}

TEST(LearningCheck, ARunNeverAboveTheUntrainedModelIsFlaggedWhateverItsLength) {
  // Two evaluations (too few for the loss rule), both at or below the untrained model's 0.021.
  const auto two = curve({0.021, 0.005}, {0.6918, 0.6906}, 0.021);
  const auto reasons = no_learning_reasons(two);
  ASSERT_EQ(reasons.size(), 1u) << joined(reasons);
  EXPECT_NE(reasons[0].find("is not above the untrained model's (0.0210"), std::string::npos) << reasons[0];
  // Best at epoch 2, yet below the untrained model: flagged too.
  const auto later = curve({0.010, 0.011, 0.015, 0.012}, {0.60, 0.50, 0.40, 0.35}, 0.020);
  EXPECT_EQ(no_learning_reasons(later).size(), 1u) << joined(no_learning_reasons(later));
}

// Run folders from before the untrained evaluation: the old rule (best = first of 3 or more).
TEST(LearningCheck, WithoutAnUntrainedEvaluationTheFirstEvaluationRuleStays) {
  const auto old = curve({0.30, 0.28, 0.25}, {0.40, 0.30, 0.25}, -1);
  const auto reasons = no_learning_reasons(old);
  ASSERT_EQ(reasons.size(), 1u) << joined(reasons);
  EXPECT_NE(reasons[0].find("is the first evaluation's (epoch 0)"), std::string::npos) << reasons[0];
  EXPECT_TRUE(no_learning_reasons(curve({0.30, 0.28}, {0.40, 0.30}, -1)).empty());  // too short to judge
}

TEST(LearningCheck, ABprTermThatNeverMovedIsFlaggedAndAUShapedOneIsNot) {
  // 0.6918 -> 0.6906: within 1 % throughout.
  const auto flat = curve({0.05, 0.06, 0.07}, {0.6918, 0.6912, 0.6906}, 0.01);
  const auto reasons = no_learning_reasons(flat);
  ASSERT_EQ(reasons.size(), 1u) << joined(reasons);
  EXPECT_NE(reasons[0].find("lightgcn.bpr stayed at its starting value (0.6918 at epoch 0, 0.6906 at epoch 2"),
            std::string::npos)
      << reasons[0];
  // Down to 0.45 and back up to its starting value: it moved (the old first-vs-last rule flagged it).
  const auto u_shaped = curve({0.05, 0.06, 0.07, 0.065}, {0.69, 0.50, 0.45, 0.6905}, 0.01);
  EXPECT_TRUE(no_learning_reasons(u_shaped).empty()) << joined(no_learning_reasons(u_shaped));
}

// AlphaRec's preset sets bpr_weight 0: no BPR term (or one that is 0 throughout); the total loss is the curve.
TEST(LearningCheck, RowsWithoutABprTermAreJudgedOnTheTotalLoss) {
  std::vector<json> flat, moving, zero_bpr;
  for (int e = 0; e < 4; ++e) {
    flat.push_back(eval_line(e, 0.1 + 0.01 * e, {{"alpharec.infonce", 5.0 - 0.001 * e}, {"total", 5.0 - 0.001 * e}}));
    moving.push_back(eval_line(e, 0.1 + 0.01 * e, {{"alpharec.infonce", 5.0 - 0.5 * e}, {"total", 5.0 - 0.5 * e}}));
    zero_bpr.push_back(eval_line(e, 0.1 + 0.01 * e, {{"lightgcn.bpr", 0.0}, {"total", 5.0 - 0.001 * e}}));
  }
  for (auto* lines : {&flat, &moving, &zero_bpr})
    lines->front()["untrained"] = {{"valid", {{"recall@20", 0.01}}}};
  for (const auto* lines : {&flat, &zero_bpr}) {
    const auto reasons = no_learning_reasons(*lines);
    ASSERT_EQ(reasons.size(), 1u) << joined(reasons);
    EXPECT_NE(reasons[0].find("the total loss (no BPR term) stayed at its starting value"), std::string::npos)
        << reasons[0];
  }
  EXPECT_TRUE(no_learning_reasons(moving).empty()) << joined(no_learning_reasons(moving));
}

TEST(LearningCheck, TheAdviceForAnIrllrecWithTheRefPropagationNamesItsTwoSwitches) {
  recgrid::config::RunConfig cfg;
  cfg.enhancers.push_back({"irllrec", {{"intent_propagation", "embeddings"}, {"pair_weight", 0.02}}});
  const std::string advice = recgrid::train::no_learning_advice(cfg);
  EXPECT_NE(advice.find("enhancer.irllrec.intent_propagation=intents"), std::string::npos) << advice;
  EXPECT_NE(advice.find("enhancer.irllrec.pair_weight=0"), std::string::npos) << advice;
  cfg.enhancers[0].options["intent_propagation"] = "intents";  // the paper's propagation: the general advice
  EXPECT_EQ(recgrid::train::no_learning_advice(cfg).find("pair_weight=0"), std::string::npos);
}

namespace {

namespace fs = std::filesystem;

const char* const kSmallPlanted =
    " --no-progress --set dataset.synthetic.users=400 --set dataset.synthetic.items=300"
    " --set dataset.synthetic.intents=8 --set train.batch_size=512 --set train.epochs=3 --set train.test_step=1";

std::vector<json> metrics_of(const std::string& dir) {
  std::vector<json> lines;
  std::ifstream f(dir + "/metrics.jsonl");
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

// Every number of a metrics.jsonl except the times.
std::string without_times(std::vector<json> lines) {
  std::string s;
  for (json& m : lines) {
    m.erase("train_time_s");
    m.erase("eval_time_s");
    if (m.contains("untrained")) m["untrained"].erase("eval_time_s");
    s += m.dump() + "\n";
  }
  return s;
}

}  // namespace

// The untrained evaluation sits on epoch 0's line, survives a stop inside epoch 0 (checkpoint.pt keeps
// it until that line is written), and the resumed run's numbers equal the uninterrupted run's.
TEST(LearningCheck, TheUntrainedEvaluationIsRecordedAcrossAStopInsideEpochZero) {
  const std::string base = ::testing::TempDir() + "/learning_check";
  fs::remove_all(base);
  const std::string straight = base + "/straight", stopped = base + "/stopped";
  ASSERT_EQ(recgrid::test::run_cli("run --out " + straight + kSmallPlanted).code, 0);
  const auto lines = metrics_of(straight);
  ASSERT_EQ(lines.size(), 3u);
  ASSERT_TRUE(lines[0].contains("untrained")) << lines[0].dump();
  EXPECT_TRUE(lines[0]["untrained"]["valid"].contains("recall@20")) << lines[0].dump();
  EXPECT_FALSE(lines[1].contains("untrained"));
  EXPECT_EQ(json::parse(recgrid::read_text_for_test(straight + "/results.json"))["status"], "ok");

  const auto first = recgrid::test::run_cli("run --out " + stopped + kSmallPlanted, "RECGRID_SIGNAL_AT=0:1");
  ASSERT_EQ(first.code, 4) << first.output;
  ASSERT_EQ(recgrid::test::run_cli("run --out " + stopped + kSmallPlanted + " --resume").code, 0);
  EXPECT_EQ(without_times(metrics_of(stopped)), without_times(lines));
}
