#include "train/train_epoch.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <csignal>
#include <mutex>

#include "train/random_streams.hpp"
#include "train/stop_signal.hpp"
#include "train/train_step.hpp"
#include "util/random.hpp"
#include "util/test_hooks.hpp"

namespace recgrid::train {

namespace {

// The generator the steps draw from: its state goes into a mid-epoch checkpoint. (CPU only: a CUDA
// run would also need the device generator's state to resume inside an epoch with the same numbers.)
at::Generator step_generator() { return at::globalContext().defaultGenerator(at::Device(at::kCPU)); }
at::Tensor generator_state() {
  at::Generator g = step_generator();
  std::lock_guard<std::mutex> lock(g.mutex());
  return g.get_state();
}
void restore_generator(const at::Tensor& state) {
  at::Generator g = step_generator();
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(state);
}

}  // namespace

EpochRun train_epoch(ModelStack& model, torch::optim::Optimizer& optimizer, const data::BprSampler& sampler,
                     const config::RunConfig& cfg, int64_t epoch, const at::Device& device, Progress& progress,
                     const std::string& best_text, MidEpoch& mid) {
  const data::Triplets triplets = sampler.sample_epoch(derive_seed(cfg.train.seed, kSampling, epoch));
  const size_t n_samples = triplets.size();
  const int64_t steps = static_cast<int64_t>((n_samples + cfg.train.batch_size - 1) / cfg.train.batch_size);
  EpochLosses sums;
  int64_t first = 0;
  if (mid.epoch == epoch && mid.rng_state.defined()) {  // inside the epoch: where the stop left it
    first = mid.next_step;
    sums.terms = mid.term_sums;
    sums.total = mid.total_sum;
    restore_generator(mid.rng_state);
  } else {
    at::manual_seed(derive_seed(cfg.train.seed, kTorch, epoch));
  }
  std::vector<std::pair<std::string, double>> step_terms;
  for (int64_t step = first; step < steps; ++step) {
    const size_t start = static_cast<size_t>(step * cfg.train.batch_size);
    const size_t end = std::min(n_samples, start + static_cast<size_t>(cfg.train.batch_size));
    const double total_value =
        train_step(model, optimizer, batch_tensors(triplets, start, end, device), cfg, epoch, step, step_terms);
    for (size_t k = 0; k < step_terms.size(); ++k) {
      if (sums.terms.size() <= k) sums.terms.emplace_back(step_terms[k].first, 0.0);
      sums.terms[k].second += step_terms[k].second;
    }
    sums.total += total_value;
    progress.update(epoch, cfg.train.epochs, step + 1, steps, sums.total / static_cast<double>(step + 1), best_text);
    if (test_hooks::signal_at_step() == std::pair<int64_t, int64_t>{epoch, step}) std::raise(SIGTERM);  // tests
    if (stop_signal() && step + 1 < steps) {
      mid = MidEpoch{epoch, step + 1, sums.terms, sums.total, 0, generator_state()};
      return {sums, true};
    }
  }
  for (auto& term : sums.terms) term.second /= static_cast<double>(steps);
  sums.total /= static_cast<double>(steps);
  mid = MidEpoch{};
  return {sums, false};
}

}  // namespace recgrid::train
