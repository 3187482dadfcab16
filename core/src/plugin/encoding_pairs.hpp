// Whether a base model's training encoding holds what each enhancer stacked on it reads, from their
// declarations (abi.h rg_tensor_spec: the base model's `gives`, the enhancer's `needs`). Checked for
// every pair when a configuration or a grid is resolved: a mismatched pair fails before anything
// trains, naming the pair and the tensor, instead of at its first loss().
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "config/run_config.hpp"
#include "plugin/loader.hpp"

namespace recgrid::plugin {

// "" when `base` with its resolved options gives every tensor `enhancer` with its resolved options
// needs (or either one predates the declarations); else one message per missing tensor, naming the
// pair and the tensor and saying what to change (the base models of `registry` that give it).
std::string encoding_gap(const LoadedPlugin& base, const nlohmann::json& base_options, const LoadedPlugin& enhancer,
                         const nlohmann::json& enhancer_options, const Registry& registry);

// Every base model x enhancer pair of a resolved configuration; throws config::ConfigError (prefixed
// with `where`, e.g. a grid cell) on the first pair with a gap. A fitted model is refused elsewhere.
void check_encoding_pairs(const config::RunConfig& config, const Registry& registry, const std::string& where = "");

}  // namespace recgrid::plugin
