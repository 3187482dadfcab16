// The run of a fitted base model (abi.h rg_fitted_model_api: MostPop, ItemKNN, RP3beta, EASE^R, iALS):
// no SGD loop. The model is fitted once to the training interactions, evaluated once on validation
// and test through the evaluator's tiled scorer (its score() call per tile), and the run folder is
// the one a trained model leaves: config.yaml, log.txt, metrics.jsonl (one line, or one per sweep of
// an iterative fit, its sweeps counted as epochs), fitted.pt (the model's state) and results.json.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "plugin/loader.hpp"
#include "train/trainer.hpp"

namespace recgrid::train {

// True when the configuration's base model is a fitted one.
bool is_fitted_model(const config::RunConfig& config, const plugin::Registry& registry);

// A fitted model takes no enhancer (enhancers act on layer-0 embeddings inside the SGD loop): throws
// config::ConfigError naming the pair when the configuration asks for one.
void check_fitted_pairing(const config::RunConfig& config, const plugin::Registry& registry);

// Fits, evaluates and writes the run folder; returns the content of results.json (status "ok").
// An interrupted fit leaves no results.json: the rerun (with --resume) fits again from the start.
nlohmann::json run_fitted(const config::RunConfig& config, const plugin::Registry& registry, const RunOptions& options);

}  // namespace recgrid::train
