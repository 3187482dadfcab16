#include "grid/search_runner.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "config/host_keys.hpp"
#include "train/trainer.hpp"
#include "util/files.hpp"

namespace recgrid::grid {

namespace fs = std::filesystem;

ValidationsBefore validations_before(const std::string& metrics_path, const std::string& metric, int epochs) {
  ValidationsBefore v;
  for (const std::string& line : read_lines(metrics_path)) {
    try {
      const auto m = nlohmann::json::parse(line);
      const int epoch = m.at("epoch").get<int>();
      if (epoch >= epochs || !m.contains("valid")) continue;
      if (!m["valid"].contains(metric))
        throw std::runtime_error(metrics_path + " has no validation " + metric + ": search.metric needs its K in train.topk");
      const double value = m["valid"][metric].get<double>();
      if (value > v.best) v.best = value, v.best_epoch = epoch;  // ties: the first epoch (a plateau is not improving)
      v.last_epoch = std::max(v.last_epoch, epoch);
    } catch (const nlohmann::json::exception&) {  // a torn last line from a kill: the rerun rewrites it
    }
  }
  return v;
}

double best_metric_before(const std::string& metrics_path, const std::string& metric, int epochs) {
  return validations_before(metrics_path, metric, epochs).best;
}

namespace {

// One searched row: its cells' shared configuration and its trials.
struct Row {
  std::string id;
  bool selected = true;            // a cell of it is one this process takes (--only / --cell)
  std::vector<size_t> dims;        // the space's dimensions this row has
  std::vector<CellInfo> trials;    // trial k's run folder and configuration
  std::vector<std::vector<std::string>> values;  // trial k's value of each of `dims`
};

std::string rung_path(const CellInfo& trial, int epochs) { return trial.dir + "/rung-" + std::to_string(epochs) + ".json"; }

// epochs: auto: trial 0's run to early stopping, written when it ended.
std::string converged_path(const CellInfo& trial) { return trial.dir + "/converged.json"; }

nlohmann::json read_converged(const CellInfo& trial) {
  const std::string path = converged_path(trial);
  return fs::exists(path) ? nlohmann::json::parse(read_text(path)) : nlohmann::json(nullptr);
}

// Trial 0's run ended (finished or diverged): its best epoch (by the run's early-stopping metric),
// epochs run, status, and its best search metric at convergence (the configured values' score).
nlohmann::json record_converged(const CellInfo& trial, const SearchSpec& s) {
  const auto results = nlohmann::json::parse(read_text(trial.dir + "/results.json"));
  const ValidationsBefore v = validations_before(trial.dir + "/metrics.jsonl", s.metric, 1 << 30);
  const std::string status = results.value("status", std::string("ok"));
  const nlohmann::json converged = {
      {"best_epoch", results.value("best_epoch", -1)},
      {"epochs_run", results.contains("epochs_run") ? results["epochs_run"].get<int>() : results.value("last_good_epoch", -1) + 1},
      {"status", status},
      {"stopped_by", results.value("stopped_by", std::string())},
      {"metric", status == "diverged" || v.best < 0 ? nlohmann::json(nullptr) : nlohmann::json(v.best)},
      {"metric_epoch", v.best_epoch}};
  write_file_atomic(converged_path(trial), converged.dump(2) + "\n");
  return converged;
}

// The dimensions whose key the row's resolved configuration has; the trials' values.
std::vector<size_t> row_dimensions(const SearchSpec& s, const YAML::Node& resolved) {
  std::vector<size_t> dims;
  for (size_t d = 0; d < s.space.size(); ++d)
    if (config::node_at(resolved, s.space[d].key).IsDefined()) dims.push_back(d);
  return dims;
}

// The configuration of trial `k` of a row: the row's first cell (resolved: its keys in the order that
// names the trial folders), the trial's values, the search seed and its epoch budget.
CellInfo make_trial(const GridSpec& spec, const config::Config& first_resolved, const Row& row, int k,
                    const plugin::Registry& registry, const std::string& out_dir) {
  const SearchSpec& s = spec.search;
  config::Config cfg = first_resolved;
  for (size_t j = 0; j < row.dims.size(); ++j)
    cfg.set(s.space[row.dims[j]].key + "=" + row.values[k][j]);
  cfg.set("train.seed=" + std::to_string(s.seed));
  // epochs: auto: the row's own train.epochs and early stopping, paused at the rungs (which depend
  // on trial 0's runs, so they cannot name the folder).
  if (!s.auto_epochs) cfg.set("train.epochs=" + std::to_string(s.epochs));
  cfg.set("name=" + row.id + "-trial-" + std::to_string(k));
  try {
    config::resolve(cfg, registry.schema_lookup());
  } catch (const config::ConfigError& e) {
    throw config::ConfigError(s.where(s.line) + ": search trial " + std::to_string(k) + " of row " + row.id + ": " + e.what());
  }
  CellInfo t;
  t.id = row.id + "/trial-" + std::to_string(k);
  t.resolved_yaml = cfg.dump();
  t.hash = stable_hash(config::without_execution_keys(t.resolved_yaml)).substr(0, 10);
  char name[32];
  std::snprintf(name, sizeof name, "trial-%02d-", k);
  t.dir = (fs::path(out_dir) / "search" / row.id / (name + t.hash)).string();
  return t;
}

// Every row of the grid with its trials; `selected` for those with a cell `o` takes (--only, --cell).
// The others are planned too, for their choices (a cell task on Slurm writes the whole grid.json).
std::vector<Row> make_rows(const GridSpec& spec, const plugin::Registry& registry, const GridOptions& o) {
  std::vector<Row> rows;
  std::vector<bool> seen_dim(spec.search.space.size(), false);
  for (const CellSpec& c : spec.cells) {
    if (!rows.empty() && rows.back().id == c.row) continue;  // a row's cells are consecutive (seeds innermost)
    config::Config cfg = c.config;
    Row row;
    row.id = c.row;
    row.selected = o.only.empty();
    for (const CellSpec& other : spec.cells) row.selected = row.selected || (other.row == c.row && o.only.count(other.id));
    const YAML::Node resolved = config::resolve(cfg, registry.schema_lookup()).tree;
    row.dims = row_dimensions(spec.search, resolved);
    for (size_t d : row.dims) seen_dim[d] = true;
    for (int k = 0; k < spec.search.trials; ++k) {
      const std::vector<std::string> all = spec.search.values_of(k);
      std::vector<std::string> mine;
      for (size_t d : row.dims)  // include_configured: trial 0 keeps the row's values (the untuned baseline)
        mine.push_back(k == 0 && spec.search.include_configured
                           ? YAML::Dump(config::node_at(resolved, spec.search.space[d].key))
                           : all[d]);
      row.values.push_back(mine);
      row.trials.push_back(make_trial(spec, cfg, row, k, registry, o.out_dir));
    }
    rows.push_back(std::move(row));
  }
  for (size_t d = 0; d < seen_dim.size(); ++d)
    if (!seen_dim[d])
      throw config::ConfigError(spec.search.where(spec.search.space[d].line) + ": search.space." + spec.search.space[d].key +
                                " is a key of no row of this grid (an option of a model or enhancer the grid does not "
                                "use, or a misspelt key; `recgrid plugins` lists the options)");
  return rows;
}

// A trial's standing at a rung, from its rung file; null when it has not reached the rung yet.
nlohmann::json read_rung(const CellInfo& trial, int epochs) {
  const std::string path = rung_path(trial, epochs);
  if (!fs::exists(path)) return nullptr;
  return nlohmann::json::parse(read_text(path));
}

// Every rung file of a row, read once per round (planning, the summary and the curve all look at
// them several times over).
struct Standing {
  std::vector<std::map<int, nlohmann::json>> rungs;  // trial -> rung epochs -> its rung file (absent: not reached)
  const nlohmann::json& at(size_t trial, int epochs) const {
    static const nlohmann::json none;
    const auto it = rungs[trial].find(epochs);
    return it == rungs[trial].end() ? none : it->second;
  }
};

Standing read_standing(const Row& row, const SearchSpec& s) {
  Standing st;
  st.rungs.resize(row.trials.size());
  for (size_t t = 0; t < row.trials.size(); ++t)
    for (int e : s.rungs())
      if (nlohmann::json r = read_rung(row.trials[t], e); !r.is_null()) st.rungs[t][e] = std::move(r);
  return st;
}

double metric_of(const nlohmann::json& rung) { return rung["metric"].is_number() ? rung["metric"].get<double>() : -1.0; }

// Writes the rung file of a trial whose run ended (finished, paused or diverged) with `epochs` allowed.
// A run that went on past the rung (auto: trial 0, trained to early stopping first) stands there as
// paused at the rung, judged on its validations before it like every other trial.
nlohmann::json record_rung(const CellInfo& trial, const SearchSpec& s, int epochs) {
  nlohmann::json rung = {{"epochs", epochs}, {"status", "paused"}, {"epochs_run", epochs}};
  if (fs::exists(trial.dir + "/results.json")) {
    const auto results = nlohmann::json::parse(read_text(trial.dir + "/results.json"));
    rung["status"] = results.value("status", std::string("ok"));
    rung["epochs_run"] = results.contains("epochs_run") ? results["epochs_run"].get<int>()
                                                         : results.value("last_good_epoch", -1) + 1;
    if (rung["epochs_run"].get<int>() > epochs) rung["status"] = "paused", rung["epochs_run"] = epochs;
  }
  const ValidationsBefore v = validations_before(trial.dir + "/metrics.jsonl", s.metric, epochs);
  rung["metric"] = rung["status"] == "diverged" || v.best < 0 ? nlohmann::json(nullptr) : nlohmann::json(v.best);
  rung["best_epoch"] = v.best_epoch;        // the epoch of that metric
  rung["last_valid_epoch"] = v.last_epoch;  // equal: the run was still improving when the rung stopped it
  write_file_atomic(rung_path(trial, epochs), rung.dump(2) + "\n");
  return rung;
}

// The trials of rung `k` (all at k = 0; else the best of rung k-1, ties to the lower index).
std::vector<int> rung_members(const Standing& st, const SearchSpec& s, size_t k) {
  std::vector<int> members(st.rungs.size());
  for (size_t t = 0; t < members.size(); ++t) members[t] = static_cast<int>(t);
  const std::vector<int> rungs = s.rungs();
  for (size_t j = 1; j <= k; ++j) {
    std::stable_sort(members.begin(), members.end(), [&](int a, int b) {
      return metric_of(st.at(a, rungs[j - 1])) > metric_of(st.at(b, rungs[j - 1]));
    });
    members.resize(static_cast<size_t>(s.trials_at_rung(j)));
    std::sort(members.begin(), members.end());
  }
  return members;
}

struct RowPlan {
  std::vector<std::pair<const CellInfo*, int>> pending;  // (trial, rung epochs) that can run now
  int chosen = -1;                                        // the best trial once the last rung is complete
};

// Where a row stands: the first rung with trials that have not reached it (a trial that ended earlier
// carries its result up without running), or the choice.
RowPlan plan_row(const Row& row, const SearchSpec& s, Standing& st) {
  const std::vector<int> rungs = s.rungs();
  RowPlan plan;
  for (size_t k = 0; k < rungs.size(); ++k) {
    for (int t : rung_members(st, s, k)) {
      if (!st.at(t, rungs[k]).is_null()) continue;
      if (k > 0) {
        const nlohmann::json before = st.at(t, rungs[k - 1]);
        if (!before.is_null() && before["status"] != "paused") {  // ended before this rung: nothing to run
          write_file_atomic(rung_path(row.trials[t], rungs[k]), before.dump(2) + "\n");
          st.rungs[t][rungs[k]] = before;
          continue;
        }
      }
      plan.pending.emplace_back(&row.trials[t], rungs[k]);
    }
    if (!plan.pending.empty()) return plan;
  }
  for (int t : rung_members(st, s, rungs.size() - 1))  // the last rung complete: its best trial
    if (plan.chosen < 0 || metric_of(st.at(t, rungs.back())) > metric_of(st.at(plan.chosen, rungs.back())))
      plan.chosen = t;
  return plan;
}

}  // namespace

namespace {

// A row's values of trial k as {key: value}, typed as YAML reads them.
nlohmann::json values_json(const Row& row, const SearchSpec& s, int k) {
  nlohmann::json v = nlohmann::json::object();
  for (size_t j = 0; j < row.dims.size(); ++j) v[s.space[row.dims[j]].key] = config::to_json(YAML::Load(row.values[k][j]));
  return v;
}

// The budget curve: after each rung result (rung by rung, trials in order), the epochs spent so far
// and the best metric seen so far. auto: trial 0's run to early stopping is spent first.
nlohmann::json budget_curve(const Standing& st, const SearchSpec& s, const nlohmann::json& converged, int& epochs_spent) {
  const std::vector<int> rungs = s.rungs();
  std::vector<int> spent(st.rungs.size(), 0);
  nlohmann::json curve = nlohmann::json::array();
  double best = -1;
  epochs_spent = 0;
  if (!converged.is_null()) spent[0] = epochs_spent = std::max(0, converged["epochs_run"].get<int>());
  for (int e : rungs)
    for (size_t t = 0; t < st.rungs.size(); ++t) {
      const nlohmann::json& rung = st.at(t, e);
      if (rung.is_null()) continue;
      const int run = rung.value("epochs_run", 0);
      epochs_spent += std::max(0, run - spent[t]);
      spent[t] = std::max(spent[t], run);
      best = std::max(best, metric_of(rung));
      curve.push_back({epochs_spent, best});
    }
  return curve;
}

// The seconds a trial's runs spent (all rungs it reached; with auto, trial 0's run to early stopping),
// from its metrics.jsonl: each line's evaluation, its untrained evaluation, and its epoch's training
// time once for every epoch since the previous line. metrics.jsonl has a line for validated epochs
// only (train.test_step), so the epochs between are estimated at the validated epoch's time. A
// fitted model's one line holds its fit. Torn lines (a kill) count nothing.
double trial_seconds(const CellInfo& trial) {
  double seconds = 0;
  int previous = -1;
  for (const std::string& line : read_lines(trial.dir + "/metrics.jsonl")) {
    try {
      const auto m = nlohmann::json::parse(line);
      const int epoch = m.value("epoch", previous + 1);
      seconds += m.value("train_time_s", 0.0) * std::max(1, epoch - previous) + m.value("eval_time_s", 0.0);
      previous = epoch;
      if (m.contains("untrained")) seconds += m["untrained"].value("eval_time_s", 0.0);
    } catch (const nlohmann::json::exception&) {
    }
  }
  return seconds;
}

// epochs: auto: the horizon once every row's trial 0 converged (epochs 0 before), and the row whose
// trial 0 needed the most epochs to its best.
struct Horizon {
  int epochs = 0;
  int best_epoch = -1;
  std::string row;
};

// The summary's account of the horizon: where the last rung is, and why there.
nlohmann::json horizon_json(const SearchSpec& s, const Horizon& h) {
  if (!s.auto_epochs) return {{"auto", false}, {"epochs", s.epochs}};
  return {{"auto", true},
          {"factor", s.horizon_factor},
          {"epochs", h.epochs > 0 ? nlohmann::json(h.epochs) : nlohmann::json(nullptr)},
          {"latest_best_epoch", h.epochs > 0 ? nlohmann::json(h.best_epoch) : nlohmann::json(nullptr)},
          {"row", h.row}};
}

// Trial 0 (include_configured: the row's own values): its score where it stopped. With auto it ran to
// early stopping (converged); else only its rungs are known, the last one it reached.
nlohmann::json configured_json(const Row& row, const SearchSpec& s, const Standing& st, const nlohmann::json& converged) {
  if (!s.include_configured) return nullptr;
  nlohmann::json c = {{"trial", 0}, {"values", values_json(row, s, 0)}, {"converged", !converged.is_null()}};
  if (!converged.is_null()) {
    for (const char* k : {"metric", "best_epoch", "epochs_run", "stopped_by"}) c[k] = converged[k];
    return c;
  }
  c["metric"] = nullptr;
  for (const auto& [e, r] : st.rungs[0]) c["metric"] = r["metric"], c["epochs_run"] = r["epochs_run"];
  return c;
}

// The chosen trial at the last rung; cut short when it trained the whole rung and its best validation
// was the last one (still improving: a longer horizon might have found more, or chosen another trial).
nlohmann::json chosen_json(const Row& row, const SearchSpec& s, const Standing& st, int chosen) {
  const nlohmann::json& rung = st.at(static_cast<size_t>(chosen), s.rungs().back());
  const int best_epoch = rung.value("best_epoch", -1), last = rung.value("last_valid_epoch", -1);
  return {{"trial", chosen},
          {"values", values_json(row, s, chosen)},
          {"metric", metric_of(rung)},
          {"best_epoch", best_epoch},
          {"epochs_run", rung.value("epochs_run", 0)},
          {"cut_short", rung.value("epochs_run", 0) >= s.rungs().back() && best_epoch >= 0 && best_epoch == last}};
}

// OUT/search/<row>/search.json: the row's trials with their rung results, the horizon, the budget
// given and spent, the curve, trial 0's score (the configured values), and the choice (null while
// the search goes on).
nlohmann::json write_row_summary(const Row& row, const SearchSpec& s, const Standing& st, const RowPlan& plan,
                                 const Horizon& horizon, const std::string& out_dir) {
  const nlohmann::json converged = s.auto_epochs ? read_converged(row.trials[0]) : nlohmann::json(nullptr);
  nlohmann::json trials = nlohmann::json::array();
  for (size_t t = 0; t < row.trials.size(); ++t) {
    nlohmann::json rungs = nlohmann::json::object();
    for (const auto& [e, r] : st.rungs[t]) rungs[std::to_string(e)] = r;
    trials.push_back({{"trial", t}, {"values", values_json(row, s, static_cast<int>(t))},
                      {"folder", fs::path(row.trials[t].dir).filename().string()}, {"rungs", rungs}});
    if (t == 0 && !converged.is_null()) trials.back()["converged"] = converged;
  }
  int spent = 0;
  nlohmann::json summary = {{"row", row.id},       {"method", s.method}, {"metric", "valid " + s.metric},
                            {"trials", trials},    {"rungs", s.rungs()}, {"seed", s.seed},
                            {"horizon", horizon_json(s, horizon)},
                            {"budget", {{"trials", s.trials}, {"epochs_per_trial", s.epochs}}}};
  summary["curve"] = budget_curve(st, s, converged, spent);
  summary["epochs_spent"] = spent;
  double seconds = 0;
  for (const CellInfo& trial : row.trials) seconds += trial_seconds(trial);
  summary["seconds_spent"] = seconds;  // the budgets side by side: fitted rows spend seconds, not epochs
  summary["configured"] = configured_json(row, s, st, converged);
  summary["chosen"] = plan.chosen >= 0 ? chosen_json(row, s, st, plan.chosen) : nlohmann::json(nullptr);
  const std::string dir = (fs::path(out_dir) / "search" / row.id).string();
  fs::create_directories(dir);
  write_file_atomic(dir + "/search.json", summary.dump(2) + "\n");
  return summary;
}

// The hooks of trial 0's runs to early stopping (auto): done when converged.json exists.
TaskHooks converge_hooks(const SearchSpec& s) {
  TaskHooks hooks;
  hooks.noun = "trials";
  hooks.done = [](const CellInfo& t) { return fs::exists(converged_path(t)); };
  hooks.ended = [&s](const CellInfo& t, int wstatus, double seconds, GridSummary& summary) -> std::string {
    const int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    if (code != 0 && code != train::kExitDiverged) return record_unfinished(t, wstatus, summary);
    const nlohmann::json c = record_converged(t, s);
    ++summary.finished_now;
    char buf[240];
    std::snprintf(buf, sizeof buf, "  trial %s (configured values, to early stopping): %d epochs (%s), best epoch %d, in %.0f s, "
                  "best valid %s %s", t.id.c_str(), c["epochs_run"].get<int>(), c["status"].get<std::string>().c_str(),
                  c["best_epoch"].get<int>(), seconds, s.metric.c_str(),
                  c["metric"].is_number() ? std::to_string(c["metric"].get<double>()).c_str() : "none");
    return buf;
  };
  return hooks;
}

// The hooks of trial tasks: done when the rung file exists; an ended run (finished, paused or
// diverged) writes it.
TaskHooks trial_hooks(const SearchSpec& s, const std::map<const CellInfo*, int>& rung_of) {
  TaskHooks hooks;
  hooks.noun = "trials";
  hooks.done = [&](const CellInfo& t) { return fs::exists(rung_path(t, rung_of.at(&t))); };
  hooks.ended = [&](const CellInfo& t, int wstatus, double seconds, GridSummary& summary) -> std::string {
    const int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    if (code != 0 && code != train::kExitPaused && code != train::kExitDiverged) return record_unfinished(t, wstatus, summary);
    const nlohmann::json rung = record_rung(t, s, rung_of.at(&t));
    ++summary.finished_now;
    char buf[200];
    std::snprintf(buf, sizeof buf, "  trial %s: %d epochs (%s) in %.0f s, best valid %s %s", t.id.c_str(),
                  rung.value("epochs_run", 0), rung.value("status", std::string()).c_str(), seconds, s.metric.c_str(),
                  rung["metric"].is_number() ? std::to_string(rung["metric"].get<double>()).c_str() : "none");
    return buf;
  };
  return hooks;
}

}  // namespace

namespace {

// One round of a search: each undecided row's trials at its current rung (this shard's first), and
// the choices made so far. auto: first a round of every row's trial 0 to early stopping.
struct Round {
  SearchSpec spec;              // the block, with its horizon once known (auto)
  bool converging = false;      // auto: this round runs trial 0 of the rows that have not converged
  std::vector<CellInfo> tasks;  // copies of the trials, with the rung's pause
  std::map<const CellInfo*, int> rung_of;
  size_t undecided = 0;
};

Horizon measure_horizon(const std::vector<Row>& rows, const SearchSpec& s) {
  Horizon h;
  for (const Row& row : rows) {
    const nlohmann::json c = read_converged(row.trials[0]);
    if (c.is_null()) return Horizon{};
    if (h.row.empty() || c["best_epoch"].get<int>() > h.best_epoch) h.best_epoch = c["best_epoch"].get<int>(), h.row = row.id;
  }
  h.epochs = s.horizon_for(h.best_epoch);
  return h;
}

// auto, before the horizon is known: trial 0 of every row that has not converged (the rows a process
// does not search too: the horizon is the grid's, the same for every row).
void plan_convergence(const std::vector<Row>& rows, const GridOptions& o, Round& round,
                      std::vector<std::pair<const CellInfo*, int>> (&lists)[2]) {
  size_t index = 0;
  for (const Row& row : rows) {
    Standing none;
    none.rungs.resize(row.trials.size());
    write_row_summary(row, round.spec, none, RowPlan{}, Horizon{}, o.out_dir);
    round.undecided += row.selected;
    if (!fs::exists(converged_path(row.trials[0])))
      lists[static_cast<int>(index++ % o.shard_count) == o.shard_index ? 0 : 1].emplace_back(&row.trials[0], 0);
  }
}

Round plan_round(const std::vector<Row>& rows, const SearchSpec& block, const GridOptions& o, SearchOutcome& out) {
  Round round;
  round.spec = block;
  Horizon horizon;
  if (block.auto_epochs) {
    horizon = measure_horizon(rows, block);
    round.converging = horizon.epochs == 0;
    if (!round.converging) round.spec = block.with_horizon(horizon.epochs);
  }
  const SearchSpec& s = round.spec;
  std::vector<std::pair<const CellInfo*, int>> lists[2];  // this shard's, the others'
  size_t index = 0;
  if (round.converging) plan_convergence(rows, o, round, lists);
  for (const Row& row : rows) {
    if (round.converging) break;
    if (s.auto_epochs)  // trial 0 ran to early stopping: its standing at every rung is known
      for (int e : s.rungs())
        if (!fs::exists(rung_path(row.trials[0], e))) record_rung(row.trials[0], s, e);
    Standing standing = read_standing(row, s);
    const RowPlan plan = plan_row(row, s, standing);
    const nlohmann::json summary = write_row_summary(row, s, standing, plan, horizon, o.out_dir);
    if (plan.chosen >= 0) out.chosen[row.id] = summary["chosen"]["values"];
    if (!row.selected) continue;  // its choice if it has one; its trials are another process's
    if (plan.chosen < 0) ++round.undecided;
    for (const auto& p : plan.pending) lists[static_cast<int>(index++ % o.shard_count) == o.shard_index ? 0 : 1].push_back(p);
  }
  out.complete = round.undecided == 0;
  round.tasks.reserve(lists[0].size() + lists[1].size());  // (rung_of points into it)
  for (const auto& list : lists)
    for (const auto& [trial, epochs] : list) {
      round.tasks.push_back(*trial);
      // A fixed horizon's last rung runs to the end (results.json); other rungs pause at their epoch.
      // Trial 0's run to early stopping (auto) is not paused.
      if (!round.converging && (epochs < s.epochs || s.auto_epochs))
        round.tasks.back().sets = {"train.pause_after=" + std::to_string(epochs)};
      round.rung_of[&round.tasks.back()] = epochs;
    }
  return round;
}

}  // namespace

SearchOutcome search_progress(const GridSpec& spec, const plugin::Registry& registry, const GridOptions& o) {
  SearchOutcome out;
  plan_round(make_rows(spec, registry, o), spec.search, o, out);
  return out;
}

SearchOutcome run_search(const GridSpec& spec, const plugin::Registry& registry, const GridOptions& o) {
  const std::vector<Row> rows = make_rows(spec, registry, o);
  SearchOutcome out;
  const StopSignals signals;  // also while waiting for other processes' trials
  for (int number = 1;; ++number) {
    Round round = plan_round(rows, spec.search, o, out);
    if (out.complete) return out;
    std::vector<const CellInfo*> queue;
    for (const CellInfo& t : round.tasks) queue.push_back(&t);
    const std::string what = round.converging ? ", the horizon: trial 0 of each row to early stopping" : "";
    const GridSummary got = run_tasks("search " + spec.name + " (round " + std::to_string(number) + ", " +
                                          std::to_string(round.undecided) + " row(s) undecided" + what + ")",
                                      queue.size(), queue, o,
                                      round.converging ? converge_hooks(round.spec) : trial_hooks(round.spec, round.rung_of));
    out.summary.finished_now += got.finished_now;
    out.summary.failed.insert(out.summary.failed.end(), got.failed.begin(), got.failed.end());
    out.summary.interrupted.insert(out.summary.interrupted.end(), got.interrupted.begin(), got.interrupted.end());
    out.summary.stopped_by = got.stopped_by;
    if (got.stopped_by || !got.failed.empty() || !got.interrupted.empty()) return out;
    if (got.finished_now == 0 && got.already_finished == 0) {
      if (got.held_elsewhere == 0) throw std::runtime_error("search " + spec.name + ": no trial could run (a bug)");
      // Other processes hold this round's trials: look again in a moment (a signal ends the wait).
      for (int k = 0; k < 50 && !stop_signal(); ++k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if ((out.summary.stopped_by = stop_signal())) return out;
    }
  }
}

std::vector<CellInfo> prepare_tuned_cells(const GridSpec& spec, const plugin::Registry& registry,
                                          const std::string& out_dir, const std::map<std::string, nlohmann::json>& chosen) {
  GridSpec tuned = spec;
  for (CellSpec& c : tuned.cells) {
    const auto it = chosen.find(c.row);
    if (it == chosen.end()) continue;
    for (const auto& [key, value] : it->second.items()) c.config.set(key + "=" + value.dump());
  }
  std::vector<CellInfo> cells = prepare_cells(tuned, registry, out_dir);
  for (size_t k = 0; k < cells.size(); ++k)
    if (const auto it = chosen.find(tuned.cells[k].row); it != chosen.end()) cells[k].tuned = it->second;
  return cells;
}

}  // namespace recgrid::grid
