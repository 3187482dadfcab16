// The resolved configuration as typed values: what the trainer reads.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace recgrid::config {

struct DatasetConfig {
  std::string name, format, path;  // path: resolved folder of the split files
  int64_t n_users = 0, n_items = 0;
  std::vector<std::pair<std::string, std::string>> text;  // input name -> resolved file path
  nlohmann::json synthetic;                                // generator settings (format synthetic)
};

struct TextConfig {
  int64_t reduce_dim = 0;  // 0 = off; else PCA of each any-width text table to this many columns
};

struct TrainConfig {
  int64_t epochs = 0, batch_size = 0, test_step = 1, patience = 1, eval_batch = 0, threads = 0;
  int64_t min_epochs = 0;    // validations before this epoch do not count toward patience
  int64_t pause_after = 0;   // > 0: stop (checkpointed, resumable) once this many epochs ran
  double lr = 0, reg_weight = 0;
  double loss_bound = 1e6;   // a loss above it (or NaN / Inf) stops the run as diverged
  std::vector<int> topk;
  uint64_t seed = 0;
  std::string device;
};

// What the final evaluation records beside Recall/NDCG (docs/METRICS.md); not part of a run's identity.
struct EvalConfig {
  std::vector<std::string> metrics;  // beyond-accuracy metrics: coverage, gini, novelty, arp
  bool per_user_valid = false;       // also write per_user_valid.tsv.gz
  int64_t user_groups = 4;           // quantile buckets of the users' training interactions
  double head_share = 0.2;           // head items hold this share of the training interactions
};

struct PluginChoice {
  std::string name;
  nlohmann::json options;  // every declared option, resolved
};

struct RunConfig {
  std::string name;
  DatasetConfig dataset;
  TextConfig text;
  TrainConfig train;
  EvalConfig eval;
  PluginChoice model;
  std::vector<PluginChoice> enhancers;  // in stacking order
};

// From a validated tree (see validate()). Relative dataset paths are resolved against dataset.root,
// itself relative to the working directory; left at its default it is resolved by
// data::resolve_data_root ($RECGRID_DATA_ROOT, the development layout, or the user's data folder).
// `where(key)`, if given, names where a key was set ("file:line"): value errors start with it.
RunConfig to_run_config(const YAML::Node& resolved,
                        const std::function<std::string(const std::string&)>& where = {});

// A YAML subtree as JSON (scalars typed by what they parse as: bool, int, float, string).
nlohmann::json to_json(const YAML::Node& node);

}  // namespace recgrid::config
