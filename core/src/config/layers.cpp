// The layers of a configuration from files: dataset, model and enhancer presets named by `extends`
// (in the experiment or on the command line), found from the experiment's folder upwards.
#include <algorithm>
#include <filesystem>

#include "config/config.hpp"
#include "config/yaml_files.hpp"

namespace recgrid::config {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Layers from files

bool names_a_file(const std::string& value) {
  return value.find('/') != std::string::npos || (value.size() > 5 && value.compare(value.size() - 5, 5, ".yaml") == 0);
}

namespace {

// The presets that come with the running recgrid: the source tree's configs/ beside a build's bin/
// (build/bin/../../configs) and the installed share/recgrid/configs (bin/../share/recgrid/configs).
std::vector<fs::path> shipped_config_dirs() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  std::vector<fs::path> out;
  for (const fs::path& d : {exe.parent_path() / ".." / ".." / "configs", exe.parent_path() / ".." / "share" / "recgrid" / "configs"})
    if (fs::is_directory(d)) out.push_back(d.lexically_normal());
  return out;
}

// configs/<kind>/<name>.yaml, searched from the experiment's folder upwards, then in ./configs.
std::string resolve_named(const std::string& value, const std::string& kind, const fs::path& experiment,
                          const Origin& where) {
  // "grid.yaml" (no folder) is in the working directory: fs::absolute("") would throw.
  const fs::path base = experiment.has_parent_path() ? experiment.parent_path() : fs::path(".");
  if (names_a_file(value)) {
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
  // Then the working directory's configs/ (a file kept outside the repository, run from inside it),
  // last the presets that came with this recgrid (a stranger's own folder has none).
  std::vector<fs::path> dirs{fs::current_path() / "configs"};
  for (const fs::path& d : shipped_config_dirs()) dirs.push_back(d);
  for (const fs::path& d : dirs)
    if (fs::is_regular_file(d / (kind + "s") / (value + ".yaml"))) return (d / (kind + "s") / (value + ".yaml")).string();
  std::string shipped;
  for (const fs::path& d : shipped_config_dirs()) shipped += ", " + d.string() + "/" + kind + "s";
  throw ConfigError(where.str() + ": extends." + kind + ": no " + kind + " config named '" + value +
                    "' (looked for " + kind + "s/" + value + ".yaml above " + base.string() +
                    ", in ./configs/" + kind + "s" + shipped + ")");
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

}  // namespace recgrid::config
