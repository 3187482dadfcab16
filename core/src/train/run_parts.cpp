#include "train/run_parts.hpp"

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "data/dataset_loader.hpp"
#include "data/graph_builder.hpp"
#include "train/auto_options.hpp"
#include "train/timing.hpp"

namespace recgrid::train {

void build_model(ModelParts& p, const config::RunConfig& cfg, const plugin::Registry& registry,
                 const at::Device& device, spdlog::logger& log) {
  auto t0 = Clock::now();
  p.text.reduce = {cfg.text.reduce_dim, [&log](const std::string& line) { log.info("text table {}", line); }};
  p.dataset = data::load_dataset(cfg.dataset, device, p.text.files, p.text.preloaded);
  const data::Dataset& ds = p.dataset;
  log.info("dataset {}: {} users, {} items, {} train / {} valid / {} test interactions ({:.2f} s)", ds.name,
           ds.n_users, ds.n_items, ds.train.size(), ds.valid.size(), ds.test.size(), seconds_since(t0));
  for (const auto& w : ds.warnings) log.warn("dataset check: {}", w);
  p.graph = data::build_graph(ds, device);
  p.graph_list = data::graph_tensors(p.graph, ds, device);
  at::manual_seed(cfg.train.seed);
  p.model = std::make_unique<ModelStack>(registry, cfg, ds, p.graph_list, p.text);
  for (const std::string& line : auto_sample_key_lines(cfg, registry, ds.n_users + ds.n_items)) log.info("{}", line);
}

void build_parts(RunParts& p, const config::RunConfig& cfg, const plugin::Registry& registry,
                 const at::Device& device, spdlog::logger& log) {
  build_model(p, cfg, registry, device, log);
  const data::Dataset& ds = p.dataset;
  p.train_index = std::make_unique<data::UserItemIndex>(ds.train, ds.n_users);
  p.sampler = std::make_unique<data::BprSampler>(ds.train, *p.train_index, ds.n_items);
  p.valid_eval = std::make_unique<eval::Evaluator>(ds, ds.valid, cfg.train.topk, cfg.train.eval_batch);
  p.test_eval = std::make_unique<eval::Evaluator>(ds, ds.test, cfg.train.topk, cfg.train.eval_batch);
  std::vector<at::Tensor> trainable;
  for (const auto& [name, t] : p.model->parameters()) trainable.push_back(t);
  p.optimizer = std::make_unique<torch::optim::Adam>(
      trainable, torch::optim::AdamOptions(cfg.train.lr).betas({0.9, 0.999}).eps(1e-8));
  int64_t n_params = 0;
  for (const auto& t : trainable) n_params += t.numel();
  log.info("model {} with {} enhancer(s): {} trainable values", cfg.model.name, cfg.enhancers.size(), n_params);
}

}  // namespace recgrid::train
