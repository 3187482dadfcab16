// The final evaluation of a run's best parameters on one split: Recall/NDCG@K (the same numbers as an
// epoch's evaluation), the selected beyond-accuracy metrics, the user and item groups, and the per-user
// results file, all accumulated from the ranked lists as the tiled evaluation produces them.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "eval/evaluator.hpp"

namespace recgrid::eval {

struct AnalysisOptions {
  std::vector<std::string> metrics;  // beyond-accuracy metrics (beyond_accuracy_names())
  int user_groups = 4;               // quantile buckets of the users' training interactions
  double head_share = 0.2;           // head items: the most popular ones holding this share of training
  std::string per_user_path;         // "": no per-user file
};

struct FinalEvaluation {
  std::map<std::string, double> metrics;  // "recall@K", "ndcg@K", then e.g. "coverage@K", "novelty@K"
  nlohmann::json groups;                  // GroupMetrics::to_json()
};

// One evaluation pass of `ev` that hands every ranked list to its argument (Evaluator::run or run_scorer).
using EvaluationPass = std::function<std::map<std::string, double>(const RankedListFn& on_list)>;

FinalEvaluation evaluate_with_analysis(const Evaluator& ev, const data::Dataset& ds, const AnalysisOptions& o,
                                       const EvaluationPass& pass);
// The pass of a model with embeddings.
FinalEvaluation evaluate_with_analysis(const Evaluator& ev, const data::Dataset& ds, const AnalysisOptions& o,
                                       const EncodeFn& encode, bool encode_per_batch = false);

}  // namespace recgrid::eval
