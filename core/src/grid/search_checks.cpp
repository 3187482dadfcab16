#include "grid/search_checks.hpp"

#include <algorithm>

#include "config/config.hpp"
#include "config/host_keys.hpp"

namespace recgrid::grid {

using config::ConfigError;

namespace {

int line_of(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

// True when one dotted key is the other or holds it (`enhancer.kar` and `enhancer.kar.fusion`).
bool overlaps(const std::string& a, const std::string& b) {
  const std::string& shorter = a.size() <= b.size() ? a : b;
  const std::string& longer = a.size() <= b.size() ? b : a;
  return longer.compare(0, shorter.size(), shorter) == 0 && (longer.size() == shorter.size() || longer[shorter.size()] == '.');
}

void check_sweep(const SearchSpec& s, const YAML::Node& sweep, const std::string& file) {
  if (!sweep || !sweep.IsMap()) return;
  for (const auto& kv : sweep) {
    const std::string swept = kv.first.as<std::string>();
    for (const SearchDimension& d : s.space)
      if (overlaps(d.key, swept))
        throw ConfigError(s.where(d.line) + ": search.space." + d.key + " is also a sweep axis (grid.sweep." + swept +
                          ", " + config::Origin{file, line_of(kv.first)}.str() +
                          "): every trial would overwrite the sweep's values, so its rows would all tune the same "
                          "setting; sweep the key or search it, not both");
  }
}

void check_sets(const SearchSpec& s, const std::vector<std::string>& sets) {
  for (const std::string& assignment : sets) {
    const std::string key = assignment.substr(0, assignment.find('='));
    for (const SearchDimension& d : s.space)
      if (overlaps(d.key, key))
        throw ConfigError("--set " + key + ": " + d.key + " is searched (" + s.where(d.line) + ": search.space." + d.key +
                          "): the search chooses its value for every row, above every layer including --set, so the "
                          "--set would be ignored; drop the --set, or the key from search.space");
  }
}

// search.metric's K against each cell's train.topk (a host key: every layer has been merged, so the
// unresolved configuration already holds its final value).
void check_metric_k(const GridSpec& spec, const YAML::Node& search_node) {
  const SearchSpec& s = spec.search;
  const int k = std::stoi(s.metric.substr(s.metric.find('@') + 1));
  const int line = search_node["metric"] ? line_of(search_node["metric"]) : s.line;
  for (const CellSpec& cell : spec.cells) {
    const YAML::Node topk = config::node_at(cell.config.root(), "train.topk");
    if (!topk.IsDefined() || !topk.IsSequence()) continue;  // validation reports a malformed train.topk
    std::vector<int> ks;
    std::string listed;
    try {
      for (const YAML::Node& v : topk) ks.push_back(v.as<int>()), listed += (listed.empty() ? "" : ", ") + v.Scalar();
    } catch (const YAML::Exception&) {
      continue;
    }
    if (std::find(ks.begin(), ks.end(), k) != ks.end()) continue;
    throw ConfigError(s.where(line) + ": search.metric " + s.metric + " needs " + std::to_string(k) +
                      " in train.topk, which is [" + listed + "] for cell " + cell.id + " (set at " +
                      cell.config.origin("train.topk").str() + "); add " + std::to_string(k) +
                      " to train.topk (it must keep 20), or choose a K it has");
  }
}

}  // namespace

void check_search_against_grid(const GridSpec& spec, const YAML::Node& root, const std::vector<std::string>& sets) {
  if (!spec.search.enabled) return;
  check_sweep(spec.search, root["grid"]["sweep"], spec.file);
  check_sets(spec.search, sets);
  check_metric_k(spec, root["search"]);
}

}  // namespace recgrid::grid
