#include "train/run_folder.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "config/config.hpp"
#include "recgrid/version.hpp"
#include "util/files.hpp"

namespace recgrid::train {

namespace fs = std::filesystem;

namespace {

// What --force removes, by kind of run.
const std::vector<const char*> kTrainedRunFiles = {"checkpoint.pt", "best.pt", "results.json", "metrics.jsonl",
                                                   "config.yaml", "log.txt", "per_user_test.tsv.gz",
                                                   "per_user_valid.tsv.gz"};
const std::vector<const char*> kFittedRunFiles = {"fitted.pt", "results.json", "metrics.jsonl", "config.yaml",
                                                  "log.txt"};

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

}  // namespace

void check_same_config(const RunOptions& o) {
  const std::string path = o.out_dir + "/config.yaml";
  if (!fs::exists(path)) return;
  const std::string saved = read_text(path);
  if (config::without_execution_keys(saved) != config::without_execution_keys(o.resolved_yaml))
    throw DamagedRunFile(path + " differs from this run's resolved configuration: --resume continues only the same "
                         "configuration. Run with --force to start this run over with the new one, or choose another "
                         "--out. First difference:\n" + first_difference(saved, o.resolved_yaml));
}

bool prepare_run_dir(const RunOptions& o, RunKind kind) {
  const bool trained = kind == RunKind::trained;
  const fs::path dir(o.out_dir);
  const bool has_checkpoint = trained && fs::exists(dir / "checkpoint.pt");  // a fitted run has none
  const bool has_results = fs::exists(dir / "results.json");
  if (o.force && fs::exists(dir)) {
    for (const char* f : trained ? kTrainedRunFiles : kFittedRunFiles) fs::remove(dir / f);
  } else if (!o.resume && (has_checkpoint || has_results)) {
    throw std::runtime_error(o.out_dir + " already holds a" + std::string(has_results ? " finished" : "n unfinished") +
                             " run: pass --resume to " + (trained ? "continue" : "keep") +
                             " it, --force to start over, or choose another --out");
  }
  fs::create_directories(dir);
  // A fitted run resumed is fitted again from the start: its configuration is not compared.
  if (trained && o.resume && !o.force) check_same_config(o);
  write_file_atomic((dir / "config.yaml").string(), o.resolved_yaml);
  if (!trained) write_file_atomic((dir / "metrics.jsonl").string(), "");
  return o.resume && !o.force && has_checkpoint;
}

nlohmann::json finished_run_results(const RunOptions& o) {
  check_same_config(o);
  const auto results = nlohmann::json::parse(read_text(o.out_dir + "/results.json"));
  if (results.value("status", "ok") == "diverged")
    throw Diverged(o.out_dir + " holds a run that diverged (" + results.value("error", std::string("?")) +
                   "); change the configuration and run with --force to start it over");
  // In the run's log.txt as well: a rerun that only found the run finished says so there.
  make_run_logger(o.out_dir, "run")->info("{} already finished; its results are unchanged", o.out_dir);
  return results;
}

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

std::shared_ptr<spdlog::sinks::stderr_sink_mt> console_sink() {
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  console->set_pattern("[%H:%M:%S] %v");
  return console;
}

std::shared_ptr<spdlog::logger> make_run_logger(const std::string& dir, const std::string& name) {
  auto console = console_sink();
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(dir + "/log.txt");
  file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  auto log = std::make_shared<spdlog::logger>(name, spdlog::sinks_init_list{console, file});
  log->flush_on(spdlog::level::info);
  return log;
}

}  // namespace recgrid::train
