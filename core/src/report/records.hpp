// The records of a grid, grouped as the report's tables read them: one Setting per (dataset, base
// model, row) with a record per seed.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace recgrid::report {

struct Setting {
  std::string dataset, model, row;      // row: the enhancer stack ("none" = the base model) [+ sweep]
  std::string reference_key;            // model[+enhancer plugin...], as reference tables name rows
  std::map<std::string, nlohmann::json> by_seed;  // seed -> record
};

struct Grouped {
  std::vector<std::string> datasets, models;
  std::map<std::string, std::vector<std::string>> rows_of_model;  // model -> row labels, "none" first
  std::map<std::tuple<std::string, std::string, std::string>, Setting> settings;
};

Grouped group(const std::vector<nlohmann::json>& records);
// Whether `model`'s records come from a fitted model (a baseline: `stopped_by: fitted`).
bool is_baseline(const Grouped& g, const std::string& model);

// r[key], or an empty object when r has no such key (a reference, safe to iterate).
const nlohmann::json& field(const nlohmann::json& r, const char* key);

double metric_of(const nlohmann::json& record, const std::string& split, const std::string& metric);

// A record that is a result: not diverged, and not flagged as a run that never learned.
bool is_result(const nlohmann::json& record);

// The seeds' values of the records that are results (flagged ones are listed apart, never averaged).
std::vector<double> values(const Setting& s, const std::string& split, const std::string& metric);

// The Setting of (dataset, model, row), or nullptr.
const Setting* find_setting(const Grouped& g, const std::string& dataset, const std::string& model, const std::string& row);

// A base model's own row ("none", or "none [sweep values]").
bool is_base_row(const std::string& row);
// The base row `row` is compared with: "none" with the same sweep values when the group has it, else
// the group's first row.
std::string base_row_of(const std::vector<std::string>& rows, const std::string& row);

// The run folder of a record in a grid folder.
std::string run_folder(const std::string& run_dir, const nlohmann::json& record);

}  // namespace recgrid::report
