#include "grid/fitted_cells.hpp"

#include "config/config.hpp"

namespace recgrid::grid {

namespace {

// The cell's base model is fitted and its stack is not empty, read from the layered (not yet
// validated) configuration: an enhancer preset may set base-model options a fitted model lacks
// (KAR's model.embedding_size), so these cells would not resolve at all.
std::string fitted_pair(const CellSpec& cell, const plugin::Registry& registry) {
  const YAML::Node& root = cell.config.root();
  const std::string model = root["model"] && root["model"]["name"] ? root["model"]["name"].as<std::string>("") : "";
  std::string names;
  if (root["enhancers"] && root["enhancers"].IsSequence())
    for (const auto& e : root["enhancers"]) names += (names.empty() ? "" : "+") + e.as<std::string>();
  if (model.empty() || names.empty()) return "";
  for (const plugin::LoadedPlugin* p : registry.plugins())
    if (p->name() == model && p->is_base_model() && p->is_fitted())
      return cell.id + ": not run, " + model + " is a fitted model and takes no enhancer (" + names + ")";
  return "";
}

}  // namespace

std::vector<std::string> drop_fitted_with_enhancers(GridSpec& spec, const plugin::Registry& registry) {
  std::vector<std::string> dropped;
  std::vector<CellSpec> kept;
  for (CellSpec& cell : spec.cells) {
    if (std::string why = fitted_pair(cell, registry); !why.empty()) dropped.push_back(std::move(why));
    else kept.push_back(std::move(cell));
  }
  if (kept.empty())
    throw config::ConfigError(spec.file + ": every cell pairs a fitted model with enhancers, which a fitted model does not "
                              "take: add `none` to the grid's enhancers");
  spec.cells = std::move(kept);
  return dropped;
}

}  // namespace recgrid::grid
