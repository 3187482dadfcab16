#include "train/trainer.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/optim/adam.h>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <cmath>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "config/config.hpp"
#include "data/dataset.hpp"
#include "data/graph_builder.hpp"
#include "data/sampler.hpp"
#include "data/table_tensor.hpp"
#include "data/synthetic.hpp"
#include "eval/evaluator.hpp"
#include "eval/final_evaluation.hpp"
#include "recgrid/version.hpp"
#include "train/auto_options.hpp"
#include "train/checkpoint.hpp"
#include "train/grad_norms.hpp"
#include "train/learning_check.hpp"
#include "train/fitted_run.hpp"
#include "train/model_stack.hpp"
#include "train/progress.hpp"
#include "util/allocator.hpp"
#include "util/files.hpp"
#include "util/random.hpp"
#include "util/signal_guard.hpp"

namespace recgrid::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Independent random streams of a run (see derive_seed).
enum Stream : uint64_t { kSampling = 1, kTorch = 2, kEvalTorch = 3 };

// The stop signal received during training (0: none); see Interrupted.
volatile std::sig_atomic_t g_training_stop = 0;
extern "C" void on_training_stop(int sig) { g_training_stop = sig; }

// RECGRID_SIGNAL_AT=EPOCH:STEP (tests): the run sends itself SIGTERM after that step, so a test can
// stop it inside an epoch at a known place instead of racing it.
std::pair<int64_t, int64_t> test_signal_step() {
  static const std::pair<int64_t, int64_t> at = [] {
    const char* v = std::getenv("RECGRID_SIGNAL_AT");
    long long e = -1, st = -1;
    if (v && std::sscanf(v, "%lld:%lld", &e, &st) != 2) e = st = -1;
    return std::pair<int64_t, int64_t>{e, st};
  }();
  return at;
}

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

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The terminal side of a run's log: time and message on stderr.
std::shared_ptr<spdlog::sinks::stderr_sink_mt> console_sink() {
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  console->set_pattern("[%H:%M:%S] %v");
  return console;
}

// train.threads, or every core when it is 0.
int run_threads(const config::RunConfig& cfg) {
  return cfg.train.threads > 0 ? static_cast<int>(cfg.train.threads)
                               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& dir) {
  auto console = console_sink();
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(dir + "/log.txt");
  file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  auto log = std::make_shared<spdlog::logger>("run", spdlog::sinks_init_list{console, file});
  log->flush_on(spdlog::level::info);
  return log;
}

// The interactions, and where the text tables come from. A synthetic dataset is generated here and
// supplies its four tables in memory, unless dataset.text names a file for one of them.
data::Dataset load_dataset(const config::DatasetConfig& c, const at::Device& device, TextSources& text) {
  text.files = c.text;
  data::Dataset ds;
  if (c.format == "synthetic") {
    data::SyntheticData s = data::generate_synthetic(data::synth_options_from_json(c.synthetic));
    const std::pair<const char*, const data::FloatTable*> tables[] = {{"profile_user", &s.profile_user},
                                                                      {"profile_item", &s.profile_item},
                                                                      {"intent_user", &s.intent_user},
                                                                      {"intent_item", &s.intent_item}};
    for (auto [name, t] : tables) {
      const std::string key = std::string("<synthetic>/") + name;
      const bool named = std::any_of(c.text.begin(), c.text.end(), [&](const auto& f) { return f.first == name; });
      if (!named) text.files.emplace_back(name, key);
      text.preloaded[key] = data::to_tensor(*t).to(device);
    }
    ds = std::move(s.dataset);
  } else {
    ds = c.format == "tsv" ? data::load_tsv(c.path, c.n_users, c.n_items) : data::load_sslrec(c.path);
  }
  if (!c.name.empty()) ds.name = c.name;
  return ds;
}

// "line N: saved '...' / now '...'" for the first line where two texts differ.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ha = static_cast<bool>(std::getline(sa, la)), hb = static_cast<bool>(std::getline(sb, lb));
    if (!ha && !hb) return "(none)";
    if (!ha || !hb || la != lb)
      return "  line " + std::to_string(line) + ": saved '" + (ha ? la : "<end>") + "', now '" + (hb ? lb : "<end>") + "'";
  }
}

// --resume continues only the same configuration.
void check_same_config(const RunOptions& o) {
  const std::string path = o.out_dir + "/config.yaml";
  if (!fs::exists(path)) return;
  const std::string saved = read_text(path);
  if (config::without_execution_keys(saved) != config::without_execution_keys(o.resolved_yaml))
    throw DamagedRunFile(path + " differs from this run's resolved configuration: --resume continues only the same "
                         "configuration. Run with --force to start this run over with the new one, or choose another "
                         "--out. First difference:\n" + first_difference(saved, o.resolved_yaml));
}

// Prepares the run folder; returns true when a checkpoint should be resumed.
bool prepare_run_dir(const RunOptions& o) {
  const fs::path dir(o.out_dir);
  const bool has_checkpoint = fs::exists(dir / "checkpoint.pt");
  const bool has_results = fs::exists(dir / "results.json");
  if (o.force && fs::exists(dir)) {
    for (const char* f : {"checkpoint.pt", "best.pt", "results.json", "metrics.jsonl", "config.yaml", "log.txt",
                          "per_user_test.tsv.gz", "per_user_valid.tsv.gz"})
      fs::remove(dir / f);
  } else if (!o.resume && (has_checkpoint || has_results)) {
    throw std::runtime_error(o.out_dir + " already holds a" + std::string(has_results ? " finished" : "n unfinished") +
                             " run: pass --resume to continue it, --force to start over, or choose another --out");
  }
  fs::create_directories(dir);
  if (o.resume && !o.force) check_same_config(o);
  write_file_atomic((dir / "config.yaml").string(), o.resolved_yaml);
  return o.resume && !o.force && has_checkpoint;
}

// Keeps the metrics lines of epochs <= last_epoch (a resumed run rewrites the ones after it).
void truncate_metrics(const std::string& path, int64_t last_epoch) {
  std::string kept;
  for (const std::string& line : read_lines(path)) {
    try {
      if (nlohmann::json::parse(line).at("epoch").get<int64_t>() <= last_epoch) kept += line + "\n";
    } catch (const std::exception&) {  // a torn last line from a kill: drop it
    }
  }
  write_file_atomic(path, kept);
}

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

std::string format_metrics(const std::map<std::string, double>& m, const std::vector<int>& ks) {
  std::string s;
  char buf[64];
  for (int k : ks) {
    std::snprintf(buf, sizeof buf, "R@%d %.4f N@%d %.4f  ", k, m.at("recall@" + std::to_string(k)), k,
                  m.at("ndcg@" + std::to_string(k)));
    s += buf;
  }
  return s;
}

// Mean loss terms of one epoch, in the order the model reports them.
struct EpochLosses {
  std::vector<std::pair<std::string, double>> terms;
  double total = 0;
};

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

// One epoch (§1.3, §1.5): fresh negatives, shuffled batches, zero_grad / loss / backward / Adam step /
// after_step hooks. Its randomness depends only on the seed and the epoch number. When `mid` says the
// run stopped inside this epoch, its rest. A stop signal ends it after the current step: `mid` then
// holds where (and stopped is true). A finished epoch clears `mid`.
// One optimizer step on a batch: the loss terms (into `step_terms`), their checks, backward, the
// gradients' check, the update and the plugins' after-step hook. Returns the total loss.
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

struct EpochRun {
  EpochLosses losses;
  bool stopped = false;
};
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
    if (test_signal_step() == std::pair<int64_t, int64_t>{epoch, step}) std::raise(SIGTERM);
    if (g_training_stop && step + 1 < steps) {
      mid = MidEpoch{epoch, step + 1, sums.terms, sums.total, 0, generator_state()};
      return {sums, true};
    }
  }
  for (auto& term : sums.terms) term.second /= static_cast<double>(steps);
  sums.total /= static_cast<double>(steps);
  mid = MidEpoch{};
  return {sums, false};
}

// Early stopping (§1.5): a strictly better validation Recall@20 resets patience; evaluations before
// train.min_epochs never count against it.
struct EarlyStopping {
  LoopState& state;
  const config::TrainConfig& train;

  // Returns true when this evaluation is the best so far.
  bool observe(int64_t epoch, double recall) {
    state.epoch = epoch;
    if (recall > state.best_recall) {
      state.best_recall = recall;
      state.best_epoch = epoch;
      state.bad_evals = 0;
      return true;
    }
    if (epoch >= train.min_epochs) ++state.bad_evals;
    return false;
  }
  bool should_stop() const { return state.bad_evals >= train.patience; }
};

// The device must exist in this LibTorch build before anything is put on it.
at::Device checked_device(const std::string& name) {
  const at::Device device(name);
  if (device.is_cuda() && !at::hasCUDA())
    throw config::ConfigError("train.device is '" + name + "', but this LibTorch build has no CUDA support: set "
                              "train.device=cpu, or build RecGrid against a CUDA LibTorch (cmake -DTorch_DIR=...)");
  return device;
}

// The model of a run and what it reads: text tables, dataset, graph, the plugin stack.
struct ModelParts {
  TextSources text;
  data::Dataset dataset;
  Graph graph;
  NamedTensors graph_list;
  std::unique_ptr<ModelStack> model;
};

// Everything a run trains and evaluates, built from the configuration.
struct RunParts : ModelParts {
  std::unique_ptr<data::UserItemIndex> train_index;
  std::unique_ptr<data::BprSampler> sampler;
  std::unique_ptr<eval::Evaluator> valid_eval, test_eval;
  std::unique_ptr<torch::optim::Adam> optimizer;
};

// The plugin instances are created after seeding the generator with the run seed (random init).
void build_model(ModelParts& p, const config::RunConfig& cfg, const plugin::Registry& registry,
                 const at::Device& device, spdlog::logger& log) {
  auto t0 = Clock::now();
  p.text.reduce = {cfg.text.reduce_dim, [&log](const std::string& line) { log.info("text table {}", line); }};
  p.dataset = load_dataset(cfg.dataset, device, p.text);
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

struct LoopOutcome {
  std::string stop_reason = "max_epochs";
  int64_t last_epoch = -1;
  std::vector<double> train_times, eval_times;  // this session's epochs and evaluations
};

// The stream of the final evaluation on validation, after loading best.pt (export uses it too).
constexpr uint64_t kFinalValidStream = 1000000001ULL;
// The stream of the untrained model's evaluation before epoch 0.
constexpr uint64_t kUntrainedValidStream = 1000000003ULL;

// One evaluation of the model's current state. The torch generator is seeded from the run seed and
// `stream` first, so models with random encoders evaluate reproducibly (and a resumed run the same).
std::map<std::string, double> evaluate(RunParts& p, const eval::Evaluator& ev, uint64_t seed, uint64_t stream) {
  at::manual_seed(derive_seed(seed, kEvalTorch, stream));
  return ev.run([&] { return p.model->eval_embeddings(); }, p.model->encode_per_eval_batch());
}

// The untrained model on validation, once before epoch 0: what "did not learn" is judged against
// (learning_check.hpp). Its own evaluation stream; each epoch re-seeds the generator, so no later
// number changes.
nlohmann::json evaluate_untrained(RunParts& p, const config::RunConfig& cfg, spdlog::logger& log) {
  const auto start = Clock::now();
  const auto valid = evaluate(p, *p.valid_eval, cfg.train.seed, kUntrainedValidStream);
  const double eval_s = seconds_since(start);
  log.info("untrained model: valid {} ({:.2f} s eval)", format_metrics(valid, cfg.train.topk), eval_s);
  return {{"valid", valid}, {"eval_time_s", eval_s}};
}

// The final evaluation of the best parameters on one split, as evaluate() with the same stream, plus
// the eval.* metrics, the groups and (when `per_user_file` is not empty) the per-user results file.
eval::FinalEvaluation evaluate_final(RunParts& p, const eval::Evaluator& ev, const config::RunConfig& cfg,
                                     uint64_t stream, const std::string& per_user_file) {
  at::manual_seed(derive_seed(cfg.train.seed, kEvalTorch, stream));
  const eval::AnalysisOptions options{cfg.eval.metrics, static_cast<int>(cfg.eval.user_groups), cfg.eval.head_share,
                                      per_user_file};
  return eval::evaluate_with_analysis(ev, p.dataset, options, [&] { return p.model->eval_embeddings(); },
                                      p.model->encode_per_eval_batch());
}

// A stop signal inside (or right after an unevaluated) epoch: checkpoint.pt with the position in
// state.mid, then Interrupted.
[[noreturn]] void stop_here(RunParts& p, const RunOptions& o, LoopState& state, double epoch_train_s, double elapsed_s,
                            spdlog::logger& log) {
  state.mid.train_s = epoch_train_s;
  state.elapsed_s = elapsed_s;
  save_checkpoint(o.out_dir + "/checkpoint.pt", p.model->parameters(), p.model->buffers(), *p.optimizer, state);
  const std::string where = "epoch " + std::to_string(state.mid.epoch) + ", step " + std::to_string(state.mid.next_step);
  log.info("stopped by signal {} before {}: checkpoint.pt holds that point; `recgrid run ... --resume` continues from "
           "it with the same numbers", static_cast<int>(g_training_stop), where);
  throw Interrupted("stopped by signal " + std::to_string(g_training_stop) + " before " + where);
}

// A stop signal during an evaluated epoch's evaluation or checkpoint: that checkpoint is the point.
[[noreturn]] void stop_after_evaluation(int64_t epoch, spdlog::logger& log) {
  log.info("stopped by signal {} after epoch {}: checkpoint.pt is written; `recgrid run ... --resume` continues",
           static_cast<int>(g_training_stop), epoch);
  throw Interrupted("stopped by signal " + std::to_string(g_training_stop) + " after epoch " + std::to_string(epoch));
}

// train.pause_after reached before `epoch`: checkpoint.pt holds the start of that epoch, then Paused.
[[noreturn]] void pause_before(int64_t epoch, RunParts& p, const RunOptions& o, LoopState& state, double elapsed_s,
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

// The progress line's "best R@20 0.1234 @57".
std::string best_summary(const LoopState& state) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "best R@20 %.4f @%lld", state.best_recall, static_cast<long long>(state.best_epoch));
  return buf;
}

// The epoch loop, from the state after the last checkpoint to early stopping or train.epochs.
LoopOutcome run_epochs(RunParts& p, const config::RunConfig& cfg, const RunOptions& o, LoopState& state,
                       double elapsed_before, Clock::time_point session_start, const at::Device& device,
                       spdlog::logger& log) {
  const std::string ckpt = o.out_dir + "/checkpoint.pt", best_path = o.out_dir + "/best.pt";
  Progress progress(o.progress);
  const char* abort_env = std::getenv("RECGRID_ABORT_AFTER_EPOCH");  // tests: simulate a crash
  const int64_t abort_after = abort_env ? std::atoll(abort_env) : -1;
  // RECGRID_TRACE=FILE: a Chrome trace of the operators of the second training epoch (developers).
  const char* trace_path = std::getenv("RECGRID_TRACE");
  EarlyStopping stopping{state, cfg.train};
  LoopOutcome out;
  out.last_epoch = state.epoch;
  std::string best_text;
  const int64_t first_epoch = state.mid.epoch >= 0 ? state.mid.epoch : state.epoch + 1;
  for (int64_t epoch = first_epoch; epoch < cfg.train.epochs; ++epoch) {
    if (cfg.train.pause_after > 0 && epoch >= cfg.train.pause_after)
      pause_before(epoch, p, o, state, elapsed_before + seconds_since(session_start), log);
    std::unique_ptr<torch::autograd::profiler::RecordProfile> trace;
    if (trace_path && epoch == state.epoch + 2) trace = std::make_unique<torch::autograd::profiler::RecordProfile>(trace_path);
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
      if (g_training_stop) {  // between epochs: the next one starts from its first step
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
    if (g_training_stop) stop_after_evaluation(epoch, log);  // this epoch's checkpoint is written
  }
  progress.clear();
  return out;
}

// results.json of a run that diverged: what happened and the last good evaluation (kept in
// checkpoint.pt / best.pt).
void write_diverged(const config::RunConfig& cfg, const RunOptions& o, const LoopState& state, const Diverged& e,
                    spdlog::logger& log) {
  nlohmann::json results = {{"name", cfg.name},         {"model", cfg.model.name},     {"seed", cfg.train.seed},
                            {"status", "diverged"},     {"error", e.what()},           {"best_epoch", state.best_epoch},
                            {"best_valid_recall@20", state.best_recall},               {"last_good_epoch", state.epoch},
                            {"recgrid_version", RECGRID_VERSION}};
  results["enhancers"] = nlohmann::json::array();
  for (const auto& en : cfg.enhancers) results["enhancers"].push_back(en.name);
  write_file_atomic(o.out_dir + "/results.json", results.dump(2) + "\n");
  log.error("{}", e.what());
  if (state.epoch >= 0)
    log.error("checkpoint.pt and best.pt keep the last good evaluation (epoch {})", state.epoch);
  else
    log.error("it diverged before the first evaluation: no checkpoint.pt or best.pt was written");
  log.error("results.json says status: diverged. Try a smaller train.lr (now {:g}) or smaller loss weights, then run "
            "again with --force", cfg.train.lr);
}

// Restores the best snapshot, evaluates it on validation and test (§1.5), flags a run that did not
// learn, and writes results.json.
nlohmann::json finish_run(RunParts& p, const config::RunConfig& cfg, const RunOptions& o, const LoopState& state,
                          const LoopOutcome& loop, double wall, double setup_s, int threads, spdlog::logger& log) {
  if (state.best_epoch < 0) throw std::runtime_error("no validation happened: train.epochs is smaller than 1?");
  load_tensors(o.out_dir + "/best.pt", p.model->parameters(), p.model->buffers());
  const std::string valid_file = cfg.eval.per_user_valid ? o.out_dir + "/per_user_valid.tsv.gz" : "";
  const auto final_valid = evaluate_final(p, *p.valid_eval, cfg, kFinalValidStream, valid_file);
  const auto final_test = evaluate_final(p, *p.test_eval, cfg, 1000000002ULL, o.out_dir + "/per_user_test.tsv.gz");
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
  if (o.resume && !o.force && fs::exists(o.out_dir + "/results.json")) {  // nothing left to do
    check_same_config(o);
    const auto results = nlohmann::json::parse(read_text(o.out_dir + "/results.json"));
    if (results.value("status", "ok") == "diverged")
      throw Diverged(o.out_dir + " holds a run that diverged (" + results.value("error", std::string("?")) +
                     "); change the configuration and run with --force to start it over");
    // In the run's log.txt as well: a rerun that only found the run finished says so there.
    make_logger(o.out_dir)->info("{} already finished; its results are unchanged", o.out_dir);
    return results;
  }
  if (is_fitted_model(cfg, registry)) return run_fitted(cfg, registry, o);  // no SGD loop
  const at::Device device = checked_device(cfg.train.device);
  const bool resuming = prepare_run_dir(o);
  keep_freed_memory_for_reuse();
  auto log = make_logger(o.out_dir);
  const int threads = run_threads(cfg);
  at::set_num_threads(threads);
  log->info("run folder {} ({} threads, device {})", o.out_dir, threads, device.str());

  g_training_stop = 0;
  const SignalGuard stop_signals({SIGTERM, SIGUSR1}, on_training_stop);  // stop at the end of a step (Interrupted)
  RunParts p;
  build_parts(p, cfg, registry, device, *log);
  const std::string metrics_path = o.out_dir + "/metrics.jsonl";
  LoopState state;
  if (resuming) {
    state = load_checkpoint(o.out_dir + "/checkpoint.pt", p.model->parameters(), p.model->buffers(), *p.optimizer);
    truncate_metrics(metrics_path, state.epoch);
    if (state.mid.epoch >= 0)
      log->info("resumed inside epoch {} at step {} (best Recall@20 {:.4f} at epoch {})", state.mid.epoch,
                state.mid.next_step, state.best_recall, state.best_epoch);
    else
      log->info("resumed after epoch {} (best Recall@20 {:.4f} at epoch {})", state.epoch, state.best_recall,
                state.best_epoch);
  } else {
    write_file_atomic(metrics_path, "");
    state.untrained = evaluate_untrained(p, cfg, *log).dump();
  }
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

TrainedModel load_trained_model(const std::string& run_dir, const config::RunConfig& cfg,
                                const plugin::Registry& registry) {
  if (!fs::exists(run_dir + "/best.pt"))
    throw std::runtime_error(run_dir + " has no best.pt: no epoch of it was evaluated yet (run it first, or --resume it)");
  spdlog::logger log("export", console_sink());
  at::set_num_threads(run_threads(cfg));
  ModelParts p;
  build_model(p, cfg, registry, checked_device(cfg.train.device), log);
  load_tensors(run_dir + "/best.pt", p.model->parameters(), p.model->buffers());
  at::manual_seed(derive_seed(cfg.train.seed, kEvalTorch, kFinalValidStream));  // as the final evaluation
  TrainedModel t;
  t.embeddings = p.model->eval_embeddings();
  t.text_side = p.model->text_side_embeddings();
  t.dataset = std::move(p.dataset);
  return t;
}

}  // namespace recgrid::train

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
