// Layered YAML configuration: built-in defaults < dataset file < model file < experiment file
// < `--set key=value`. Every value remembers the file and line it came from, so errors can say
// where a bad key was written.
#pragma once

#include "config/run_config.hpp"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "recgrid/abi.h"

namespace recgrid::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Origin {
  std::string file;  // a path, "<built-in defaults>" or "--set"
  int line = 0;      // 1-based; 0 when unknown
  // "file:line"; a --set value has no line worth showing.
  std::string str() const { return line > 0 && file.rfind("--set", 0) != 0 ? file + ":" + std::to_string(line) : file; }
};

class Config {
 public:
  Config();  // the built-in defaults
  // A copy is a value of its own: YAML::Node copies share their tree, so without a deep copy a change
  // to a copy (a search trial's seed and epochs) changed the original too (the first cell of each
  // searched row ran with its last trial's seed and epochs, found in session 10).
  Config(const Config& other);
  Config& operator=(const Config& other);
  Config(Config&&) noexcept = default;
  Config& operator=(Config&&) noexcept = default;
  // Merges a YAML mapping in; `file` and the nodes' marks become the origins of what it sets.
  void merge(const YAML::Node& layer, const std::string& file);
  // `key=value` with a dotted key; the value is parsed as YAML ("3", "1e-3", "[a, b]").
  void set(const std::string& assignment);
  const YAML::Node& root() const { return root_; }
  Origin origin(const std::string& dotted_key) const;
  std::string dump() const;  // the resolved YAML text

 private:
  void merge_into(YAML::Node dst, const YAML::Node& src, const std::string& prefix, const std::string& file, int line);
  void record(const std::string& prefix, const YAML::Node& value, const std::string& file, int line);
  YAML::Node root_;
  std::map<std::string, Origin> origins_;
};

// What an experiment's `extends:` names; empty fields name nothing. Several enhancer presets stack:
// each is merged in order and the enhancers they list run in that order.
struct Extends {
  std::string dataset, model;
  std::vector<std::string> enhancer_presets;
};
// Merges configs/datasets/<dataset>.yaml, configs/models/<model>.yaml (with its for_dataset block) and
// the enhancer presets into `config`, each found from `relative_to`'s folder upwards (see below);
// `where` is the line that named them, for errors.
void apply_extends(Config& config, const Extends& named, const std::string& relative_to, const Origin& where);

// True when an extends value names a file (it has a '/' or ends in .yaml), which is then found relative
// to the file that names it; otherwise it is a name searched in configs/<kind>s/.
bool names_a_file(const std::string& value);

// Builds the layered config for an experiment file: its optional
// `extends: {dataset: NAME, model: NAME, enhancers: PRESET}` names configs/datasets/NAME.yaml,
// configs/models/NAME.yaml and configs/enhancers/PRESET.yaml (found in the experiment's folder or a
// parent of it; a value with '/' or '.yaml' is a path relative to the experiment file). A model file's
// `for_dataset: {DATASET: {...}}` block is applied on top of it for that dataset; a preset's
// `for_dataset`, `for_model: {MODEL: {..., for_dataset: ...}}` blocks likewise, after the model file.
// `experiment` empty: defaults only. Then every `--set` in order.
Config load_layers(const std::string& experiment, const std::vector<std::string>& sets);

// The option declarations of a plugin, found by name and kind; throws if there is no such plugin.
using SchemaLookup = std::function<std::vector<rg_option_spec>(const std::string& name, rg_plugin_kind kind)>;

// Checks every key and type against the host schema and the plugins' option declarations, fills the
// plugins' defaults in, and throws ConfigError naming the key, where it was set and the closest valid
// key. Returns the resolved tree.
YAML::Node validate(Config& config, const SchemaLookup& plugins);

// validate() and then the typed configuration, whose value errors name where each key was set: what
// a run and every grid cell go through.
struct Resolved {
  YAML::Node tree;
  RunConfig run;
};
Resolved resolve(Config& config, const SchemaLookup& plugins);

// A resolved configuration's text without the keys that say how a run executes rather than what it
// computes (train.threads, train.pause_after): what --resume compares and what names a grid cell, so a
// run can resume with another share of the cores, or past the epoch it was paused at.
std::string without_execution_keys(const std::string& resolved_yaml);

// Levenshtein distance.
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate nearest to `word` by edit distance (the first of equals), or "" when there is none:
// every "did you mean" of the configuration and grid readers.
std::string closest_of(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace recgrid::config
