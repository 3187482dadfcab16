#include "train/benchmark.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "train/random_streams.hpp"
#include "train/run_evaluation.hpp"
#include "train/run_folder.hpp"
#include "train/run_parts.hpp"
#include "train/run_resources.hpp"
#include "train/timing.hpp"
#include "train/train_step.hpp"
#include "util/allocator.hpp"
#include "util/files.hpp"
#include "util/random.hpp"

namespace recgrid::train {

namespace {

// The first `users` evaluation users' part of a split (users in id order).
data::Interactions first_users_of(const data::Interactions& split, int64_t users, int64_t n_users) {
  std::vector<char> kept(static_cast<size_t>(n_users), 0);
  int64_t taken = 0;
  for (int64_t u : split.user)
    if (!kept[static_cast<size_t>(u)] && taken < users) kept[static_cast<size_t>(u)] = 1, ++taken;
  data::Interactions out;
  for (size_t k = 0; k < split.size(); ++k)
    if (kept[static_cast<size_t>(split.user[k])]) out.user.push_back(split.user[k]), out.item.push_back(split.item[k]);
  return out;
}

nlohmann::json time_evaluation(RunParts& p, const config::RunConfig& cfg, int64_t eval_users) {
  const data::Dataset& ds = p.dataset;
  const data::Interactions truth = first_users_of(ds.valid, eval_users, ds.n_users);
  const eval::Evaluator ev(ds, truth, cfg.train.topk, cfg.train.eval_batch);
  const auto t0 = Clock::now();
  evaluate(p, ev, cfg.train.seed, kFinalValidStream);
  const double s = seconds_since(t0);
  const double scores = static_cast<double>(ev.n_users()) * static_cast<double>(ds.n_items);
  return {{"users", ev.n_users()}, {"seconds", s}, {"scores_per_s", scores / s}};
}

}  // namespace

nlohmann::json benchmark_training(const config::RunConfig& cfg, const plugin::Registry& registry, const BenchOptions& o) {
  const auto wall_start = Clock::now();
  const at::Device device = checked_device(cfg.train.device);
  keep_freed_memory_for_reuse();
  spdlog::logger log("bench", console_sink());
  const int threads = run_threads(cfg);
  at::set_num_threads(threads);
  RunParts p;
  build_parts(p, cfg, registry, device, log);
  const double setup_s = seconds_since(wall_start);
  auto t0 = Clock::now();
  const data::Triplets triplets = p.sampler->sample_epoch(derive_seed(cfg.train.seed, kSampling, 0));
  const double sample_s = seconds_since(t0);
  const auto batch = static_cast<size_t>(cfg.train.batch_size);
  const auto steps_per_epoch = static_cast<int64_t>((triplets.size() + batch - 1) / batch);
  at::manual_seed(derive_seed(cfg.train.seed, kTorch, 0));
  std::vector<double> step_s;
  std::vector<std::pair<std::string, double>> terms;
  for (int64_t step = 0; step < std::min(o.warmup + o.steps, steps_per_epoch); ++step) {
    t0 = Clock::now();
    const size_t start = static_cast<size_t>(step) * batch;
    train_step(*p.model, *p.optimizer, batch_tensors(triplets, start, std::min(triplets.size(), start + batch), device),
               cfg, 0, step, terms);
    if (step >= o.warmup) step_s.push_back(seconds_since(t0));
  }
  const double per_step = step_s.empty() ? 0.0 : median(step_s);
  nlohmann::json r = {{"users", p.dataset.n_users}, {"items", p.dataset.n_items},
                      {"train_interactions", p.dataset.train.size()}, {"threads", threads},
                      {"setup_s", setup_s}, {"epoch_sampling_s", sample_s}, {"steps_timed", step_s.size()},
                      {"median_step_s", per_step}, {"steps_per_epoch", steps_per_epoch},
                      {"epoch_s_estimate", per_step * static_cast<double>(steps_per_epoch) + sample_s}};
  if (o.eval_users > 0) r["eval"] = time_evaluation(p, cfg, o.eval_users);
  r["peak_rss_mib"] = peak_rss_mib();
  r["huge_pages_mib"] = huge_pages_mib();
  return r;
}

}  // namespace recgrid::train
