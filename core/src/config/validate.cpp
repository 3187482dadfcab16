// Validation of a layered configuration against the host's key table (host_keys.cpp) and the
// plugins' option declarations: unknown keys, types, ranges; the plugins' defaults filled in.
#include <algorithm>
#include <set>
#include <sstream>

#include "config/config.hpp"
#include "config/host_keys.hpp"
#include "config/yaml_files.hpp"
#include "recgrid/option_range.hpp"

namespace recgrid::config {

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
        const OptionRange range = OptionRange::parse(s.range ? s.range : "");
        if (!given.IsScalar() || !range.lists(given.Scalar())) check_type(given, key, s.type);  // ("auto" of an int)
        check_range(given, key, range);
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

Resolved resolve(Config& config, const SchemaLookup& plugins) {
  Resolved r;
  r.tree = validate(config, plugins);
  r.run = to_run_config(r.tree, [&](const std::string& key) { return config.origin(key).str(); });
  return r;
}

}  // namespace recgrid::config
