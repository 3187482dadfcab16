#include "train/fitted_run.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "config/config.hpp"
#include "data/dataset.hpp"
#include "data/dataset_loader.hpp"
#include "data/graph_builder.hpp"
#include "eval/evaluator.hpp"
#include "eval/final_evaluation.hpp"
#include "recgrid/version.hpp"
#include "train/checkpoint.hpp"
#include "train/run_folder.hpp"
#include "train/run_resources.hpp"
#include "train/timing.hpp"
#include "util/files.hpp"
#include "util/random.hpp"

namespace recgrid::train {

namespace {

// The model's scores through the evaluator's tiles: one score() call per tile of a user batch; the
// eval.* metrics, groups and per-user file as a trained run's final evaluation has them.
eval::FinalEvaluation evaluate_fitted(plugin::Instance& model, const eval::Evaluator& ev, const data::Dataset& ds,
                                      const config::RunConfig& cfg, const at::Device& device,
                                      const std::string& per_user_file) {
  const eval::AnalysisOptions options{cfg.eval.metrics, static_cast<int>(cfg.eval.user_groups), cfg.eval.head_share,
                                      per_user_file};
  const auto scorer = [&](const at::Tensor& users) -> eval::TileFn {
    const at::Tensor on_device = users.to(device, /*non_blocking=*/false, /*copy=*/true);
    return [&model, on_device](int64_t r_lo, int64_t m, int64_t lo, int64_t n) {
      return model.score(on_device.narrow(0, r_lo, m), lo, lo + n);
    };
  };
  return eval::evaluate_with_analysis(ev, ds, options,
                                      [&](const eval::RankedListFn& on_list) { return ev.run_scorer(scorer, on_list); });
}

// metrics.jsonl: one line per sweep of an iterative fit (its objective; the fit's time shared evenly,
// the boundary reports no per-sweep time), the evaluation in the last; one line for a one-step fit.
void write_metrics(const std::string& path, const at::Tensor& sweep_loss, double fit_s, double eval_s,
                   const std::map<std::string, double>& valid) {
  const at::Tensor losses = sweep_loss.defined() ? sweep_loss.to(at::kCPU, at::kDouble).contiguous() : at::Tensor();
  const int64_t sweeps = losses.defined() ? std::max<int64_t>(1, losses.numel()) : 1;
  std::string text;
  for (int64_t k = 0; k < sweeps; ++k) {
    nlohmann::json line = {{"epoch", k}, {"train_time_s", fit_s / static_cast<double>(sweeps)}};
    if (losses.defined() && losses.numel() > 0) line["loss"] = {{"total", losses.data_ptr<double>()[k]}};
    if (k == sweeps - 1) {
      line["eval_time_s"] = eval_s;
      line["valid"] = valid;
      line["best_epoch"] = k;
    }
    text += line.dump() + "\n";
  }
  write_file_atomic(path, text);
}

}  // namespace

bool is_fitted_model(const config::RunConfig& cfg, const plugin::Registry& registry) {
  return registry.get(cfg.model.name, RG_KIND_BASE_MODEL).is_fitted();
}

void check_fitted_pairing(const config::RunConfig& cfg, const plugin::Registry& registry) {
  if (cfg.enhancers.empty() || !is_fitted_model(cfg, registry)) return;
  std::string names;
  for (const auto& e : cfg.enhancers) names += (names.empty() ? "" : ", ") + e.name;
  throw config::ConfigError("model '" + cfg.model.name + "' is a fitted model (fitted once, not trained by SGD) and "
                            "cannot be paired with enhancer(s) " + names + ": enhancers act on a base model's layer-0 "
                            "embeddings during SGD training. Set `enhancers: []` for this model (a grid runs its "
                            "base row only)");
}

namespace {

// The instance of a run's fitted model and what it was made from (the context's tensors stay alive).
struct FittedParts {
  data::Dataset dataset;
  rg_tensor_list graph_list, no_inputs;
  std::unique_ptr<plugin::Instance> model;
};

void build_fitted(FittedParts& f, const config::RunConfig& cfg, const plugin::Registry& registry,
                  const at::Device& device, spdlog::logger& log) {
  f.dataset = data::load_interactions(cfg.dataset);
  const data::Dataset& ds = f.dataset;
  log.info("dataset {}: {} users, {} items, {} train / {} valid / {} test interactions", ds.name, ds.n_users,
           ds.n_items, ds.train.size(), ds.valid.size(), ds.test.size());
  f.graph_list.items = data::graph_tensors(data::build_graph(ds, device), ds, device);
  const rg_context ctx{sizeof(rg_context), ds.n_users, ds.n_items, cfg.train.device.c_str(), cfg.train.seed,
                       &f.graph_list, &f.no_inputs, nullptr, 0};
  at::manual_seed(cfg.train.seed);  // a random initialisation (iALS) draws from the run seed
  f.model = std::make_unique<plugin::Instance>(registry.get(cfg.model.name, RG_KIND_BASE_MODEL), ctx,
                                               cfg.model.options.dump());
}

// results.json of a fitted run, with the keys a trained run's has (its sweeps counted as epochs).
nlohmann::json fitted_results(const config::RunConfig& cfg, const FittedParts& f, int64_t epochs,
                              const std::map<std::string, double>& valid, const std::map<std::string, double>& test,
                              const nlohmann::json& times, int threads) {
  nlohmann::json results = {
      {"name", cfg.name},       {"dataset", f.dataset.name},  {"model", cfg.model.name},
      {"enhancers", nlohmann::json::array()},                 {"seed", cfg.train.seed},
      {"status", "ok"},         {"best_epoch", epochs - 1},   {"epochs_run", epochs},
      {"stopped_by", "fitted"}, {"valid", valid},             {"test", test},
      {"peak_rss_mib", peak_rss_mib()},                       {"threads", threads},
      {"recgrid_version", RECGRID_VERSION},
      {"plugins", {{f.model->name(), std::string(f.model->plugin().info->version)}}},
  };
  results.update(times);
  return results;
}

}  // namespace

nlohmann::json run_fitted(const config::RunConfig& cfg, const plugin::Registry& registry, const RunOptions& o) {
  const auto wall_start = Clock::now();
  check_fitted_pairing(cfg, registry);
  const at::Device device(cfg.train.device);
  // A finished run resumed never reaches here: run_training returns its results first.
  prepare_run_dir(o, RunKind::fitted);
  auto log = make_run_logger(o.out_dir, "fitted");
  const int threads = run_threads(cfg);
  at::set_num_threads(threads);
  log->info("run folder {} ({} threads, device {}): {} is a fitted model, no SGD loop", o.out_dir, threads,
            device.str(), cfg.model.name);
  FittedParts f;
  build_fitted(f, cfg, registry, device, *log);
  const double setup_s = seconds_since(wall_start);

  auto t0 = Clock::now();
  const NamedTensors fitted = f.model->fit();
  const double fit_s = seconds_since(t0);
  const at::Tensor sweep_loss = fitted.contains("sweep.loss") ? fitted.at("sweep.loss") : at::Tensor();
  const int64_t epochs = sweep_loss.defined() ? std::max<int64_t>(1, sweep_loss.numel()) : 1;
  log->info("fitted in {:.2f} s ({} sweep(s))", fit_s, epochs);
  save_tensors(o.out_dir + "/fitted.pt", f.model->parameters(), f.model->buffers());

  t0 = Clock::now();
  const eval::Evaluator valid_eval(f.dataset, f.dataset.valid, cfg.train.topk, cfg.train.eval_batch);
  const std::string valid_file = cfg.eval.per_user_valid ? o.out_dir + "/per_user_valid.tsv.gz" : "";
  const auto final_valid = evaluate_fitted(*f.model, valid_eval, f.dataset, cfg, device, valid_file);
  const double eval_s = seconds_since(t0);
  const eval::Evaluator test_eval(f.dataset, f.dataset.test, cfg.train.topk, cfg.train.eval_batch);
  const auto final_test = evaluate_fitted(*f.model, test_eval, f.dataset, cfg, device, o.out_dir + "/per_user_test.tsv.gz");
  const auto& valid = final_valid.metrics;
  const auto& test = final_test.metrics;
  write_metrics(o.out_dir + "/metrics.jsonl", sweep_loss, fit_s, eval_s, valid);
  const double wall = seconds_since(wall_start);
  const nlohmann::json times = {{"wall_time_s", wall}, {"setup_time_s", setup_s}, {"fit_time_s", fit_s},
                                {"median_epoch_train_s", fit_s / static_cast<double>(epochs)},
                                {"median_eval_s", eval_s}};
  nlohmann::json results = fitted_results(cfg, f, epochs, valid, test, times, threads);
  results["groups"] = {{"valid", final_valid.groups}, {"test", final_test.groups}};
  write_file_atomic(o.out_dir + "/results.json", results.dump(2) + "\n");
  const auto r20 = [](const std::map<std::string, double>& m) { return m.count("recall@20") ? m.at("recall@20") : 0.0; };
  log->info("valid R@20 {:.4f}, test R@20 {:.4f}; results written to {}/results.json ({:.1f} s)", r20(valid), r20(test),
            o.out_dir, wall);
  return results;
}

}  // namespace recgrid::train
