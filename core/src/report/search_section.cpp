#include "report/search_section.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "report/stats.hpp"
#include "report/svg_chart.hpp"
#include "util/files.hpp"

namespace recgrid::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string value_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// "train.lr = 0.0048, enhancer.rlmrec_con.kd_weight = 0.06" (or why there is no choice yet).
std::string chosen_text(const json& s) {
  if (s["chosen"].is_null()) return "(not finished)";
  std::string text;
  for (const auto& [key, value] : s["chosen"]["values"].items()) text += (text.empty() ? "" : ", ") + key + " = " + value_text(value);
  return text.empty() ? "(no key of the space applies)" : text;
}

// The searched rows' summaries, in row order.
std::vector<json> read_summaries(const std::string& run_dir) {
  std::vector<json> rows;
  const fs::path dir = fs::path(run_dir) / "search";
  if (!fs::exists(dir)) return rows;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (fs::exists(e.path() / "search.json")) files.push_back(e.path() / "search.json");
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) rows.push_back(json::parse(read_text(f.string())));
  return rows;
}

// The tuned cells' validation scores of a row (results.jsonl: the records with `tuned` whose cell is
// the row's id and a seed).
std::vector<double> seed_scores(const std::vector<json>& records, const std::string& row, const std::string& metric) {
  std::vector<double> out;
  for (const json& r : records) {
    const std::string cell = r.value("cell", std::string());
    if (!r.contains("tuned") || cell.rfind(row + "-", 0) != 0 || cell.find('-', row.size() + 1) != std::string::npos) continue;
    if (r.value("status", std::string("ok")) == "ok" && r.contains("valid") && r["valid"].contains(metric))
      out.push_back(r["valid"][metric].get<double>());
  }
  return out;
}

std::vector<json> read_records(const std::string& run_dir) {
  std::vector<json> records;
  const std::string path = (fs::path(run_dir) / "results.jsonl").string();
  if (!fs::exists(path)) return records;
  for (const std::string& line : read_lines(path))
    if (!line.empty()) records.push_back(json::parse(line));
  return records;
}

struct Marks {
  bool cut_short = false, worse = false, seeds = false;
};

// "0.3312 (epoch 108, converged)": trial 0's score, where it stopped; "–" without include_configured.
std::string configured_text(const json& s) {
  const json& c = s.value("configured", json());
  if (c.is_null() || !c["metric"].is_number()) return "–";
  char buf[96];
  if (c.value("converged", false))
    std::snprintf(buf, sizeof buf, "%.4f (converged: best epoch %d of %d)", c["metric"].get<double>(), c["best_epoch"].get<int>(),
                  c["epochs_run"].get<int>());
  else
    std::snprintf(buf, sizeof buf, "%.4f (after %d epochs)", c["metric"].get<double>(), c.value("epochs_run", 0));
  return buf;
}

// The tuned row against its configured values: the chosen trial's score over trial 0's (relative; ↓
// when below a converged trial 0's: both trained with the search's seed, so the gap is tuning's), and
// the tuned seeds' mean over trial 0's. The seeds' gap is not marked: it mixes in seed-to-seed
// variation (on scientific, LightGCN's configured values validate at 0.205-0.224 R@20 over seeds 1-10,
// the search's seed 1 the highest), so a row that kept its configured values showed -5.8 %.
std::vector<std::string> versus_configured(const json& s, const std::vector<double>& seeds, Marks& marks) {
  const json& c = s.value("configured", json());
  const bool known = !c.is_null() && c["metric"].is_number();
  const double configured = known ? c["metric"].get<double>() : 0;
  char chosen[40] = "–", seeds_text[96] = "–";
  const json& ch = s.value("chosen", json());
  if (known && !ch.is_null() && ch["metric"].is_number() && configured > 0) {
    const double metric = ch["metric"].get<double>();
    const bool worse = c.value("converged", false) && ch.value("trial", -1) != 0 && metric < configured;
    marks.worse = marks.worse || worse;
    std::snprintf(chosen, sizeof chosen, "%+.1f %%%s", 100 * (metric / configured - 1), worse ? " ↓" : "");
  }
  if (!seeds.empty()) {
    const double m = mean(seeds), sd = sample_std(seeds);
    marks.seeds = marks.seeds || (known && configured > 0);
    if (known && configured > 0)
      std::snprintf(seeds_text, sizeof seeds_text, "%.4f ± %.4f (%+.1f %%)", m, sd, 100 * (m / configured - 1));
    else
      std::snprintf(seeds_text, sizeof seeds_text, "%.4f ± %.4f", m, sd);
  }
  return {configured_text(s), chosen, seeds_text};
}

// One line per row: row, method, trials, epochs spent of the budget, seconds spent (training and
// evaluation of every trial, unvalidated epochs estimated: a fitted row's budget is its fits), chosen values, their metric (†:
// cut short), trial 0's, the chosen against it, the tuned seeds' mean.
std::vector<std::vector<std::string>> table_rows(const std::vector<json>& rows, const std::vector<json>& records, Marks& marks) {
  std::vector<std::vector<std::string>> out;
  for (const json& s : rows) {
    const int trials = s["budget"]["trials"].get<int>();
    const int per_trial = s["budget"]["epochs_per_trial"].is_number() ? s["budget"]["epochs_per_trial"].get<int>() : 0;
    char spent[64], metric[48] = "–";
    std::snprintf(spent, sizeof spent, "%d of %d", s["epochs_spent"].get<int>(), trials * per_trial);
    if (!s["chosen"].is_null()) {
      const bool cut = s["chosen"].value("cut_short", false);
      marks.cut_short = marks.cut_short || cut;
      std::snprintf(metric, sizeof metric, "%.4f%s", s["chosen"]["metric"].get<double>(), cut ? " †" : "");
    }
    char seconds[32] = "–";  // search.json files written before seconds_spent existed have none
    if (s.contains("seconds_spent")) std::snprintf(seconds, sizeof seconds, "%.0f", s["seconds_spent"].get<double>());
    std::vector<std::string> line = {s["row"].get<std::string>(), s["method"].get<std::string>(), std::to_string(trials), spent,
                                      seconds, chosen_text(s), metric};
    const std::string name = s.value("metric", std::string("valid recall@20")).substr(6);  // after "valid "
    for (std::string& cell : versus_configured(s, seed_scores(records, s["row"].get<std::string>(), name), marks))
      line.push_back(std::move(cell));
    out.push_back(std::move(line));
  }
  return out;
}

// Where the last rung was and why: the same for every row (the horizon is the grid's).
std::string horizon_text(const json& s) {
  const json& h = s.value("horizon", json());
  const int trials = s["budget"]["trials"].get<int>();
  char buf[400];
  if (!h.is_null() && h.value("auto", false) && h["epochs"].is_number())
    std::snprintf(buf, sizeof buf, "Horizon (`epochs: auto`): the last rung at %d epochs, %g x the epochs trial 0 (the configured "
                  "values, trained to early stopping) needed to its best validation in the row that needed the most (%d, %s); "
                  "every row: %d trials x at most %d epochs, under the rows' own early stopping.",
                  h["epochs"].get<int>(), h["factor"].get<double>(), h["latest_best_epoch"].get<int>() + 1,
                  h["row"].get<std::string>().c_str(), trials, h["epochs"].get<int>());
  else if (!h.is_null() && h.value("auto", false))
    std::snprintf(buf, sizeof buf, "Horizon (`epochs: auto`): not known yet (trial 0 of each row is still training to early stopping).");
  else
    std::snprintf(buf, sizeof buf, "Horizon: fixed, %d epochs a trial (search.epochs; `epochs: auto` sets it from where the rows "
                  "converge); every row: %d trials x at most %d epochs.",
                  s["budget"]["epochs_per_trial"].get<int>(), trials, s["budget"]["epochs_per_trial"].get<int>());
  return buf;
}

std::string footnotes(const Marks& marks) {
  std::string text;
  if (marks.cut_short)
    text += "† Cut short: the chosen trial's best validation was its last one, at the end of its last rung; it was still "
            "improving, so a longer horizon might score higher or choose another trial. Raise `search.epochs`, or use "
            "`epochs: auto` (with a larger `horizon_factor` if it already is).\n\n";
  if (marks.worse)
    text += "↓ Tuning made this row worse: the chosen trial's best validation score is below trial 0's (its configured "
            "values) at convergence, both trained with the search's seed. Trial 0 was dropped at an early rung although it "
            "ends higher: report the row untuned, or search again with a later first rung or more trials.\n\n";
  if (marks.seeds)
    text += "The tuned seeds' mean is over the grid's seeds, trial 0 trained with the search's seed (`search.seed`): "
            "their gap includes seed-to-seed variation, so read it against the seeds' ± (the same values at another seed "
            "can validate a few per cent apart); the like-for-like comparison is the chosen trial against trial 0.\n\n";
  return text;
}

// The rows' ids without the part they all share up to a '-' ("scientific-lightgcn-"), so that the
// legend reads "none", "rlmrec_con", ...
std::vector<std::string> short_names(const std::vector<json>& rows) {
  std::vector<std::string> names;
  for (const json& s : rows) names.push_back(s["row"].get<std::string>());
  if (names.size() < 2) return names;
  size_t common = names[0].size();
  for (const std::string& n : names) {
    size_t k = 0;
    while (k < common && k < n.size() && n[k] == names[0][k]) ++k;
    common = k;
  }
  const size_t cut = names[0].rfind('-', common > 0 ? common - 1 : 0);
  if (cut == std::string::npos || common == 0) return names;
  for (std::string& n : names) n = n.substr(cut + 1);
  return names;
}

std::string chart(const std::vector<json>& rows, const std::string& metric) {
  const std::vector<std::string> names = short_names(rows);
  LineChart c;
  c.title = "Best " + metric + " against epochs spent";
  c.x_label = "epochs spent (all trials)";
  c.y_label = metric;
  c.width = 560;
  for (size_t r = 0; r < rows.size(); ++r) {
    const json& s = rows[r];
    Series line{names[r], {}};
    for (const json& p : s["curve"])
      if (p[1].get<double>() >= 0) line.points.emplace_back(p[0].get<double>(), p[1].get<double>());
    c.series.push_back(line);
  }
  return render_svg(c);
}

const char* const kHeader[] = {"row", "method", "trials", "epochs spent (of the budget)", "seconds spent (≈)", "chosen",
                               "its best valid",
                               "configured (trial 0)", "chosen vs configured", "tuned seeds' mean valid (vs configured)"};

}  // namespace

SearchSection search_section(const std::string& run_dir) {
  SearchSection out;
  const std::vector<json> rows = read_summaries(run_dir);
  if (rows.empty()) return out;
  out.present = true;
  const std::string metric = rows.front().value("metric", std::string("valid recall@20"));
  const std::string intro = "Every row below was tuned with the same budget (trials x epochs per trial) on the validation "
                            "split, by the grid's `search:` block; its cells then ran with the chosen values (rows marked ‡ "
                            "in the results). Per row: `search/<row>/search.json`. " + horizon_text(rows.front());
  Marks marks;
  const auto lines = table_rows(rows, read_records(run_dir), marks);
  const std::string notes = footnotes(marks);
  out.svg = chart(rows, metric);
  out.markdown = "\n## Tuning\n\n" + intro + "\n\n|";
  out.html = "<h2>Tuning</h2>\n<p class=\"note\">" + xml_escape(intro) + "</p>\n<table class=\"search\"><tr>";
  for (const char* h : kHeader) {
    out.markdown += std::string(" ") + h + " |";
    out.html += std::string("<th>") + h + "</th>";
  }
  out.markdown += "\n|";
  for (size_t k = 0; k < std::size(kHeader); ++k) out.markdown += "---|";
  out.markdown += "\n";
  out.html += "</tr>\n";
  for (const auto& cells : lines) {
    out.markdown += "|";
    out.html += "<tr>";
    for (const std::string& c : cells) {
      out.markdown += " " + c + " |";
      out.html += "<td>" + xml_escape(c) + "</td>";
    }
    out.markdown += "\n";
    out.html += "</tr>\n";
  }
  out.markdown += "\n" + notes + "![search](report/search.svg)\n";
  out.html += "</table>\n";
  for (size_t at = 0, next; at < notes.size(); at = next + 2) {
    next = notes.find("\n\n", at);
    out.html += "<p class=\"note\">" + xml_escape(notes.substr(at, next - at)) + "</p>\n";
  }
  out.html += "<div class=\"figs\"><figure>" + out.svg + "</figure></div>\n";
  return out;
}

}  // namespace recgrid::report
