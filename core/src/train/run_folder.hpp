// The run folder (--out) of a trained or fitted run: preparing it (--force, --resume, the same
// configuration), its log, metrics.jsonl cut back for a resumed run, and results.json of a run that
// finished earlier or diverged.
#pragma once

#include <nlohmann/json.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdint>
#include <memory>
#include <string>

#include "config/run_config.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

namespace recgrid::train {

// A trained run keeps checkpoint.pt and best.pt and resumes from its checkpoint; a fitted one keeps
// fitted.pt and is fitted again from the start.
enum class RunKind { trained, fitted };

// --force empties the folder of the run's files; without --resume, a folder holding a finished run
// (or a trained run's checkpoint) is refused. A trained run resumed must have the same configuration
// (check_same_config). Writes config.yaml (and, for a fitted run, an empty metrics.jsonl). Returns
// true when a checkpoint should be resumed.
bool prepare_run_dir(const RunOptions& o, RunKind kind);

// --resume continues only the same configuration: throws DamagedRunFile naming the first difference
// when the folder's config.yaml differs from this run's (execution keys aside).
void check_same_config(const RunOptions& o);

// The results of a run the folder holds finished (after check_same_config): a rerun with --resume
// returns them and says so in log.txt. Throws Diverged when that run diverged.
nlohmann::json finished_run_results(const RunOptions& o);

// Keeps the metrics lines of epochs <= last_epoch (a resumed run rewrites the ones after it).
void truncate_metrics(const std::string& path, int64_t last_epoch);

// results.json of a run that diverged: what happened and the last good evaluation (kept in
// checkpoint.pt / best.pt); the log says what to try.
void write_diverged(const config::RunConfig& cfg, const RunOptions& o, const LoopState& state, const Diverged& e,
                    spdlog::logger& log);

// The terminal side of a run's log: time and message on stderr.
std::shared_ptr<spdlog::sinks::stderr_sink_mt> console_sink();

// The run's log: the terminal, and log.txt in `dir` with the date and level.
std::shared_ptr<spdlog::logger> make_run_logger(const std::string& dir, const std::string& name);

}  // namespace recgrid::train
