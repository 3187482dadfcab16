#include "train/train_step.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>

#include "train/grad_norms.hpp"
#include "train/trainer.hpp"

namespace recgrid::train {

namespace {

std::string describe_terms(const std::vector<std::pair<std::string, double>>& terms) {
  std::string s;
  char buf[96];
  for (const auto& [name, v] : terms) {
    std::snprintf(buf, sizeof buf, "%s%s = %.6g", s.empty() ? "" : ", ", name.c_str(), v);
    s += buf;
  }
  return s;
}

// Stops the run when a step's loss is not finite or passes the bound (before backward: the update
// it would make is never applied).
void check_step_loss(const std::vector<std::pair<std::string, double>>& terms, double total, double bound,
                     int64_t epoch, int64_t step) {
  std::string bad;
  for (const auto& [name, v] : terms)
    if (!std::isfinite(v)) bad += (bad.empty() ? "" : ", ") + name;
  if (bad.empty() && std::isfinite(total) && std::abs(total) <= bound) return;
  char numbers[96];
  std::snprintf(numbers, sizeof numbers, "the loss %.6g passed train.loss_bound %.6g", total, bound);
  const std::string what = !bad.empty() ? "loss term(s) " + bad + " became non-finite" : std::string(numbers);
  throw Diverged("training diverged at epoch " + std::to_string(epoch) + ", step " + std::to_string(step) + ": " +
                 what + " (" + describe_terms(terms) + ")");
}

// Stops the run when a gradient holds NaN or Inf (one summed reduction per tensor: a NaN or an Inf
// anywhere makes the sum non-finite; so does a sum past 3e38, which is divergence as well).
void check_gradients(const NamedTensors& params, int64_t epoch, int64_t step) {
  std::vector<at::Tensor> sums;
  std::vector<std::string> names;
  for (const auto& [name, t] : params)
    if (t.grad().defined()) {
      sums.push_back(t.grad().sum().to(at::kFloat).reshape({1}));
      names.push_back(name);
    }
  if (sums.empty()) return;
  const at::Tensor finite = at::isfinite(at::cat(sums)).to(at::kCPU);
  const bool* ok = finite.data_ptr<bool>();
  std::string bad;
  for (size_t k = 0; k < names.size(); ++k)
    if (!ok[k]) bad += (bad.empty() ? "" : ", ") + names[k];
  if (!bad.empty())
    throw Diverged("training diverged at epoch " + std::to_string(epoch) + ", step " + std::to_string(step) +
                   ": the gradient of " + bad + " became non-finite");
}

}  // namespace

NamedTensors batch_tensors(const data::Triplets& t, size_t start, size_t end, const at::Device& device) {
  auto slice = [&](const std::vector<int64_t>& v) {
    return at::from_blob(const_cast<int64_t*>(v.data() + start), {static_cast<int64_t>(end - start)}, at::kLong)
        .to(device, /*non_blocking=*/false, /*copy=*/true);
  };
  NamedTensors b;
  b.add("users", slice(t.users));
  b.add("pos", slice(t.pos));
  b.add("neg", slice(t.neg));
  return b;
}

double train_step(ModelStack& model, torch::optim::Optimizer& optimizer, const NamedTensors& batch,
                  const config::RunConfig& cfg, int64_t epoch, int64_t step,
                  std::vector<std::pair<std::string, double>>& step_terms) {
  optimizer.zero_grad();
  const NamedTensors terms = model.train_losses(batch);
  at::Tensor total = at::zeros({}, terms.begin()->second.options());
  step_terms.clear();
  for (const auto& [name, value] : terms) {
    step_terms.emplace_back(name, value.item<double>());
    total = total + value;
  }
  const double total_value = total.item<double>();
  check_step_loss(step_terms, total_value, cfg.train.loss_bound, epoch, step);
  log_term_gradient_norms(epoch, step, terms, model.parameters());  // RECGRID_GRAD_NORMS (developers)
  total.backward();
  check_gradients(model.parameters(), epoch, step);
  optimizer.step();
  model.after_step();
  return total_value;
}

}  // namespace recgrid::train
