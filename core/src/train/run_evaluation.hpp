// The evaluations of a run's model: each epoch's on validation, the untrained model's before epoch 0,
// and the final one of the best parameters on validation and test. Each seeds the torch generator
// from the run seed and its own stream first (random_streams.hpp), so models with random encoders
// evaluate reproducibly (and a resumed run the same).
#pragma once

#include <nlohmann/json.hpp>

#include <spdlog/logger.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "eval/evaluator.hpp"
#include "eval/final_evaluation.hpp"
#include "train/run_parts.hpp"

namespace recgrid::train {

// One evaluation of the model's current state, seeded from the run seed and `stream`.
std::map<std::string, double> evaluate(RunParts& p, const eval::Evaluator& ev, uint64_t seed, uint64_t stream);

// The untrained model on validation, once before epoch 0: what "did not learn" is judged against
// (learning_check.hpp). Its own evaluation stream; each epoch re-seeds the generator, so no later
// number changes.
nlohmann::json evaluate_untrained(RunParts& p, const config::RunConfig& cfg, spdlog::logger& log);

// The final evaluation of the best parameters on one split, as evaluate() with the same stream, plus
// the eval.* metrics, the groups and (when `per_user_file` is not empty) the per-user results file.
eval::FinalEvaluation evaluate_final(RunParts& p, const eval::Evaluator& ev, const config::RunConfig& cfg,
                                     uint64_t stream, const std::string& per_user_file);

// "R@20 0.1234 N@20 0.0567  " for each K of train.topk: the log's metrics.
std::string format_metrics(const std::map<std::string, double>& m, const std::vector<int>& ks);

}  // namespace recgrid::train
