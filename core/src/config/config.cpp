#include "config/config.hpp"

#include "config/host_keys.hpp"
#include "recgrid/option_range.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace recgrid::config {

namespace fs = std::filesystem;

namespace {

const char* const kDefaultsName = "<built-in defaults>";

YAML::Node parse_yaml_text(const std::string& text, const std::string& name) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": invalid YAML: " + e.msg);
  }
}

YAML::Node parse_yaml_file(const std::string& path) {
  if (!fs::is_regular_file(path)) throw ConfigError(path + ": no such config file");
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": invalid YAML: " + e.msg);
  }
}

int line_of(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

std::string join(const std::string& prefix, const std::string& key) { return prefix.empty() ? key : prefix + "." + key; }

}  // namespace

std::string without_execution_keys(const std::string& resolved_yaml) {
  YAML::Node n = YAML::Load(resolved_yaml);
  if (n["train"] && n["train"]["threads"]) n["train"].remove("threads");
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

// ---------------------------------------------------------------------------------------------
// Layers from files

namespace {

// configs/<kind>/<name>.yaml, searched from the experiment's folder upwards, then in ./configs.
std::string resolve_named(const std::string& value, const std::string& kind, const fs::path& experiment,
                          const Origin& where) {
  const fs::path base = experiment.parent_path();
  const bool is_path = value.find('/') != std::string::npos ||
                       (value.size() > 5 && value.compare(value.size() - 5, 5, ".yaml") == 0);
  if (is_path) {
    const fs::path p = base / value;
    if (!fs::is_regular_file(p)) throw ConfigError(where.str() + ": extends." + kind + ": no file " + p.string());
    return p.string();
  }
  for (fs::path dir = fs::absolute(base); !dir.empty(); dir = dir.parent_path()) {
    const fs::path candidate = dir / (kind + "s") / (value + ".yaml");
    if (fs::is_regular_file(candidate)) return candidate.string();
    if (fs::is_regular_file(dir / "configs" / (kind + "s") / (value + ".yaml")))
      return (dir / "configs" / (kind + "s") / (value + ".yaml")).string();
    if (dir == dir.parent_path()) break;
  }
  // Last, the working directory's configs/ (a file kept outside the repository, run from inside it).
  const fs::path here = fs::current_path() / "configs" / (kind + "s") / (value + ".yaml");
  if (fs::is_regular_file(here)) return here.string();
  throw ConfigError(where.str() + ": extends." + kind + ": no " + kind + " config named '" + value +
                    "' (looked for " + kind + "s/" + value + ".yaml above " + base.string() +
                    " and in ./configs/" + kind + "s)");
}

// An enhancer preset (configs/enhancers/NAME.yaml): first the presets it extends (a name or a list,
// in order), then its top-level keys, its for_dataset.<dataset> block, for_model.<model> and that
// block's own for_dataset.<dataset>: the most specific wins.
void merge_preset(Config& config, YAML::Node preset, const std::string& path, int depth = 0) {
  if (!preset || preset.IsNull()) return;
  if (!preset.IsMap()) throw ConfigError(path + ": expected a mapping at the top level");
  if (depth > 8) throw ConfigError(path + ": presets extend each other more than 8 levels deep (a cycle?)");
  if (YAML::Node parents = preset["extends"]) {
    const Origin where{path, line_of(parents)};
    if (!parents.IsScalar() && !parents.IsSequence())
      throw ConfigError(where.str() + ": a preset's 'extends' expects a preset name or a list of names");
    std::vector<std::string> names;
    if (parents.IsScalar()) names.push_back(parents.as<std::string>());
    for (const auto& n : parents.IsSequence() ? parents : YAML::Node()) names.push_back(n.as<std::string>());
    for (const std::string& name : names) {
      const std::string parent = resolve_named(name, "enhancer", path, where);
      merge_preset(config, parse_yaml_file(parent), parent, depth + 1);
    }
    preset.remove("extends");
  }
  auto take = [](YAML::Node node, const char* key) {
    YAML::Node block;
    if (node[key]) {
      block = YAML::Clone(node[key]);
      node.remove(key);
    }
    return block;
  };
  const YAML::Node per_dataset = take(preset, "for_dataset"), per_model = take(preset, "for_model");
  config.merge(preset, path);
  const std::string ds = config.root()["dataset"]["name"].as<std::string>("");
  const std::string model = config.root()["model"]["name"].as<std::string>("");
  if (per_dataset && per_dataset.IsMap() && per_dataset[ds]) config.merge(per_dataset[ds], path);
  if (per_model && per_model.IsMap() && per_model[model]) {
    YAML::Node block = YAML::Clone(per_model[model]);
    const YAML::Node block_per_dataset = take(block, "for_dataset");
    config.merge(block, path);
    if (block_per_dataset && block_per_dataset.IsMap() && block_per_dataset[ds])
      config.merge(block_per_dataset[ds], path);
  }
}

}  // namespace

void apply_extends(Config& config, const Extends& named, const std::string& relative_to, const Origin& where) {
  if (!named.dataset.empty()) {
    const std::string path = resolve_named(named.dataset, "dataset", relative_to, where);
    config.merge(parse_yaml_file(path), path);
  }
  if (!named.model.empty()) {
    const std::string path = resolve_named(named.model, "model", relative_to, where);
    YAML::Node model = parse_yaml_file(path);
    YAML::Node per_dataset;
    if (model && model.IsMap() && model["for_dataset"]) {
      per_dataset = YAML::Clone(model["for_dataset"]);
      model.remove("for_dataset");
    }
    config.merge(model, path);
    const std::string ds = config.root()["dataset"]["name"].as<std::string>("");
    if (per_dataset && per_dataset.IsMap() && per_dataset[ds]) config.merge(per_dataset[ds], path);
  }
  // A stack of presets: each merges in turn (later ones win on shared keys); the enhancers they
  // name run in preset order.
  std::vector<std::string> stack;
  for (const std::string& preset : named.enhancer_presets) {
    const std::string path = resolve_named(preset, "enhancer", relative_to, where);
    merge_preset(config, parse_yaml_file(path), path);
    for (const auto& e : config.root()["enhancers"]) {
      const std::string name = e.as<std::string>();
      if (std::find(stack.begin(), stack.end(), name) == stack.end()) stack.push_back(name);
    }
  }
  if (named.enhancer_presets.size() > 1) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const std::string& name : stack) list.push_back(name);
    YAML::Node layer(YAML::NodeType::Map);
    layer["enhancers"] = list;
    config.merge(layer, where.file);
  }
}

namespace {

// PRESET, none, or [PRESET, ...] (a stack): the enhancer presets an extends names.
std::vector<std::string> preset_names(const YAML::Node& n, const std::string& where) {
  std::vector<std::string> names;
  if (n.IsScalar() && n.Scalar() != "none" && !n.Scalar().empty()) names.push_back(n.Scalar());
  else if (n.IsSequence())
    for (const auto& e : n) names.push_back(e.as<std::string>());
  else if (!n.IsScalar() && !n.IsNull())
    throw ConfigError(where + ": extends.enhancers expects a preset name, none, or a list of preset names");
  return names;
}

// Stores one extends.KEY value into `named`; throws for a key extends does not have.
void set_extends(Extends& named, const std::string& key, const YAML::Node& value, const std::string& where) {
  if (key == "dataset") named.dataset = value.IsNull() ? "" : value.as<std::string>();
  else if (key == "model") named.model = value.IsNull() ? "" : value.as<std::string>();
  else if (key == "enhancers") named.enhancer_presets = preset_names(value, where);
  else
    throw ConfigError(where + ": unknown key 'extends." + key + "'; did you mean 'extends." +
                      closest_of(key, {"dataset", "model", "enhancers"}) + "'?");
}

// The experiment's `extends:` block (removed from `exp`), or nothing.
Extends read_extends(YAML::Node& exp, const std::string& experiment) {
  Extends named;
  if (!exp || !exp.IsMap() || !exp["extends"]) return named;
  const YAML::Node extends = exp["extends"];
  if (!extends.IsMap())
    throw ConfigError(Origin{experiment, line_of(extends)}.str() + ": 'extends' expects {dataset: NAME, model: NAME}");
  for (const auto& kv : extends)
    set_extends(named, kv.first.as<std::string>(), kv.second, Origin{experiment, line_of(kv.first)}.str());
  exp.remove("extends");
  return named;
}

}  // namespace

Config load_layers(const std::string& experiment, const std::vector<std::string>& sets) {
  Config config;
  YAML::Node exp;
  if (!experiment.empty()) {
    exp = parse_yaml_file(experiment);
    if (exp && !exp.IsNull() && !exp.IsMap()) throw ConfigError(experiment + ": expected a mapping at the top level");
  }
  // Where the presets were named (errors point there): the experiment's extends line, or the command line.
  Origin where{experiment.empty() ? "--set" : experiment, 0};
  if (exp && exp.IsMap() && exp["extends"]) where.line = line_of(exp["extends"]);
  Extends named = read_extends(exp, experiment);
  // --set extends.KEY=VALUE chooses presets from the command line: one experiment file serves every
  // stack (--set extends.enhancers=irllrec-ref, or =[rlmrec_con, irllrec], or =none).
  std::vector<std::string> other_sets;
  for (const std::string& s : sets) {
    const size_t eq = s.find('=');
    if (s.rfind("extends.", 0) != 0 || eq == std::string::npos) {
      other_sets.push_back(s);
      continue;
    }
    where = Origin{"--set " + s.substr(0, eq), 0};
    set_extends(named, s.substr(8, eq - 8), parse_yaml_text(s.substr(eq + 1), where.file), where.file);
  }
  const bool names_something = !named.dataset.empty() || !named.model.empty() || !named.enhancer_presets.empty();
  // Without an experiment file, names are looked up from the working directory.
  if (names_something)
    apply_extends(config, named, experiment.empty() ? (fs::current_path() / "-").string() : experiment, where);
  if (exp && exp.IsMap()) config.merge(exp, experiment);
  for (const std::string& s : other_sets) config.set(s);
  return config;
}

// ---------------------------------------------------------------------------------------------
// Validation

namespace {

bool scalar_is(const YAML::Node& n, const std::string& type) {
  if (!n.IsScalar()) return false;
  const std::string s = n.Scalar();
  try {
    if (type == "int") {
      size_t used = 0;
      std::stoll(s, &used);
      return used == s.size();
    }
    if (type == "float") {
      size_t used = 0;
      std::stod(s, &used);
      return used == s.size();
    }
  } catch (const std::exception&) {
    return false;
  }
  if (type == "bool") return s == "true" || s == "false" || s == "True" || s == "False";
  return type == "string";
}

bool has_type(const YAML::Node& n, const std::string& type) {
  if (type == "string_map") {
    if (n.IsNull()) return true;
    if (!n.IsMap()) return false;
    for (const auto& kv : n)
      if (!kv.second.IsScalar()) return false;
    return true;
  }
  if (type == "int_list" || type == "string_list") {
    if (!n.IsSequence()) return false;
    for (const auto& e : n)
      if (!scalar_is(e, type == "int_list" ? "int" : "string")) return false;
    return true;
  }
  if (type == "string") return n.IsScalar() || n.IsNull();
  return scalar_is(n, type);
}

std::string show(const YAML::Node& n) {
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

class Validator {
 public:
  Validator(Config& config, const SchemaLookup& plugins) : config_(config), plugins_(plugins) {}

  YAML::Node run() {
    YAML::Node root = config_.root();
    std::set<std::string> top_level;
    for (const HostKey& k : host_keys()) {
      valid_.push_back(k.key);
      if (std::string(k.key).find('.') == std::string::npos) top_level.insert(k.key);
    }
    check_model(root);
    check_enhancers(root);
    check_section(root, "", top_level);
    for (const HostKey& k : host_keys()) {
      const std::string type = k.type;
      // model holds the base model's options too: check_model() checked those.
      if (type == "section" && std::string(k.key) != "model") check_section(node_at(root, k.key), k.key, {});
      if (type == "section" || type == "plugin_options") continue;
      check_type(node_at(root, k.key), k.key, type);
      check_range(node_at(root, k.key), k.key, OptionRange::parse(k.range));
    }
    check_device(node_at(root, "train.device"));
    return root;
  }

 private:

  [[noreturn]] void unknown(const std::string& key) const {
    const std::string best = closest_of(key, valid_);
    throw ConfigError(config_.origin(key).str() + ": unknown key '" + key + "'" +
                      (best.empty() ? "" : "; did you mean '" + best + "'?"));
  }

  void check_type(const YAML::Node& n, const std::string& key, const std::string& type) const {
    if (!n.IsDefined()) return;
    if (!has_type(n, type))
      throw ConfigError(config_.origin(key).str() + ": '" + key + "' expects " + type + ", found '" + show(n) + "'");
  }

  // An out-of-range value names the key, the value, the range and where it was set.
  void check_range(const YAML::Node& n, const std::string& key, const OptionRange& range) const {
    if (!n.IsDefined() || range.empty()) return;
    std::vector<YAML::Node> values;
    if (n.IsSequence())
      for (const auto& e : n) values.push_back(e);
    else
      values.push_back(n);
    for (const YAML::Node& v : values) {
      if (!v.IsScalar()) continue;
      if (const std::string why = range.check(v.Scalar()); !why.empty())
        throw ConfigError(config_.origin(key).str() + ": '" + key + "' " + why + ", found " + show(n));
    }
  }

  // cpu, cuda or cuda:N; whether this LibTorch has CUDA is checked when the run starts.
  void check_device(const YAML::Node& n) const {
    if (!n.IsDefined() || !n.IsScalar()) return;
    const std::string d = n.Scalar();
    bool ok = d == "cpu" || d == "cuda";
    if (!ok && d.rfind("cuda:", 0) == 0 && d.size() > 5)
      ok = std::all_of(d.begin() + 5, d.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ok)
      throw ConfigError(config_.origin("train.device").str() + ": 'train.device' must be cpu, cuda or cuda:N, found '" +
                        d + "'");
  }

  // Every key under `section` must be a valid dotted key (or one of `children` at the top level).
  void check_section(const YAML::Node& node, const std::string& section, const std::set<std::string>& children) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap())
      throw ConfigError(config_.origin(section).str() + ": '" + section + "' expects a mapping, found '" + show(node) + "'");
    for (const auto& kv : node) {
      const std::string key = join(section, kv.first.as<std::string>());
      const bool known = section.empty() ? children.count(kv.first.as<std::string>()) > 0
                                         : std::find(valid_.begin(), valid_.end(), key) != valid_.end();
      if (!known) unknown(key);
    }
  }

  // Checks a plugin's options under `prefix` and fills in its defaults.
  void check_plugin_options(YAML::Node node, const std::string& prefix, const std::vector<rg_option_spec>& specs,
                            const std::set<std::string>& reserved) {
    std::vector<std::string> names;
    for (const auto& s : specs) {
      names.push_back(s.name);
      valid_.push_back(join(prefix, s.name));
    }
    for (const auto& kv : node) {
      const std::string k = kv.first.as<std::string>();
      if (reserved.count(k)) continue;
      if (std::find(names.begin(), names.end(), k) == names.end()) unknown(join(prefix, k));
    }
    for (const auto& s : specs) {
      const std::string key = join(prefix, s.name);
      const YAML::Node& given = static_cast<const YAML::Node&>(node)[s.name];
      if (given.IsDefined()) {
        check_type(given, key, s.type);
        check_range(given, key, OptionRange::parse(s.range ? s.range : ""));
      } else {
        node[s.name] = parse_yaml_text(s.default_json, std::string("default of ") + key);
      }
    }
  }

  std::vector<rg_option_spec> schema_of(const std::string& name, rg_plugin_kind kind, const std::string& key) {
    try {
      return plugins_(name, kind);
    } catch (const std::exception& e) {
      throw ConfigError(config_.origin(key).str() + ": '" + key + "': " + e.what());
    }
  }

  void check_model(YAML::Node root) {
    YAML::Node model = root["model"];
    if (!model.IsMap()) throw ConfigError(config_.origin("model").str() + ": 'model' expects a mapping");
    check_type(model["name"], "model.name", "string");
    const std::string name = model["name"].as<std::string>("");
    if (name.empty()) throw ConfigError(config_.origin("model.name").str() + ": 'model.name' is empty");
    check_plugin_options(model, "model", schema_of(name, RG_KIND_BASE_MODEL, "model.name"), {"name"});
  }

  void check_enhancers(YAML::Node root) {
    check_type(root["enhancers"], "enhancers", "string_list");
    std::vector<std::string> names;
    for (const auto& e : root["enhancers"]) names.push_back(e.as<std::string>());
    YAML::Node options = root["enhancer"];
    if (!options.IsDefined() || options.IsNull()) options = root["enhancer"] = YAML::Node(YAML::NodeType::Map);
    if (!options.IsMap()) throw ConfigError(config_.origin("enhancer").str() + ": 'enhancer' expects a mapping");
    for (const auto& kv : options) {
      const std::string n = kv.first.as<std::string>();
      if (std::find(names.begin(), names.end(), n) == names.end())
        throw ConfigError(config_.origin("enhancer." + n).str() + ": options for enhancer '" + n +
                          "', which is not listed in 'enhancers'");
    }
    for (const std::string& n : names) {
      if (!static_cast<const YAML::Node&>(options)[n].IsDefined()) options[n] = YAML::Node(YAML::NodeType::Map);
      check_plugin_options(options[n], "enhancer." + n, schema_of(n, RG_KIND_ENHANCER, "enhancers"), {});
    }
  }

  Config& config_;
  const SchemaLookup& plugins_;
  std::vector<std::string> valid_;
};

}  // namespace

YAML::Node validate(Config& config, const SchemaLookup& plugins) { return Validator(config, plugins).run(); }

}  // namespace recgrid::config
