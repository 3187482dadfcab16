// Config: the layered tree - merging layers and remembering where each key was set - and the
// small text helpers around it. The layers come from layers.cpp; validation from validate.cpp.
#include "config/config.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "config/host_keys.hpp"
#include "config/yaml_files.hpp"

namespace recgrid::config {

namespace {

const char* const kDefaultsName = "<built-in defaults>";

}  // namespace

std::string without_execution_keys(const std::string& resolved_yaml) {
  YAML::Node n = YAML::Load(resolved_yaml);
  // train.pause_after is where a search pauses a trial; its later rungs resume the same run.
  for (const char* key : {"threads", "pause_after"})
    if (n["train"] && n["train"][key]) n["train"].remove(key);
  // eval.* chooses what the final evaluation records, not what is trained: a run's name and resume check
  // ignore it (and folders made before the section existed keep their names).
  if (n["eval"]) n.remove("eval");
  YAML::Emitter out;
  out << n;
  return out.c_str();
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_of(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Config: merging layers and remembering origins

Config::Config() : root_(YAML::Node(YAML::NodeType::Map)) {
  merge(parse_yaml_text(host_defaults_yaml(), kDefaultsName), kDefaultsName);
}

Config::Config(const Config& other) : root_(YAML::Clone(other.root_)), origins_(other.origins_) {}

Config& Config::operator=(const Config& other) {
  if (this != &other) {
    root_.reset(YAML::Clone(other.root_));  // reset, not =: YAML's = writes into a shared tree
    origins_ = other.origins_;
  }
  return *this;
}

void Config::record(const std::string& prefix, const YAML::Node& value, const std::string& file, int line) {
  for (auto it = origins_.lower_bound(prefix + "."); it != origins_.end() && it->first.rfind(prefix + ".", 0) == 0;)
    it = origins_.erase(it);  // the old subtree is gone
  const int here = line_of(value) ? line_of(value) : line;
  origins_[prefix] = Origin{file, here};
  if (value.IsMap())
    for (const auto& kv : value) record(join(prefix, kv.first.as<std::string>()), kv.second, file, here);
}

void Config::merge_into(YAML::Node dst, const YAML::Node& src, const std::string& prefix, const std::string& file,
                        int line) {
  if (!src.IsMap())
    throw ConfigError(Origin{file, line_of(src) ? line_of(src) : line}.str() + ": expected a mapping" +
                      (prefix.empty() ? "" : " under '" + prefix + "'"));
  for (const auto& kv : src) {
    const std::string key = kv.first.as<std::string>();
    const std::string path = join(prefix, key);
    const YAML::Node& current = static_cast<const YAML::Node&>(dst)[key];
    if (kv.second.IsMap() && current.IsDefined() && current.IsMap()) {
      origins_[path] = Origin{file, line_of(kv.first)};
      merge_into(dst[key], kv.second, path, file, line_of(kv.first));
    } else {
      dst[key] = YAML::Clone(kv.second);
      record(path, kv.second, file, line_of(kv.first) ? line_of(kv.first) : line);
    }
  }
}

void Config::merge(const YAML::Node& layer, const std::string& file) {
  if (!layer || layer.IsNull()) return;  // an empty file sets nothing
  merge_into(root_, layer, "", file, 0);
}

void Config::set(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set " + assignment + ": expected KEY=VALUE with a dotted key, e.g. train.epochs=5");
  const std::string key = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception&) {
    value = YAML::Node(assignment.substr(eq + 1));
  }
  // Build {a: {b: {c: value}}} and merge it like any other layer.
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  YAML::Node layer = value;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    YAML::Node wrap(YAML::NodeType::Map);
    wrap[*it] = layer;
    layer = wrap;
  }
  merge(layer, "--set " + key);
}

Origin Config::origin(const std::string& dotted_key) const {
  for (std::string k = dotted_key;;) {
    if (auto it = origins_.find(k); it != origins_.end()) return it->second;
    const size_t dot = k.rfind('.');
    if (dot == std::string::npos) return Origin{"<unknown>", 0};
    k = k.substr(0, dot);
  }
}

std::string Config::dump() const {
  YAML::Emitter out;
  out << root_;
  return std::string(out.c_str()) + "\n";
}

}  // namespace recgrid::config
