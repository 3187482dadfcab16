// Every configuration key the host owns, declared once (host_keys.cpp): its type, default, range and
// help, and the RunConfig field it fills. From that one table come
//   - the lowest configuration layer (host_defaults_yaml(); configs/defaults.yaml is its printout,
//     and a test keeps the file equal to it),
//   - validation of types and ranges (config.cpp),
//   - the typed RunConfig (run_config.cpp), and
//   - `recgrid run --help-config`.
// Plugin options are declared by the plugins themselves (rg_option_spec, sdk.hpp).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/run_config.hpp"

namespace recgrid::config {

struct HostKey {
  const char* key;           // dotted: train.lr
  const char* type;          // int, float, string, int_list, string_list, string_map; "section" for a mapping of keys
  const char* default_yaml;  // the default as YAML text ("" for a section)
  const char* range;         // recgrid/option_range.hpp notation; "" = any value of the type
  const char* help;          // one line; printed as the key's comment and by --help-config
  // Stores a validated value in its RunConfig field; nullptr when to_run_config() derives the field
  // (paths resolved against dataset.root, the synthetic generator's settings, the plugin choices).
  void (*store)(const YAML::Node& value, RunConfig& into);
};

// The table, in the order the defaults are printed (a section before its keys).
const std::vector<HostKey>& host_keys();

// The host's defaults as YAML, every key with its help as a comment.
std::string host_defaults_yaml();

// `recgrid run --help-config`: one line per key: key, type, default, range, help.
std::string host_keys_help();

// The node at a dotted key of a tree, or an undefined node when a part is missing.
YAML::Node node_at(const YAML::Node& root, const std::string& dotted);

}  // namespace recgrid::config
