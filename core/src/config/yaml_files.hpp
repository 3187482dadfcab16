// Small YAML helpers shared by the configuration readers (config.cpp, layers.cpp, validate.cpp):
// parse errors become ConfigError with file:line:column, and dotted keys are joined one way.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace recgrid::config {

// The text parsed as YAML; `name` is what an error calls it ("<built-in defaults>", "--set x").
YAML::Node parse_yaml_text(const std::string& text, const std::string& name);
// The file parsed as YAML; a missing file or a syntax error is a ConfigError naming it.
YAML::Node parse_yaml_file(const std::string& path);
// A node's 1-based line in its file (0 when unknown).
int line_of(const YAML::Node& n);
// "prefix.key" ("key" for an empty prefix).
std::string join(const std::string& prefix, const std::string& key);

}  // namespace recgrid::config
