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
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "config/config.hpp"
#include "data/dataset.hpp"
#include "data/graph_builder.hpp"
#include "data/sampler.hpp"
#include "data/table_tensor.hpp"
#include "data/synthetic.hpp"
#include "eval/evaluator.hpp"
#include "recgrid/version.hpp"
#include "train/checkpoint.hpp"
#include "train/model_stack.hpp"
#include "train/progress.hpp"
#include "util/allocator.hpp"
#include "util/files.hpp"
#include "util/random.hpp"

namespace recgrid::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Independent random streams of a run (see derive_seed).
enum Stream : uint64_t { kSampling = 1, kTorch = 2, kEvalTorch = 3 };

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& dir) {
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  console->set_pattern("[%H:%M:%S] %v");
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
    throw std::runtime_error(path + " differs from this run's resolved configuration; --resume needs the same "
                             "configuration. First difference:\n" + first_difference(saved, o.resolved_yaml));
}

// Prepares the run folder; returns true when a checkpoint should be resumed.
bool prepare_run_dir(const RunOptions& o) {
  const fs::path dir(o.out_dir);
  const bool has_checkpoint = fs::exists(dir / "checkpoint.pt");
  const bool has_results = fs::exists(dir / "results.json");
  if (o.force && fs::exists(dir)) {
    for (const char* f : {"checkpoint.pt", "best.pt", "results.json", "metrics.jsonl", "config.yaml", "log.txt"})
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

void append_line(const std::string& path, const std::string& line) {
  std::ofstream f(path, std::ios::app);
  f << line << "\n";
  f.flush();
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

// One epoch (§1.3, §1.5): fresh negatives, shuffled batches, zero_grad / loss / backward / Adam step /
// after_step hooks. Its randomness depends only on the seed and the epoch number.
EpochLosses train_epoch(ModelStack& model, torch::optim::Optimizer& optimizer, const data::BprSampler& sampler,
                        const config::RunConfig& cfg, int64_t epoch, const at::Device& device, Progress& progress,
                        const std::string& best_text) {
  const data::Triplets triplets = sampler.sample_epoch(derive_seed(cfg.train.seed, kSampling, epoch));
  at::manual_seed(derive_seed(cfg.train.seed, kTorch, epoch));
  const size_t n_samples = triplets.size();
  const int64_t steps = static_cast<int64_t>((n_samples + cfg.train.batch_size - 1) / cfg.train.batch_size);
  EpochLosses sums;
  for (int64_t step = 0; step < steps; ++step) {
    const size_t start = static_cast<size_t>(step * cfg.train.batch_size);
    const size_t end = std::min(n_samples, start + static_cast<size_t>(cfg.train.batch_size));
    const NamedTensors batch = batch_tensors(triplets, start, end, device);
    optimizer.zero_grad();
    const NamedTensors terms = model.train_losses(batch);
    at::Tensor total = at::zeros({}, terms.begin()->second.options());
    size_t k = 0;
    for (const auto& [name, value] : terms) {
      if (sums.terms.size() <= k) sums.terms.emplace_back(name, 0.0);
      sums.terms[k++].second += value.item<double>();
      total = total + value;
    }
    const double total_value = total.item<double>();
    if (!std::isfinite(total_value))
      throw std::runtime_error("loss became " + std::to_string(total_value) + " at epoch " + std::to_string(epoch) +
                               ", step " + std::to_string(step) + " (terms: " + terms.names() + ")");
    sums.total += total_value;
    total.backward();
    optimizer.step();
    model.after_step();
    progress.update(epoch, cfg.train.epochs, step + 1, steps, sums.total / static_cast<double>(step + 1), best_text);
  }
  for (auto& term : sums.terms) term.second /= static_cast<double>(steps);
  sums.total /= static_cast<double>(steps);
  return sums;
}

}  // namespace

nlohmann::json run_training(const config::RunConfig& cfg, const plugin::Registry& registry, const RunOptions& o) {
  const auto wall_start = Clock::now();
  if (o.resume && !o.force && fs::exists(o.out_dir + "/results.json")) {  // nothing left to do
    check_same_config(o);
    spdlog::info("{} already finished; its results are unchanged", o.out_dir);
    return nlohmann::json::parse(read_text(o.out_dir + "/results.json"));
  }
  const bool resuming = prepare_run_dir(o);
  keep_freed_memory_for_reuse();
  auto log = make_logger(o.out_dir);
  const int threads = cfg.train.threads > 0 ? static_cast<int>(cfg.train.threads)
                                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  const at::Device device(cfg.train.device);
  log->info("run folder {} ({} threads, device {})", o.out_dir, threads, device.str());

  // Data and graph.
  auto t0 = Clock::now();
  TextSources text;
  text.reduce = {cfg.text.reduce_dim, [&log](const std::string& line) { log->info("text table {}", line); }};
  const data::Dataset ds = load_dataset(cfg.dataset, device, text);
  log->info("dataset {}: {} users, {} items, {} train / {} valid / {} test interactions ({:.2f} s)", ds.name,
            ds.n_users, ds.n_items, ds.train.size(), ds.valid.size(), ds.test.size(), seconds_since(t0));
  for (const auto& w : ds.warnings) log->warn("dataset check: {}", w);
  const Graph graph = data::build_graph(ds, device);
  const NamedTensors graph_list = data::graph_tensors(graph, ds, device);
  const data::UserItemIndex train_index(ds.train, ds.n_users);
  const data::BprSampler sampler(ds.train, train_index, ds.n_items);
  const eval::Evaluator valid_eval(ds, ds.valid, cfg.train.topk, cfg.train.eval_batch);
  const eval::Evaluator test_eval(ds, ds.test, cfg.train.topk, cfg.train.eval_batch);

  // Model and optimizer.
  at::manual_seed(cfg.train.seed);
  ModelStack model(registry, cfg, ds, graph_list, text);
  std::vector<at::Tensor> trainable;
  for (const auto& [name, t] : model.parameters()) trainable.push_back(t);
  torch::optim::Adam optimizer(trainable, torch::optim::AdamOptions(cfg.train.lr).betas({0.9, 0.999}).eps(1e-8));
  int64_t n_params = 0;
  for (const auto& t : trainable) n_params += t.numel();
  log->info("model {} with {} enhancer(s): {} trainable values", cfg.model.name, cfg.enhancers.size(), n_params);

  const std::string ckpt = o.out_dir + "/checkpoint.pt", best_path = o.out_dir + "/best.pt";
  const std::string metrics_path = o.out_dir + "/metrics.jsonl";
  LoopState state;
  if (resuming) {
    state = load_checkpoint(ckpt, model.parameters(), model.buffers(), optimizer);
    truncate_metrics(metrics_path, state.epoch);
    log->info("resumed after epoch {} (best Recall@20 {:.4f} at epoch {})", state.epoch, state.best_recall,
              state.best_epoch);
  } else {
    write_file_atomic(metrics_path, "");
  }
  const double elapsed_before = state.elapsed_s;
  const auto session_start = Clock::now();

  auto eval_with = [&](const eval::Evaluator& ev, uint64_t stream_step) {
    at::manual_seed(derive_seed(cfg.train.seed, kEvalTorch, stream_step));  // random encoders stay reproducible
    return ev.run([&] { return model.eval_embeddings(); }, model.encode_per_eval_batch());
  };

  Progress progress(o.progress);
  const char* abort_env = std::getenv("RECGRID_ABORT_AFTER_EPOCH");  // tests: simulate a crash
  const int64_t abort_after = abort_env ? std::atoll(abort_env) : -1;
  std::string stop_reason = "max_epochs";
  std::string best_text = "";
  std::vector<double> train_times, eval_times;  // this session's epochs and evaluations
  int64_t last_epoch = state.epoch;

  // RECGRID_TRACE=FILE: a Chrome trace of the operators of the second training epoch (developers).
  const char* trace_path = std::getenv("RECGRID_TRACE");
  for (int64_t epoch = state.epoch + 1; epoch < cfg.train.epochs; ++epoch) {
    std::unique_ptr<torch::autograd::profiler::RecordProfile> trace;
    if (trace_path && epoch == state.epoch + 2) trace = std::make_unique<torch::autograd::profiler::RecordProfile>(trace_path);
    const auto epoch_start = Clock::now();
    const EpochLosses losses = train_epoch(model, optimizer, sampler, cfg, epoch, device, progress, best_text);
    const double train_s = seconds_since(epoch_start);
    train_times.push_back(train_s);
    last_epoch = epoch;
    trace.reset();
    if (epoch % cfg.train.test_step != 0) continue;

    // Validation and early stopping (§1.5): strictly better Recall@20 resets patience.
    const auto eval_start = Clock::now();
    const auto valid = eval_with(valid_eval, static_cast<uint64_t>(epoch));
    const double eval_s = seconds_since(eval_start);
    eval_times.push_back(eval_s);
    const double recall = valid.at("recall@20");
    const bool improved = recall > state.best_recall;
    if (improved) {
      state.best_recall = recall;
      state.best_epoch = epoch;
      state.bad_evals = 0;
      save_tensors(best_path, model.parameters(), model.buffers());
    } else {
      ++state.bad_evals;
    }
    state.epoch = epoch;
    nlohmann::json line = {{"epoch", epoch}, {"train_time_s", train_s}, {"eval_time_s", eval_s}, {"valid", valid},
                           {"best_epoch", state.best_epoch}};
    nlohmann::json loss = nlohmann::json::object();
    for (const auto& [name, mean] : losses.terms) loss[name] = mean;
    loss["total"] = losses.total;
    line["loss"] = loss;
    append_line(metrics_path, line.dump());
    state.elapsed_s = elapsed_before + seconds_since(session_start);
    save_checkpoint(ckpt, model.parameters(), model.buffers(), optimizer, state);
    progress.clear();
    log->info("epoch {:4d}  loss {:.5f}  valid {} {}  ({:.2f} s train, {:.2f} s eval)", epoch,
              loss["total"].get<double>(), format_metrics(valid, cfg.train.topk), improved ? "*" : " ", train_s, eval_s);
    char buf[64];
    std::snprintf(buf, sizeof buf, "best R@20 %.4f @%lld", state.best_recall, static_cast<long long>(state.best_epoch));
    best_text = buf;
    if (epoch == abort_after) std::_Exit(75);
    if (state.bad_evals >= cfg.train.patience) {
      stop_reason = "early_stopping";
      break;
    }
  }
  progress.clear();

  // Restore the best snapshot and report it (§1.5).
  if (state.best_epoch < 0) throw std::runtime_error("no validation happened: train.epochs is smaller than 1?");
  load_tensors(best_path, model.parameters(), model.buffers());
  const auto valid = eval_with(valid_eval, 1000000001ULL);
  const auto test = eval_with(test_eval, 1000000002ULL);
  log->info("best epoch {}: valid {}", state.best_epoch, format_metrics(valid, cfg.train.topk));
  log->info("best epoch {}: test  {}", state.best_epoch, format_metrics(test, cfg.train.topk));

  nlohmann::json plugins = nlohmann::json::object();
  for (const auto& [name, version] : model.versions()) plugins[name] = version;
  const double wall = elapsed_before + seconds_since(session_start);
  nlohmann::json results = {
      {"name", cfg.name},
      {"dataset", ds.name},
      {"model", cfg.model.name},
      {"enhancers", nlohmann::json::array()},
      {"seed", cfg.train.seed},
      {"best_epoch", state.best_epoch},
      {"epochs_run", last_epoch + 1},
      {"stopped_by", stop_reason},
      {"valid", valid},
      {"test", test},
      {"wall_time_s", wall},
      {"setup_time_s", std::chrono::duration<double>(session_start - wall_start).count()},
      {"median_epoch_train_s", median(train_times)},
      {"median_eval_s", median(eval_times)},
      {"peak_rss_mib", peak_rss_mib()},
      {"threads", threads},
      {"recgrid_version", RECGRID_VERSION},
      {"plugins", plugins},
  };
  for (const auto& e : cfg.enhancers) results["enhancers"].push_back(e.name);
  write_file_atomic(o.out_dir + "/results.json", results.dump(2) + "\n");
  log->info("results written to {}/results.json ({:.1f} s)", o.out_dir, wall);
  return results;
}

}  // namespace recgrid::train
