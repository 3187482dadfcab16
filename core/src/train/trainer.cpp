#include "train/trainer.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "eval/final_evaluation.hpp"
#include "recgrid/version.hpp"
#include "train/checkpoint.hpp"
#include "train/epoch_loop.hpp"
#include "train/fitted_run.hpp"
#include "train/learning_check.hpp"
#include "train/random_streams.hpp"
#include "train/run_evaluation.hpp"
#include "train/run_folder.hpp"
#include "train/run_parts.hpp"
#include "train/run_resources.hpp"
#include "train/stop_signal.hpp"
#include "train/timing.hpp"
#include "util/allocator.hpp"
#include "util/files.hpp"
#include "util/signal_guard.hpp"

namespace recgrid::train {

namespace fs = std::filesystem;

namespace {

// The loop state of a run: from checkpoint.pt when resuming (metrics.jsonl cut back to it), else a
// fresh one with the untrained model's evaluation and an empty metrics.jsonl.
LoopState starting_state(RunParts& p, const config::RunConfig& cfg, const RunOptions& o, bool resuming,
                         spdlog::logger& log) {
  const std::string metrics_path = o.out_dir + "/metrics.jsonl";
  LoopState state;
  if (resuming) {
    state = load_checkpoint(o.out_dir + "/checkpoint.pt", p.model->parameters(), p.model->buffers(), *p.optimizer);
    truncate_metrics(metrics_path, state.epoch);
    if (state.mid.epoch >= 0)
      log.info("resumed inside epoch {} at step {} (best Recall@20 {:.4f} at epoch {})", state.mid.epoch,
               state.mid.next_step, state.best_recall, state.best_epoch);
    else
      log.info("resumed after epoch {} (best Recall@20 {:.4f} at epoch {})", state.epoch, state.best_recall,
               state.best_epoch);
  } else {
    write_file_atomic(metrics_path, "");
    state.untrained = evaluate_untrained(p, cfg, log).dump();
  }
  return state;
}

// Restores the best snapshot, evaluates it on validation and test (§1.5), flags a run that did not
// learn, and writes results.json.
nlohmann::json finish_run(RunParts& p, const config::RunConfig& cfg, const RunOptions& o, const LoopState& state,
                          const LoopOutcome& loop, double wall, double setup_s, int threads, spdlog::logger& log) {
  if (state.best_epoch < 0) throw std::runtime_error("no validation happened: train.epochs is smaller than 1?");
  load_tensors(o.out_dir + "/best.pt", p.model->parameters(), p.model->buffers());
  const std::string valid_file = cfg.eval.per_user_valid ? o.out_dir + "/per_user_valid.tsv.gz" : "";
  const auto final_valid = evaluate_final(p, *p.valid_eval, cfg, kFinalValidStream, valid_file);
  const auto final_test = evaluate_final(p, *p.test_eval, cfg, kFinalTestStream, o.out_dir + "/per_user_test.tsv.gz");
  const auto& valid = final_valid.metrics;
  const auto& test = final_test.metrics;
  log.info("best epoch {}: valid {}", state.best_epoch, format_metrics(valid, cfg.train.topk));
  log.info("best epoch {}: test  {}", state.best_epoch, format_metrics(test, cfg.train.topk));
  const std::vector<std::string> reasons = no_learning_reasons(read_metrics_lines(o.out_dir + "/metrics.jsonl"));
  for (const std::string& r : reasons) log.warn("this run did not learn: {}", r);
  if (!reasons.empty()) log.warn("results.json says status: no_learning. {}", no_learning_advice(cfg));

  nlohmann::json plugins = nlohmann::json::object();
  for (const auto& [name, version] : p.model->versions()) plugins[name] = version;
  nlohmann::json results = {
      {"name", cfg.name},
      {"dataset", p.dataset.name},
      {"model", cfg.model.name},
      {"enhancers", nlohmann::json::array()},
      {"seed", cfg.train.seed},
      {"status", reasons.empty() ? "ok" : "no_learning"},
      {"best_epoch", state.best_epoch},
      {"epochs_run", loop.last_epoch + 1},
      {"stopped_by", loop.stop_reason},
      {"valid", valid},
      {"test", test},
      {"wall_time_s", wall},
      {"setup_time_s", setup_s},
      {"median_epoch_train_s", median(loop.train_times)},
      {"median_eval_s", median(loop.eval_times)},
      {"peak_rss_mib", peak_rss_mib()},
      {"threads", threads},
      {"recgrid_version", RECGRID_VERSION},
      {"plugins", plugins},
  };
  results["groups"] = {{"valid", final_valid.groups}, {"test", final_test.groups}};
  if (!reasons.empty()) results["no_learning"] = reasons;
  for (const auto& e : cfg.enhancers) results["enhancers"].push_back(e.name);
  write_file_atomic(o.out_dir + "/results.json", results.dump(2) + "\n");
  log.info("results written to {}/results.json ({:.1f} s)", o.out_dir, wall);
  return results;
}

}  // namespace

nlohmann::json run_training(const config::RunConfig& cfg, const plugin::Registry& registry, const RunOptions& o) {
  const auto wall_start = Clock::now();
  if (o.resume && !o.force && fs::exists(o.out_dir + "/results.json")) return finished_run_results(o);  // nothing left
  if (is_fitted_model(cfg, registry)) return run_fitted(cfg, registry, o);  // no SGD loop
  const at::Device device = checked_device(cfg.train.device);
  const bool resuming = prepare_run_dir(o, RunKind::trained);
  keep_freed_memory_for_reuse();
  auto log = make_run_logger(o.out_dir, "run");
  const int threads = run_threads(cfg);
  at::set_num_threads(threads);
  log->info("run folder {} ({} threads, device {})", o.out_dir, threads, device.str());

  clear_stop_signal();
  const SignalGuard stop_signals({SIGTERM, SIGUSR1}, on_training_stop);  // stop at the end of a step (Interrupted)
  RunParts p;
  build_parts(p, cfg, registry, device, *log);
  LoopState state = starting_state(p, cfg, o, resuming, *log);
  const double elapsed_before = state.elapsed_s;
  const auto session_start = Clock::now();
  LoopOutcome loop;
  try {
    loop = run_epochs(p, cfg, o, state, elapsed_before, session_start, device, *log);
  } catch (const Diverged& e) {
    write_diverged(cfg, o, state, e, *log);
    throw;
  }
  return finish_run(p, cfg, o, state, loop, elapsed_before + seconds_since(session_start),
                    std::chrono::duration<double>(session_start - wall_start).count(), threads, *log);
}

}  // namespace recgrid::train
