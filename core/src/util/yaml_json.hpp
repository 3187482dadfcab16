// YAML trees as JSON: scalars become numbers, booleans or null where YAML would read them so
// (an integer stays an integer), strings otherwise.
#pragma once

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace recgrid {

nlohmann::json yaml_to_json(const YAML::Node& node);

}  // namespace recgrid
