#include "report/records.hpp"

#include <algorithm>
#include <cmath>

namespace recgrid::report {

using nlohmann::json;

namespace {

std::string axis_or(const json& r, const char* axis, const std::string& fallback) {
  if (r.contains("axes") && r["axes"].contains(axis)) return r["axes"][axis].get<std::string>();
  return fallback;
}

std::string seed_of(const json& r) {
  if (r.contains("axes") && r["axes"].contains("seed")) return r["axes"]["seed"].get<std::string>();
  return r.contains("seed") ? r["seed"].dump() : "0";
}

}  // namespace

// r[key], or an empty object/array when r has no such key (a reference, safe to iterate).
const json& field(const json& r, const char* key) {
  static const json empty_object = json::object();
  return r.contains(key) ? r[key] : empty_object;
}

// A fitted model's records say `stopped_by: fitted` (abi.h rg_fitted_model_api: the baselines).
bool is_baseline(const Grouped& g, const std::string& model) {
  for (const auto& [key, s] : g.settings)
    if (std::get<1>(key) == model)
      for (const auto& [seed, r] : s.by_seed)
        if (r.contains("stopped_by") && r["stopped_by"] == "fitted") return true;
  return false;
}

Grouped group(const std::vector<json>& records) {
  Grouped g;
  auto add_unique = [](std::vector<std::string>& v, const std::string& s) {
    if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
  };
  for (const json& r : records) {
    const std::string dataset = axis_or(r, "dataset", r.value("dataset", std::string("dataset")));
    const std::string model = axis_or(r, "model", r.value("model", std::string("model")));
    std::string plugins;
    for (const auto& e : field(r, "enhancers")) plugins += (plugins.empty() ? "" : "+") + e.get<std::string>();
    std::string row = axis_or(r, "enhancers", plugins.empty() ? "none" : plugins);
    std::string sweep;
    for (const auto& [axis, value] : field(r, "axes").items())
      if (axis != "dataset" && axis != "model" && axis != "enhancers" && axis != "seed")
        sweep += (sweep.empty() ? "" : ", ") + axis + "=" + value.get<std::string>();
    if (!sweep.empty()) row += " [" + sweep + "]";
    add_unique(g.datasets, dataset);
    add_unique(g.models, model);
    add_unique(g.rows_of_model[model], row);
    Setting& s = g.settings[{dataset, model, row}];
    s.dataset = dataset, s.model = r.value("model", model), s.row = row;
    s.reference_key = s.model + (plugins.empty() ? "" : "+" + plugins);
    s.by_seed[seed_of(r)] = r;
  }
  for (auto& [model, rows] : g.rows_of_model)  // the base row first, the rest as they came
    std::stable_partition(rows.begin(), rows.end(), [](const std::string& r) { return r == "none" || r.rfind("none [", 0) == 0; });
  // The baselines (fitted models) first: the rows every other row is read against.
  std::stable_partition(g.models.begin(), g.models.end(), [&](const std::string& m) { return is_baseline(g, m); });
  return g;
}

double metric_of(const json& record, const std::string& split, const std::string& metric) {
  if (!record.contains(split) || !record[split].contains(metric)) return std::nan("");
  return record[split][metric].get<double>();
}

// A record that is a result: not diverged, and not flagged as a run that never learned.
bool is_result(const json& record) { return record.value("status", std::string("ok")) == "ok"; }

// The seeds' values of the records that are results (flagged ones are listed apart, never averaged).
std::vector<double> values(const Setting& s, const std::string& split, const std::string& metric) {
  std::vector<double> v;
  for (const auto& [seed, r] : s.by_seed)
    if (is_result(r)) v.push_back(metric_of(r, split, metric));
  return v;
}

bool is_base_row(const std::string& row) { return row == "none" || row.rfind("none [", 0) == 0; }

std::string base_row_of(const std::vector<std::string>& rows, const std::string& row) {
  const size_t bracket = row.find(" [");
  const std::string same_sweep = "none" + (bracket == std::string::npos ? "" : row.substr(bracket));
  if (std::find(rows.begin(), rows.end(), same_sweep) != rows.end()) return same_sweep;
  return rows.front();
}

std::string run_folder(const std::string& run_dir, const json& record) {
  return run_dir + "/cells/" + record.value("folder", std::string());
}

const Setting* find_setting(const Grouped& g, const std::string& dataset, const std::string& model, const std::string& row) {
  const auto it = g.settings.find({dataset, model, row});
  return it == g.settings.end() ? nullptr : &it->second;
}

}  // namespace recgrid::report
