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

double best_metric_before(const std::string& metrics_path, const std::string& metric, int epochs) {
  double best = -1;
  for (const std::string& line : read_lines(metrics_path)) {
    try {
      const auto m = nlohmann::json::parse(line);
      if (m.at("epoch").get<int>() >= epochs || !m.contains("valid")) continue;
      if (!m["valid"].contains(metric))
        throw std::runtime_error(metrics_path + " has no validation " + metric + ": search.metric needs its K in train.topk");
      best = std::max(best, m["valid"][metric].get<double>());
    } catch (const nlohmann::json::exception&) {  // a torn last line from a kill: the rerun rewrites it
    }
  }
  return best;
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
  cfg.set("train.epochs=" + std::to_string(s.epochs));
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
nlohmann::json record_rung(const CellInfo& trial, const SearchSpec& s, int epochs) {
  nlohmann::json rung = {{"epochs", epochs}, {"status", "paused"}, {"epochs_run", epochs}};
  if (fs::exists(trial.dir + "/results.json")) {
    const auto results = nlohmann::json::parse(read_text(trial.dir + "/results.json"));
    rung["status"] = results.value("status", std::string("ok"));
    rung["epochs_run"] = results.contains("epochs_run") ? results["epochs_run"].get<int>()
                                                         : results.value("last_good_epoch", -1) + 1;
  }
  const double best = best_metric_before(trial.dir + "/metrics.jsonl", s.metric, epochs);
  rung["metric"] = rung["status"] == "diverged" || best < 0 ? nlohmann::json(nullptr) : nlohmann::json(best);
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
// and the best metric seen so far.
nlohmann::json budget_curve(const Standing& st, const SearchSpec& s, int& epochs_spent) {
  const std::vector<int> rungs = s.rungs();
  std::vector<int> spent(st.rungs.size(), 0);
  nlohmann::json curve = nlohmann::json::array();
  double best = -1;
  epochs_spent = 0;
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

// OUT/search/<row>/search.json: the row's trials with their rung results, the budget spent, the
// curve, and the choice (null while the search goes on).
nlohmann::json write_row_summary(const Row& row, const SearchSpec& s, const Standing& st, const RowPlan& plan,
                                 const std::string& out_dir) {
  nlohmann::json trials = nlohmann::json::array();
  for (size_t t = 0; t < row.trials.size(); ++t) {
    nlohmann::json rungs = nlohmann::json::object();
    for (const auto& [e, r] : st.rungs[t]) rungs[std::to_string(e)] = r;
    trials.push_back({{"trial", t}, {"values", values_json(row, s, static_cast<int>(t))},
                      {"folder", fs::path(row.trials[t].dir).filename().string()}, {"rungs", rungs}});
  }
  int spent = 0;
  nlohmann::json summary = {{"row", row.id},       {"method", s.method}, {"metric", "valid " + s.metric},
                            {"trials", trials},    {"rungs", s.rungs()}, {"seed", s.seed},
                            {"budget", {{"trials", s.trials}, {"epochs_per_trial", s.epochs}}}};
  summary["curve"] = budget_curve(st, s, spent);
  summary["epochs_spent"] = spent;
  summary["chosen"] = nullptr;
  if (plan.chosen >= 0)
    summary["chosen"] = {{"trial", plan.chosen}, {"values", values_json(row, s, plan.chosen)},
                         {"metric", metric_of(st.at(plan.chosen, s.rungs().back()))}};
  const std::string dir = (fs::path(out_dir) / "search" / row.id).string();
  fs::create_directories(dir);
  write_file_atomic(dir + "/search.json", summary.dump(2) + "\n");
  return summary;
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
// the choices made so far.
struct Round {
  std::vector<CellInfo> tasks;  // copies of the trials, with the rung's pause
  std::map<const CellInfo*, int> rung_of;
  size_t undecided = 0;
};

Round plan_round(const std::vector<Row>& rows, const SearchSpec& s, const GridOptions& o, SearchOutcome& out) {
  Round round;
  std::vector<std::pair<const CellInfo*, int>> mine, others;
  size_t index = 0;
  for (const Row& row : rows) {
    Standing standing = read_standing(row, s);
    const RowPlan plan = plan_row(row, s, standing);
    const nlohmann::json summary = write_row_summary(row, s, standing, plan, o.out_dir);
    if (plan.chosen >= 0) out.chosen[row.id] = summary["chosen"]["values"];
    if (!row.selected) continue;  // its choice if it has one; its trials are another process's
    if (plan.chosen < 0) ++round.undecided;
    for (const auto& p : plan.pending) (static_cast<int>(index++ % o.shard_count) == o.shard_index ? mine : others).push_back(p);
  }
  out.complete = round.undecided == 0;
  round.tasks.reserve(mine.size() + others.size());  // (rung_of points into it)
  for (const auto* list : {&mine, &others})
    for (const auto& [trial, epochs] : *list) {
      round.tasks.push_back(*trial);
      // The last rung runs to the end (results.json); earlier ones pause at their epoch.
      if (epochs < s.epochs) round.tasks.back().sets = {"train.pause_after=" + std::to_string(epochs)};
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
    const GridSummary got = run_tasks("search " + spec.name + " (round " + std::to_string(number) + ", " +
                                          std::to_string(round.undecided) + " row(s) undecided)",
                                      queue.size(), queue, o, trial_hooks(spec.search, round.rung_of));
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
