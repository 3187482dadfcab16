#include "grid/search_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "config/config.hpp"
#include "util/hash.hpp"
#include "util/random.hpp"

namespace recgrid::grid {

using config::ConfigError;

namespace {

int line_of(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

const std::vector<std::string> kBlockKeys = {"method", "trials", "epochs", "min_epochs", "reduction", "metric",
                                             "seed", "include_configured", "horizon_factor", "space"};
const std::vector<std::string> kKinds = {"choice", "uniform", "log_uniform", "int"};

class SearchReader {
 public:
  SearchReader(const std::string& file) : file_(file) {}

  [[noreturn]] void fail(const YAML::Node& n, const std::string& what) const {
    throw ConfigError(config::Origin{file_, line_of(n)}.str() + ": " + what);
  }

  // An integer in [least, most] (most: far above any real search, so that a slip fails here rather
  // than as millions of trial folders).
  int64_t integer(const YAML::Node& n, const std::string& key, int64_t least, int64_t most = 1000000) const {
    int64_t v = 0;
    try {
      v = n.as<int64_t>();
    } catch (const YAML::Exception&) {
      fail(n, "search." + key + " expects an integer");
    }
    if (v < least || v > most)
      fail(n, "search." + key + " must be in [" + std::to_string(least) + ", " + std::to_string(most) + "]");
    return v;
  }

  double number(const YAML::Node& n, const std::string& what) const {
    try {
      if (n.IsScalar()) return n.as<double>();
    } catch (const YAML::Exception&) {
    }
    fail(n, what + " expects a number");
  }

  // KEY: {KIND: ARGS}
  SearchDimension dimension(const YAML::Node& key, const YAML::Node& spec) const {
    SearchDimension d;
    d.key = key.as<std::string>();
    d.line = line_of(key);
    const std::string what = "search.space." + d.key;
    if (!spec.IsMap() || spec.size() != 1)
      fail(spec, what + " expects one of {choice: [values]}, {uniform: [low, high]}, {log_uniform: [low, high]}, "
                        "{int: [low, high]}");
    d.kind = spec.begin()->first.as<std::string>();
    const YAML::Node args = spec.begin()->second;
    if (std::find(kKinds.begin(), kKinds.end(), d.kind) == kKinds.end())
      fail(spec.begin()->first, what + ": unknown kind '" + d.kind + "'; did you mean '" + config::closest_of(d.kind, kKinds) + "'?");
    if (d.kind == "choice") {
      if (!args.IsSequence() || args.size() == 0) fail(args, what + ": choice expects a non-empty list of values");
      for (const YAML::Node& v : args) d.choices.push_back(YAML::Dump(v));
      return d;
    }
    if (!args.IsSequence() || args.size() != 2) fail(args, what + ": " + d.kind + " expects [low, high]");
    d.low = number(args[0], what + "'s low");
    d.high = number(args[1], what + "'s high");
    if (!(d.low < d.high) && !(d.kind == "int" && d.low == d.high)) fail(args, what + ": needs low < high");
    if (d.kind == "log_uniform" && d.low <= 0) fail(args, what + ": log_uniform needs 0 < low");
    if (d.kind == "int" && (d.low != std::floor(d.low) || d.high != std::floor(d.high)))
      fail(args, what + ": int expects whole numbers");
    if (!std::isfinite(d.low) || !std::isfinite(d.high) || std::abs(d.low) > 0x1p53 || std::abs(d.high) > 0x1p53)
      fail(args, what + ": low and high must be finite numbers within ±2^53");
    return d;
  }

 private:
  std::string file_;
};

void check_block_keys(const SearchReader& r, const YAML::Node& node) {
  for (const auto& kv : node) {
    const std::string k = kv.first.as<std::string>();
    if (std::find(kBlockKeys.begin(), kBlockKeys.end(), k) == kBlockKeys.end())
      r.fail(kv.first, "unknown key 'search." + k + "'; did you mean 'search." + config::closest_of(k, kBlockKeys) + "'?");
  }
}

// horizon_factor: only with epochs: auto, at least 1 (a horizon before trial 0's best epoch would cut
// every row short).
void read_horizon(const SearchReader& r, const YAML::Node& node, SearchSpec& s) {
  if (!node["horizon_factor"]) return;
  if (!s.auto_epochs) r.fail(node["horizon_factor"], "search.horizon_factor goes with epochs: auto (a fixed epochs has no horizon to scale)");
  s.horizon_factor = r.number(node["horizon_factor"], "search.horizon_factor");
  if (!(s.horizon_factor >= 1.0 && s.horizon_factor <= 100.0))
    r.fail(node["horizon_factor"], "search.horizon_factor must be in [1, 100]: the horizon is this many times trial 0's epochs to its best");
}

void read_method(const SearchReader& r, const YAML::Node& node, SearchSpec& s) {
  if (node["method"]) s.method = node["method"].as<std::string>();
  if (s.method != "random" && s.method != "halving")
    r.fail(node["method"], "search.method is random or halving (successive halving over epochs), not '" + s.method + "'");
  if (node["trials"]) s.trials = static_cast<int>(r.integer(node["trials"], "trials", 1, 10000));
  if (!node["epochs"]) r.fail(node, "search.epochs is required: the most epochs one trial trains, or auto");
  s.auto_epochs = node["epochs"].IsScalar() && node["epochs"].Scalar() == "auto";
  if (!s.auto_epochs) s.epochs = static_cast<int>(r.integer(node["epochs"], "epochs (a number or auto)", 1));
  if (node["reduction"]) s.reduction = static_cast<int>(r.integer(node["reduction"], "reduction", 2));
  if (node["min_epochs"]) s.min_epochs = static_cast<int>(r.integer(node["min_epochs"], "min_epochs", 1));
  s.min_epochs_given = node["min_epochs"].IsDefined();
  if (!s.auto_epochs && s.min_epochs > s.epochs) r.fail(node["min_epochs"], "search.min_epochs must not exceed search.epochs");
  if (!s.auto_epochs && s.min_epochs == 0) s.min_epochs = std::max(1, s.epochs / (s.reduction * s.reduction));
  read_horizon(r, node, s);
  if (node["seed"]) s.seed = static_cast<uint64_t>(r.integer(node["seed"], "seed", 0, INT64_MAX));
  if (node["include_configured"]) {
    try {
      s.include_configured = node["include_configured"].as<bool>();
    } catch (const YAML::Exception&) {
      r.fail(node["include_configured"], "search.include_configured expects true or false");
    }
  }
  if (s.auto_epochs && node["include_configured"] && !s.include_configured)
    r.fail(node["include_configured"], "search.epochs: auto measures the horizon on trial 0's configured values: "
                                       "include_configured must be true (its default with auto)");
  s.include_configured = s.include_configured || s.auto_epochs;
  if (node["metric"]) s.metric = node["metric"].as<std::string>();
  const size_t at = s.metric.find('@');
  const std::string name = s.metric.substr(0, at);
  if (at == std::string::npos || (name != "recall" && name != "ndcg") ||
      s.metric.find_first_not_of("0123456789", at + 1) != std::string::npos || at + 1 == s.metric.size())
    r.fail(node["metric"], "search.metric is recall@K or ndcg@K (on validation; K one of train.topk), not '" + s.metric + "'");
}

}  // namespace

SearchSpec read_search(const YAML::Node& node, const std::string& file) {
  const SearchReader r(file);
  if (!node.IsMap()) r.fail(node, "search: expects a mapping (method, trials, epochs, space, ...)");
  check_block_keys(r, node);
  SearchSpec s;
  s.enabled = true;
  s.file = file;
  s.line = line_of(node);
  read_method(r, node, s);
  if (!node["space"] || !node["space"].IsMap() || node["space"].size() == 0)
    r.fail(node["space"] ? node["space"] : node, "search.space expects a mapping {dotted.key: {kind: args}}");
  for (const auto& kv : node["space"]) s.space.push_back(r.dimension(kv.first, kv.second));
  return s;
}

int SearchSpec::horizon_for(int latest_best_epoch) const {
  return std::max(1, static_cast<int>(std::ceil(horizon_factor * (latest_best_epoch + 1) - 1e-9)));
}

SearchSpec SearchSpec::with_horizon(int horizon) const {
  SearchSpec s = *this;
  s.epochs = horizon;
  if (!min_epochs_given) s.min_epochs = std::max(1, horizon / (reduction * reduction));
  s.min_epochs = std::min(s.min_epochs, horizon);
  return s;
}

std::vector<int> SearchSpec::rungs() const {
  if (epochs == 0) return {};  // auto, before the horizon is known
  if (method == "random") return {epochs};
  std::vector<int> r;
  for (int64_t e = min_epochs; e < epochs; e *= reduction) r.push_back(static_cast<int>(e));
  r.push_back(epochs);
  return r;
}

int SearchSpec::trials_at_rung(size_t k) const {
  int n = trials;
  for (size_t j = 0; j < k; ++j) n = std::max(1, n / reduction);
  return n;
}

std::string draw_value(const SearchDimension& d, double u) {
  char buf[32];
  if (d.kind == "choice") {
    const size_t k = std::min(d.choices.size() - 1, static_cast<size_t>(u * static_cast<double>(d.choices.size())));
    return d.choices[k];
  }
  if (d.kind == "int") {
    const double span = d.high - d.low + 1;
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d.low + std::min(span - 1, std::floor(u * span))));
    return buf;
  }
  const double v = d.kind == "uniform" ? d.low + u * (d.high - d.low)
                                       : std::exp(std::log(d.low) + u * (std::log(d.high) - std::log(d.low)));
  std::snprintf(buf, sizeof buf, "%.4g", v);
  std::string text = buf;
  // "1e-05" reads as a string in YAML 1.2 core; "1.0e-05" reads as a float everywhere.
  const size_t e = text.find('e');
  if (e != std::string::npos && text.find('.') == std::string::npos) text.insert(e, ".0");
  return text;
}

std::vector<std::string> SearchSpec::values_of(int trial) const {
  std::vector<std::string> out;
  for (const SearchDimension& d : space) {
    const uint64_t stream = std::stoull(fnv1a64_hex(d.key), nullptr, 16);
    const uint64_t bits = derive_seed(seed, stream, static_cast<uint64_t>(trial));
    out.push_back(draw_value(d, static_cast<double>(bits >> 11) * 0x1.0p-53));
  }
  return out;
}

std::string SearchSpec::where(int at_line) const { return config::Origin{file, at_line}.str(); }

}  // namespace recgrid::grid
