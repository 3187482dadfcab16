#include "config/run_config.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "config/config.hpp"
#include "config/host_keys.hpp"
#include "data/data_root.hpp"

namespace recgrid::config {

namespace fs = std::filesystem;

nlohmann::json to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& kv : node) j[kv.first.as<std::string>()] = to_json(kv.second);
    return j;
  }
  if (node.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& e : node) j.push_back(to_json(e));
    return j;
  }
  if (!node.IsScalar()) return nullptr;
  const std::string s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted in the YAML: a string, whatever it looks like
  if (s == "true" || s == "True") return true;
  if (s == "false" || s == "False") return false;
  if (s == "~" || s == "null") return nullptr;
  // Integer first, then a float: separately, so a float stoll cannot read (".5") still becomes one.
  try {
    size_t used = 0;
    const long long i = std::stoll(s, &used);
    if (used == s.size()) return i;
  } catch (const std::exception&) {
  }
  try {
    size_t used = 0;
    const double d = std::stod(s, &used);
    if (used == s.size()) return d;
  } catch (const std::exception&) {
  }
  return s;
}

namespace {

// The dataset's files: the split folder against dataset.root, the text tables against
// dataset.text_dir when set (tables built by `recgrid text build` live outside the read-only data
// folder), else against the dataset folder.
void resolve_dataset_paths(const YAML::Node& d, DatasetConfig& c, const std::string& at_path) {
  const std::string root = data::resolve_data_root(d["root"].as<std::string>());
  const std::string path = d["path"].IsNull() ? "" : d["path"].as<std::string>("");
  if (path.empty() && c.format != "synthetic")
    throw ConfigError(at_path + "dataset.path is empty: name the folder of the split files");
  c.path = fs::path(path).is_absolute() ? path : (fs::path(root) / path).string();
  const std::string text_dir = d["text_dir"].IsNull() ? "" : d["text_dir"].as<std::string>("");
  const fs::path text_base = text_dir.empty() ? fs::path(c.path) : fs::path(text_dir);
  for (const auto& kv : d["text"]) {
    const std::string file = kv.second.as<std::string>();
    c.text.emplace_back(kv.first.as<std::string>(), fs::path(file).is_absolute() ? file : (text_base / file).string());
  }
  c.synthetic = to_json(d["synthetic"]);
}

// The base model and the enhancer stack, each with its resolved options.
void read_plugin_choices(const YAML::Node& r, RunConfig& c) {
  YAML::Node model = YAML::Clone(r["model"]);
  model.remove("name");
  c.model.options = to_json(model);
  for (const auto& e : r["enhancers"]) {
    const std::string n = e.as<std::string>();
    c.enhancers.push_back(PluginChoice{n, to_json(r["enhancer"][n])});
  }
}

}  // namespace

RunConfig to_run_config(const YAML::Node& r, const std::function<std::string(const std::string&)>& where) {
  const auto at = [&](const std::string& key) { return where ? where(key) + ": " : std::string(); };
  RunConfig c;
  // Types and ranges were checked by validate(); the table says where each value goes.
  for (const HostKey& k : host_keys())
    if (k.store) k.store(node_at(r, k.key), c);
  resolve_dataset_paths(r["dataset"], c.dataset, at("dataset.path"));
  // This rule spans two uses of one key: early stopping and the results read Recall@20.
  if (std::find(c.train.topk.begin(), c.train.topk.end(), 20) == c.train.topk.end())
    throw ConfigError(at("train.topk") + "train.topk must include 20: early stopping and the results use Recall@20");
  read_plugin_choices(r, c);
  return c;
}

}  // namespace recgrid::config
