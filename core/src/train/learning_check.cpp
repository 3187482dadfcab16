#include "train/learning_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "util/files.hpp"

namespace recgrid::train {

namespace {

// A loss term stayed put when it never moved 1 % away from its first evaluated value: 0.6918 -> 0.6906
// (0.17 %, the run that never learned) against 0.692 -> 0.679 (1.9 %, a slow start).
constexpr double kStayedShare = 0.01;
// The loss rule needs a curve: with fewer evaluations a short run has not had the time to move.
constexpr size_t kLossRuleEvaluations = 3;

std::string format(const char* fmt, double a, long long b, double c, long long d) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d);
  return buf;
}

long long epoch_of(const nlohmann::json& line) { return line.value("epoch", 0LL); }

// The evaluated epochs (lines with a loss and a validation), and the untrained Recall@20 if recorded.
struct Curve {
  std::vector<const nlohmann::json*> evals;
  std::optional<double> untrained_recall;
};

Curve read_curve(const std::vector<nlohmann::json>& lines) {
  Curve c;
  for (const nlohmann::json& line : lines) {
    if (!line.is_object()) continue;
    if (line.contains(kUntrainedKey) && !c.untrained_recall) {
      const nlohmann::json& valid = line[kUntrainedKey].value("valid", nlohmann::json::object());
      if (valid.contains("recall@20")) c.untrained_recall = valid["recall@20"].get<double>();
    }
    if (line.contains("loss") && line.contains("valid") && line["valid"].contains("recall@20")) c.evals.push_back(&line);
  }
  return c;
}

// Against the untrained model when it was evaluated; else the old rule (best = first evaluation).
std::optional<std::string> recall_reason(const Curve& c) {
  if (c.evals.empty()) return std::nullopt;
  const nlohmann::json* best = c.evals.front();
  for (const nlohmann::json* e : c.evals)  // the first of equal bests, as early stopping keeps it
    if ((*e)["valid"]["recall@20"].get<double>() > (*best)["valid"]["recall@20"].get<double>()) best = e;
  const double best_recall = (*best)["valid"]["recall@20"].get<double>();
  if (c.untrained_recall) {
    if (best_recall > *c.untrained_recall) return std::nullopt;
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "the best validation Recall@20 (%.4f at epoch %lld) is not above the untrained model's (%.4f, "
                  "evaluated before epoch 0)",
                  best_recall, epoch_of(*best), *c.untrained_recall);
    return std::string(buf);
  }
  if (c.evals.size() < kLossRuleEvaluations || best != c.evals.front()) return std::nullopt;
  return "the best validation Recall@20 is the first evaluation's (epoch " + std::to_string(epoch_of(*best)) + ")";
}

// Whether `term` never left the 1 % band around its first value; empty when it moved, or when it is
// zero throughout (a term switched off by a weight of 0 is not a curve).
std::optional<std::string> stayed_reason(const Curve& c, const std::string& term, const std::string& label) {
  std::vector<std::pair<double, long long>> values;
  for (const nlohmann::json* e : c.evals)
    if ((*e)["loss"].contains(term)) values.emplace_back((*e)["loss"][term].get<double>(), epoch_of(*e));
  if (values.size() < kLossRuleEvaluations) return std::nullopt;
  if (std::all_of(values.begin(), values.end(), [](const auto& v) { return v.first == 0.0; })) return std::nullopt;
  const double a = values.front().first;
  for (const auto& [v, epoch] : values)
    if (!(std::abs(v - a) < kStayedShare * std::abs(a))) return std::nullopt;  // NaN counts as moved
  return label + format(" stayed at its starting value (%.4f at epoch %lld, %.4f at epoch %lld; within 1 %% throughout)",
                       a, values.front().second, values.back().first, values.back().second);
}

bool has_live_bpr_term(const Curve& c) {
  for (const nlohmann::json* e : c.evals)
    for (const auto& [name, v] : (*e)["loss"].items())
      if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".bpr") == 0 && v.get<double>() != 0.0) return true;
  return false;
}

}  // namespace

std::vector<std::string> no_learning_reasons(const std::vector<nlohmann::json>& metrics_lines) {
  const Curve c = read_curve(metrics_lines);
  std::vector<std::string> reasons;
  if (auto r = recall_reason(c)) reasons.push_back(*r);
  if (c.evals.empty()) return reasons;
  if (!has_live_bpr_term(c)) {  // no BPR term (or its weight is 0): the total loss is the curve
    if (auto r = stayed_reason(c, "total", "the total loss (no BPR term)")) reasons.push_back(*r);
    return reasons;
  }
  for (const auto& [name, v] : (*c.evals.front())["loss"].items()) {
    (void)v;
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".bpr") != 0) continue;
    if (auto r = stayed_reason(c, name, name)) reasons.push_back(*r);
  }
  return reasons;
}

std::vector<nlohmann::json> read_metrics_lines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  for (const std::string& line : read_lines(path)) {
    nlohmann::json m = nlohmann::json::parse(line, nullptr, false);
    if (!m.is_discarded()) lines.push_back(std::move(m));
  }
  return lines;
}

std::string no_learning_advice(const config::RunConfig& config) {
  std::string advice =
      "Try a longer train.patience or train.min_epochs (the model may start slowly), a larger train.lr, or smaller "
      "enhancer loss weights; then run again with --force";
  for (const config::PluginChoice& e : config.enhancers) {
    if (e.name != "irllrec") continue;
    const nlohmann::json& o = e.options;
    if (o.value("intent_propagation", std::string()) == "embeddings" && o.value("pair_weight", 0.0) > 0.0)
      advice += ". This IRLLRec propagates the layer embeddings under the intent mask (REF, irllrec-ref): when it "
                "does not learn, the authors' code does not either; set enhancer.irllrec.intent_propagation=intents "
                "or enhancer.irllrec.pair_weight=0, the two switches that made such a run learn "
                "(plugins/enhancers/irllrec/README.md)";
  }
  return advice;
}

}  // namespace recgrid::train
