#include "config/run_config.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "config/config.hpp"

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

RunConfig to_run_config(const YAML::Node& r, const std::function<std::string(const std::string&)>& where) {
  const auto at = [&](const std::string& key) { return where ? where(key) + ": " : std::string(); };
  RunConfig c;
  c.name = r["name"].as<std::string>("");
  const YAML::Node d = r["dataset"];
  c.dataset.name = d["name"].as<std::string>("");
  c.dataset.format = d["format"].as<std::string>();
  if (c.dataset.format != "sslrec" && c.dataset.format != "tsv" && c.dataset.format != "synthetic")
    throw ConfigError(at("dataset.format") + "dataset.format: expected 'synthetic', 'sslrec' or 'tsv', found '" + c.dataset.format + "'");
  c.dataset.synthetic = to_json(d["synthetic"]);
  std::string root = d["root"].as<std::string>();
  if (const char* env = std::getenv("RECGRID_DATA_ROOT"); env && *env && root == "../shared/data") root = env;
  const std::string path = d["path"].as<std::string>("");
  if (path.empty() && c.dataset.format != "synthetic")
    throw ConfigError(at("dataset.path") + "dataset.path is empty: name the folder of the split files");
  c.dataset.path = fs::path(path).is_absolute() ? path : (fs::path(root) / path).string();
  // Text tables: relative to dataset.text_dir when set (tables built by `recgrid text build` live
  // outside the read-only data folder), else to the dataset folder.
  const std::string text_dir = d["text_dir"].as<std::string>("");
  const fs::path text_base = text_dir.empty() ? fs::path(c.dataset.path) : fs::path(text_dir);
  for (const auto& kv : d["text"]) {
    const std::string file = kv.second.as<std::string>();
    c.dataset.text.emplace_back(kv.first.as<std::string>(), fs::path(file).is_absolute() ? file : (text_base / file).string());
  }
  c.dataset.n_users = d["n_users"].as<int64_t>();
  c.dataset.n_items = d["n_items"].as<int64_t>();

  c.text.reduce_dim = r["text"]["reduce_dim"].as<int64_t>();

  const YAML::Node t = r["train"];
  c.train.epochs = t["epochs"].as<int64_t>();
  c.train.batch_size = t["batch_size"].as<int64_t>();
  c.train.lr = t["lr"].as<double>();
  c.train.reg_weight = t["reg_weight"].as<double>();
  c.train.test_step = t["test_step"].as<int64_t>();
  c.train.patience = t["patience"].as<int64_t>();
  c.train.eval_batch = t["eval_batch"].as<int64_t>();
  c.train.topk = t["topk"].as<std::vector<int>>();
  c.train.seed = t["seed"].as<uint64_t>();
  c.train.threads = t["threads"].as<int64_t>();
  c.train.device = t["device"].as<std::string>();
  c.train.min_epochs = t["min_epochs"].as<int64_t>();
  c.train.loss_bound = t["loss_bound"].as<double>();
  // Ranges (train.lr > 0, batch_size >= 1, ...) were checked by validate(); this one spans two keys.
  if (std::find(c.train.topk.begin(), c.train.topk.end(), 20) == c.train.topk.end())
    throw ConfigError(at("train.topk") + "train.topk must include 20: early stopping and the results use Recall@20");

  YAML::Node model = YAML::Clone(r["model"]);
  c.model.name = model["name"].as<std::string>();
  model.remove("name");
  c.model.options = to_json(model);
  for (const auto& e : r["enhancers"]) {
    const std::string n = e.as<std::string>();
    c.enhancers.push_back(PluginChoice{n, to_json(r["enhancer"][n])});
  }
  return c;
}

}  // namespace recgrid::config
