#include "train/resumable_stop.hpp"

#include <string>

#include "train/stop_signal.hpp"

namespace recgrid::train {

void stop_here(RunParts& p, const RunOptions& o, LoopState& state, double epoch_train_s, double elapsed_s,
               spdlog::logger& log) {
  state.mid.train_s = epoch_train_s;
  state.elapsed_s = elapsed_s;
  save_checkpoint(o.out_dir + "/checkpoint.pt", p.model->parameters(), p.model->buffers(), *p.optimizer, state);
  const std::string where = "epoch " + std::to_string(state.mid.epoch) + ", step " + std::to_string(state.mid.next_step);
  log.info("stopped by signal {} before {}: checkpoint.pt holds that point; `recgrid run ... --resume` continues from "
           "it with the same numbers", stop_signal(), where);
  throw Interrupted("stopped by signal " + std::to_string(stop_signal()) + " before " + where);
}

void stop_after_evaluation(int64_t epoch, spdlog::logger& log) {
  log.info("stopped by signal {} after epoch {}: checkpoint.pt is written; `recgrid run ... --resume` continues",
           stop_signal(), epoch);
  throw Interrupted("stopped by signal " + std::to_string(stop_signal()) + " after epoch " + std::to_string(epoch));
}

void pause_before(int64_t epoch, RunParts& p, const RunOptions& o, LoopState& state, double elapsed_s,
                  spdlog::logger& log) {
  if (state.mid.epoch != epoch) {  // (a resumed run may already stand inside it: keep that point)
    state.mid = MidEpoch{};
    state.mid.epoch = epoch;  // step 0 of it, as a stop between epochs leaves it
  }
  state.elapsed_s = elapsed_s;
  save_checkpoint(o.out_dir + "/checkpoint.pt", p.model->parameters(), p.model->buffers(), *p.optimizer, state);
  log.info("paused before epoch {} (train.pause_after); `recgrid run ... --resume` continues", epoch);
  throw Paused("paused after " + std::to_string(epoch) + " epochs (train.pause_after)");
}

}  // namespace recgrid::train
