#include "train/epoch_loop.hpp"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "train/early_stopping.hpp"
#include "train/learning_check.hpp"
#include "train/progress.hpp"
#include "train/resumable_stop.hpp"
#include "train/run_evaluation.hpp"
#include "train/stop_signal.hpp"
#include "train/train_epoch.hpp"
#include "util/files.hpp"
#include "util/test_hooks.hpp"

namespace recgrid::train {

namespace {

// The metrics.jsonl line of one evaluated epoch. The untrained model's evaluation (JSON text), when
// `untrained` still holds it, goes on this line (the first evaluated one) and is taken out of it.
nlohmann::json metrics_line(int64_t epoch, double train_s, double eval_s, const std::map<std::string, double>& valid,
                            int64_t best_epoch, const EpochLosses& losses, std::string& untrained) {
  nlohmann::json loss = nlohmann::json::object();
  for (const auto& [name, mean] : losses.terms) loss[name] = mean;
  loss["total"] = losses.total;
  nlohmann::json line = {{"epoch", epoch}, {"train_time_s", train_s}, {"eval_time_s", eval_s}, {"valid", valid},
                         {"best_epoch", best_epoch}, {"loss", loss}};
  if (!untrained.empty()) line[kUntrainedKey] = nlohmann::json::parse(std::exchange(untrained, std::string()));
  return line;
}

// The progress line's "best R@20 0.1234 @57".
std::string best_summary(const LoopState& state) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "best R@20 %.4f @%lld", state.best_recall, static_cast<long long>(state.best_epoch));
  return buf;
}

}  // namespace

LoopOutcome run_epochs(RunParts& p, const config::RunConfig& cfg, const RunOptions& o, LoopState& state,
                       double elapsed_before, Clock::time_point session_start, const at::Device& device,
                       spdlog::logger& log) {
  const std::string ckpt = o.out_dir + "/checkpoint.pt", best_path = o.out_dir + "/best.pt";
  Progress progress(o.progress);
  const int64_t abort_after = test_hooks::abort_after_epoch();  // tests: a crash after that epoch
  const std::optional<std::string> trace_path = test_hooks::trace_file();  // developers
  EarlyStopping stopping{state, cfg.train};
  LoopOutcome out;
  out.last_epoch = state.epoch;
  std::string best_text;
  const int64_t first_epoch = state.mid.epoch >= 0 ? state.mid.epoch : state.epoch + 1;
  for (int64_t epoch = first_epoch; epoch < cfg.train.epochs; ++epoch) {
    if (cfg.train.pause_after > 0 && epoch >= cfg.train.pause_after)
      pause_before(epoch, p, o, state, elapsed_before + seconds_since(session_start), log);
    std::unique_ptr<torch::autograd::profiler::RecordProfile> trace;
    if (trace_path && epoch == state.epoch + 2) trace = std::make_unique<torch::autograd::profiler::RecordProfile>(*trace_path);
    const auto epoch_start = Clock::now();
    const double carried_s = state.mid.epoch == epoch ? state.mid.train_s : 0.0;  // before the stop
    const EpochRun run = train_epoch(*p.model, *p.optimizer, *p.sampler, cfg, epoch, device, progress, best_text, state.mid);
    const EpochLosses& losses = run.losses;
    const double train_s = carried_s + seconds_since(epoch_start);
    if (run.stopped) stop_here(p, o, state, train_s, elapsed_before + seconds_since(session_start), log);
    out.train_times.push_back(train_s);
    out.last_epoch = epoch;
    trace.reset();
    if (epoch % cfg.train.test_step != 0) {
      if (stop_signal()) {  // between epochs: the next one starts from its first step
        state.mid.epoch = epoch + 1;
        stop_here(p, o, state, 0.0, elapsed_before + seconds_since(session_start), log);
      }
      continue;
    }

    const auto eval_start = Clock::now();
    const auto valid = evaluate(p, *p.valid_eval, cfg.train.seed, static_cast<uint64_t>(epoch));
    const double eval_s = seconds_since(eval_start);
    out.eval_times.push_back(eval_s);
    const bool improved = stopping.observe(epoch, valid.at("recall@20"));
    if (improved) save_tensors(best_path, p.model->parameters(), p.model->buffers());
    append_line_whole(o.out_dir + "/metrics.jsonl",
                      metrics_line(epoch, train_s, eval_s, valid, state.best_epoch, losses, state.untrained).dump() + "\n");
    state.elapsed_s = elapsed_before + seconds_since(session_start);
    save_checkpoint(ckpt, p.model->parameters(), p.model->buffers(), *p.optimizer, state);
    progress.clear();
    log.info("epoch {:4d}  loss {:.5f}  valid {} {}  ({:.2f} s train, {:.2f} s eval)", epoch, losses.total,
             format_metrics(valid, cfg.train.topk), improved ? "*" : " ", train_s, eval_s);
    best_text = best_summary(state);
    if (epoch == abort_after) std::_Exit(75);
    if (stopping.should_stop()) {
      out.stop_reason = "early_stopping";
      break;
    }
    if (stop_signal()) stop_after_evaluation(epoch, log);  // this epoch's checkpoint is written
  }
  progress.clear();
  return out;
}

}  // namespace recgrid::train
