// Whether a finished run learned (results.json `status: no_learning`), judged from its metrics.jsonl:
// against the untrained model's validation (evaluated once before epoch 0), and from the loss curve.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "config/run_config.hpp"

namespace recgrid::train {

// The key of the untrained model's evaluation on the first evaluated line of metrics.jsonl:
// {"untrained": {"valid": {...}, "eval_time_s": s}}.
inline constexpr const char* kUntrainedKey = "untrained";

// Why a run did not learn (empty: it learned), from its metrics.jsonl lines (every evaluation, across
// resumes; lines without "loss" or "valid" are ignored):
// - its best validation Recall@20 is not above the untrained model's (any number of evaluations). A run
//   whose best is epoch 0 but above the untrained model learned. Without an untrained evaluation (run
//   folders from before it existed) the old rule: the best is the first evaluation (3 evaluations or more);
// - a `*.bpr` loss term (or, when a row has none, e.g. AlphaRec's preset with bpr_weight 0, the total
//   loss) never moved 1 % away from its first evaluated value over all evaluations (3 or more): a curve
//   that goes down and comes back (U-shaped) moved.
std::vector<std::string> no_learning_reasons(const std::vector<nlohmann::json>& metrics_lines);

// The lines of a metrics.jsonl (a torn last line from a kill is skipped).
std::vector<nlohmann::json> read_metrics_lines(const std::string& path);

// What to try, for the warning: the general advice, and for an IRLLRec with the REF propagation
// (intent_propagation: embeddings, pair_weight > 0; the irllrec-ref preset) the two switches that make
// such a run learn (plugins/enhancers/irllrec/README.md, "When irllrec-ref does not learn").
std::string no_learning_advice(const config::RunConfig& config);

}  // namespace recgrid::train
