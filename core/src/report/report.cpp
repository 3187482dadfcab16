#include "report/report.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "grid/results_store.hpp"
#include "report/records.hpp"
#include "report/group_section.hpp"
#include "report/search_section.hpp"
#include "report/significance.hpp"
#include "report/stats.hpp"
#include "report/svg_chart.hpp"
#include "report/table.hpp"
#include "util/files.hpp"
#include "util/format.hpp"

namespace recgrid::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// "†2" when two seeds of the setting are flagged, else "".
std::string flag_mark(const Setting& s) {
  size_t flagged = 0;
  for (const auto& [seed, r] : s.by_seed) flagged += !is_result(r);
  return flagged ? " †" + std::to_string(flagged) : "";
}

// ------------------------------------------------------------------------------------------------
// The Table 2 layout.

// The best mean of each (dataset, metric) column within one base model's group (shown bold).
std::map<std::pair<std::string, std::string>, double> best_means(const Grouped& g, const ReportOptions& o,
                                                                 const std::string& model) {
  std::map<std::pair<std::string, std::string>, double> best;
  for (const auto& row : g.rows_of_model.at(model))
    for (const auto& d : g.datasets)
      if (auto it = g.settings.find({d, model, row}); it != g.settings.end())
        for (const auto& m : o.metrics) {
          const double v = mean(values(it->second, o.split, m));
          if (std::isfinite(v)) best[{d, m}] = std::max(best.count({d, m}) ? best[{d, m}] : v, v);
        }
  return best;
}

// True when a grid search chose the row's values (its records say `tuned`): marked ‡.
bool tuned(const Grouped& g, const std::string& model, const std::string& row) {
  for (const auto& [key, s] : g.settings)
    if (std::get<1>(key) == model && std::get<2>(key) == row)
      for (const auto& [seed, record] : s.by_seed)
        if (record.contains("tuned")) return true;
  return false;
}

// One row per enhancer stack of the base model: mean ± std per column.
void add_setting_rows(Table& t, const Grouped& g, const ReportOptions& o, const std::string& model) {
  const auto best = best_means(g, o, model);
  bool first = true;
  for (const auto& row : g.rows_of_model.at(model)) {
    const std::string label = (row == "none" ? "(base)" : "+ " + row) + (tuned(g, model, row) ? " ‡" : "");
    std::vector<TableCell> cells = {{first ? model : "", false, ""}, {label, false, ""}};
    for (const auto& d : g.datasets)
      for (const auto& m : o.metrics) {
        auto it = g.settings.find({d, model, row});
        if (it == g.settings.end()) {
          cells.push_back({"–", false, ""});
          continue;
        }
        const auto v = values(it->second, o.split, m);
        const std::string mark = flag_mark(it->second);
        const auto top = best.find({d, m});
        cells.push_back({mean_std(v) + mark, !v.empty() && top != best.end() && mean(v) == top->second,
                         std::to_string(v.size()) + " seed(s)" + (mark.empty() ? "" : "; flagged seeds left out")});
      }
    t.separator_before.push_back(first);
    t.rows.push_back(cells);
    first = false;
  }
}

// The Table 2 layout: a group of rows per base model, and an Improv. row under each group that has
// the highlighted stack (its cells: the comparisons of significance.hpp, tested and corrected).
Table main_table(const Grouped& g, const ReportOptions& o, const std::string& highlight,
                 const std::vector<Comparison>& comparisons, std::string& footnote) {
  Table t;
  t.header = {"base model", "enhancer"};
  for (const auto& d : g.datasets)
    for (const auto& m : o.metrics) t.header.push_back(d + " " + short_metric(m));
  int compared = 0, significant = 0;
  for (const std::string& model : g.models) {
    add_setting_rows(t, g, o, model);
    const auto& rows = g.rows_of_model.at(model);
    if (highlight.empty() || std::find(rows.begin(), rows.end(), highlight) == rows.end()) continue;
    std::vector<TableCell> cells = {{"", false, ""}, {"Improv. (" + highlight + ")", false, ""}};
    for (const auto& d : g.datasets)
      for (const auto& m : o.metrics) {
        const Comparison* c = find_improv(comparisons, d, model, m);
        cells.push_back(improvement_cell(c));
        compared += c != nullptr, significant += c && c->star;
      }
    t.separator_before.push_back(false);
    t.rows.push_back(cells);
  }
  if (compared)
    footnote = "Improv.: the relative difference between **" + highlight +
               "** and the best other row of the same base model (the base row included) or of any baseline, on the seeds both ran "
               "and the users of both runs' per-user files; * = corrected p < 0.05 (" + std::to_string(significant) +
               " of " + std::to_string(compared) + " Improv. cells; the test and correction: see Significance).";
  return t;
}

// The runs that are not results: diverged, or flagged as never having learned.
Table flagged_table(const Grouped& g) {
  Table t;
  t.header = {"cell", "status", "why"};
  for (const auto& [key, s] : g.settings)
    for (const auto& [seed, r] : s.by_seed) {
      if (is_result(r)) continue;
      const std::string why = grid::why_not_a_result(r);
      t.rows.push_back({{r.value("cell", s.row + " seed " + seed), false, ""},
                        {r.value("status", std::string("?")), false, ""}, {why, false, ""}});
      t.separator_before.push_back(false);
    }
  return t;
}

const char* const kFlaggedNote =
    "†N: N seed(s) of that setting are left out of its mean and of the t-tests: they diverged (NaN/Inf or an "
    "exploding loss) or did not learn (the best epoch was the first evaluation, or the BPR loss never moved). "
    "They are listed under **Runs that are not results**.";

// Our means beside a reference table's values.
Table reference_table(const Grouped& g, const ReportOptions& o, std::string& title) {
  if (!fs::is_regular_file(o.reference)) throw std::runtime_error(o.reference + ": no such reference table");
  const YAML::Node ref = YAML::LoadFile(o.reference);
  if (!ref["metrics"] || !ref["datasets"])
    throw std::runtime_error(o.reference + ": a reference table needs 'metrics:' and 'datasets:'");
  const auto metrics = ref["metrics"].as<std::vector<std::string>>();
  title = ref["source"] ? ref["source"].as<std::string>() : o.reference;
  Table t;
  t.header = {"dataset", "row", "metric", "ours", "reference", "difference"};
  for (const auto& [key, s] : g.settings) {
    const YAML::Node& datasets = ref["datasets"];
    if (!datasets[s.dataset] || !datasets[s.dataset][s.reference_key]) continue;
    const YAML::Node row = datasets[s.dataset][s.reference_key];
    if (!row.IsSequence()) continue;
    bool first = true;
    for (const auto& m : o.metrics) {
      const auto at = std::find(metrics.begin(), metrics.end(), m);
      if (at == metrics.end() || static_cast<size_t>(at - metrics.begin()) >= row.size()) continue;
      const double theirs = row[static_cast<size_t>(at - metrics.begin())].as<double>();
      const double ours = mean(values(s, o.split, m));
      char diff[32];
      std::snprintf(diff, sizeof diff, "%+.1f %%", 100 * (ours - theirs) / theirs);
      t.rows.push_back({{s.dataset, false, ""}, {s.model + (s.row == "none" ? "" : " + " + s.row), false, ""},
                        {short_metric(m), false, ""}, {fixed(ours), false, ""}, {fixed(theirs), false, ""},
                        {diff, false, ""}});
      t.separator_before.push_back(first);
      first = false;
    }
  }
  return t;
}

// ------------------------------------------------------------------------------------------------
// Curves: validation Recall@20 per seed, and the loss terms of one seed.

struct Curves {
  std::string title, slug, recall_svg, loss_svg;
};

std::vector<Curves> curves(const Grouped& g, const std::string& run_dir) {
  std::vector<Curves> out;
  for (const auto& d : g.datasets)
    for (const auto& model : g.models)
      for (const auto& row : g.rows_of_model.at(model)) {
        auto it = g.settings.find({d, model, row});
        if (it == g.settings.end()) continue;
        Curves c;
        c.title = d + " / " + model + (row == "none" ? "" : " + " + row);
        c.slug = d + "-" + model + "-" + row;
        for (char& ch : c.slug)
          if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '+') ch = '_';
        LineChart recall{"validation Recall@20", "epoch", "Recall@20", false, {}};
        LineChart loss{"loss terms", "epoch", "loss", true, {}};
        for (const auto& [seed, record] : it->second.by_seed) {
          const std::string metrics = run_dir + "/cells/" + record.value("folder", std::string()) + "/metrics.jsonl";
          Series r{"seed " + seed, {}};
          std::map<std::string, Series> terms;
          for (const std::string& line : read_lines(metrics)) {
            const json m = json::parse(line, nullptr, false);
            if (m.is_discarded()) continue;
            const double epoch = m.value("epoch", 0);
            if (m.contains("valid") && m["valid"].contains("recall@20")) r.points.push_back({epoch, m["valid"]["recall@20"]});
            if (loss.series.empty() && m.contains("loss"))
              for (const auto& [term, v] : m["loss"].items()) terms[term].points.push_back({epoch, v.get<double>()});
          }
          recall.series.push_back(r);
          if (loss.series.empty()) {
            for (auto& [term, s] : terms) {
              s.name = term;
              loss.series.push_back(s);
            }
            loss.title = "loss terms (seed " + seed + ")";
          }
        }
        c.recall_svg = render_svg(recall);
        c.loss_svg = render_svg(loss);
        out.push_back(c);
      }
  return out;
}

// ------------------------------------------------------------------------------------------------
// CSV of the flat records.

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string scalar_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump(); }

std::string to_csv(const std::vector<json>& records) {
  std::vector<std::string> axes;
  std::set<std::string> metric_keys;
  for (const json& r : records) {
    for (const auto& [a, v] : field(r, "axes").items())
      if (std::find(axes.begin(), axes.end(), a) == axes.end()) axes.push_back(a);
    for (const char* split : {"valid", "test"})
      for (const auto& [m, v] : field(r, split).items()) metric_keys.insert(std::string(split) + "." + m);
  }
  static const std::vector<std::string> kFields = {"cell",        "folder",       "dataset",         "model",
                                                   "seed",        "status",       "best_epoch",      "epochs_run",      "stopped_by",
                                                   "wall_time_s", "peak_rss_mib", "recgrid_version", "hash"};
  std::string csv;
  for (const auto& f : kFields) csv += f + ",";
  csv += "enhancers";
  for (const auto& a : axes) csv += ",axis." + csv_field(a);
  for (const auto& m : metric_keys) csv += "," + m;
  csv += "\n";
  for (const json& r : records) {
    for (const auto& f : kFields) csv += csv_field(r.contains(f) ? scalar_text(r[f]) : "") + ",";
    std::string stack;
    for (const auto& e : field(r, "enhancers")) stack += (stack.empty() ? "" : "+") + e.get<std::string>();
    csv += csv_field(stack);
    for (const auto& a : axes) csv += "," + csv_field(r.contains("axes") && r["axes"].contains(a) ? scalar_text(r["axes"][a]) : "");
    for (const auto& m : metric_keys) {
      const auto dot = m.find('.');
      const std::string split = m.substr(0, dot), metric = m.substr(dot + 1);
      csv += "," + (r.contains(split) && r[split].contains(metric) ? r[split][metric].dump() : "");
    }
    csv += "\n";
  }
  return csv;
}

const char* const kCss = R"(body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
th:nth-child(-n+2),td:nth-child(-n+2){text-align:left}tr.group td{border-top:2px solid #666}
thead th{background:#f0f0f0}.figs{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;border:1px solid #ddd;padding:.5em}
figcaption{font-weight:bold;margin-bottom:.3em}.note{color:#555;font-size:13px})";

// Markdown emphasis (**x**) as HTML.
std::string md_bold_to_html(const std::string& s) {
  std::string out, esc = xml_escape(s);
  bool open = false;
  for (size_t k = 0; k < esc.size(); ++k) {
    if (esc.compare(k, 2, "**") == 0) {
      out += open ? "</b>" : "<b>";
      open = !open;
      ++k;
    } else {
      out += esc[k];
    }
  }
  return out;
}

}  // namespace

namespace {

// The stack of the Improv. rows: the one asked for, if some base model has it; "none" turns it off.
std::string choose_highlight(const Grouped& g, const std::string& asked) {
  if (asked == "none") return "";
  for (const auto& [model, rows] : g.rows_of_model)
    if (std::find(rows.begin(), rows.end(), asked) != rows.end()) return asked;
  return "";
}

// Everything the two pages show, computed once.
struct ReportParts {
  std::string grid_name, summary, footnote, ref_title, significance_note;
  Table main, flagged, ref, significance;
  GroupSection groups;
  std::vector<Curves> charts;
  SearchSection search;
};

// Markdown, with the charts as SVG files in report/ beside it.
std::string markdown_page(const ReportParts& p, const ReportOptions& o) {
  fs::create_directories(fs::path(o.run_dir) / "report");
  std::string md = "# Grid " + p.grid_name + "\n\n" + p.summary + "\n\n## Results\n\n" + to_markdown(p.main) + "\n";
  if (!p.footnote.empty()) md += p.footnote + "\n";
  if (!p.significance.rows.empty())
    md += "\n## Significance\n\n" + p.significance_note + "\n\n" + to_markdown(p.significance);
  md += p.groups.markdown;
  for (const auto& [name, svg] : p.groups.svgs) write_file_atomic(o.run_dir + "/report/" + name, svg);
  if (!p.flagged.rows.empty())
    md += "\n" + std::string(kFlaggedNote) + "\n\n## Runs that are not results\n\n" + to_markdown(p.flagged);
  if (!o.reference.empty()) {
    md += "\n## Against the reference: " + p.ref_title + "\n\n";
    md += p.ref.rows.empty() ? std::string("(no row of this grid is in the reference table)\n") : to_markdown(p.ref);
  }
  if (p.search.present) {
    write_file_atomic(o.run_dir + "/report/search.svg", p.search.svg);
    md += p.search.markdown;
  }
  md += "\n## Training curves\n\n";
  for (const Curves& c : p.charts) {
    write_file_atomic(o.run_dir + "/report/" + c.slug + "-recall.svg", c.recall_svg);
    write_file_atomic(o.run_dir + "/report/" + c.slug + "-loss.svg", c.loss_svg);
    md += "**" + c.title + "**\n\n![recall](report/" + c.slug + "-recall.svg) ![loss](report/" + c.slug + "-loss.svg)\n\n";
  }
  return md + "Flat records: [results.csv](results.csv).\n";
}

// One self-contained HTML page (the charts inline).
std::string html_page(const ReportParts& p, const ReportOptions& o) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Grid " + xml_escape(p.grid_name) +
                     "</title>\n<style>" + kCss + "</style></head>\n<body>\n<h1>Grid " + xml_escape(p.grid_name) +
                     "</h1>\n<p class=\"note\">" + md_bold_to_html(p.summary) + "</p>\n<h2>Results</h2>\n" +
                     to_html(p.main, "results");
  if (!p.footnote.empty()) html += "<p class=\"note\">" + md_bold_to_html(p.footnote) + " Hover an Improv. cell for its test.</p>\n";
  if (!p.significance.rows.empty())
    html += "<h2>Significance</h2>\n<p class=\"note\">" + md_bold_to_html(p.significance_note) + "</p>\n" +
            to_html(p.significance, "significance");
  html += p.groups.html;
  if (!p.flagged.rows.empty())
    html += "<p class=\"note\">" + md_bold_to_html(kFlaggedNote) + "</p>\n<h2>Runs that are not results</h2>\n" +
            to_html(p.flagged, "flagged");
  if (!o.reference.empty())
    html += "<h2>Against the reference: " + xml_escape(p.ref_title) + "</h2>\n" +
            (p.ref.rows.empty() ? std::string("<p>(no row of this grid is in the reference table)</p>\n") : to_html(p.ref, "reference"));
  html += p.search.html;
  html += "<h2>Training curves</h2>\n<div class=\"figs\">\n";
  for (const Curves& c : p.charts)
    html += "<figure><figcaption>" + xml_escape(c.title) + "</figcaption>\n" + c.recall_svg + c.loss_svg + "</figure>\n";
  return html + "</div>\n<p class=\"note\">Flat records: <a href=\"results.csv\">results.csv</a>.</p>\n</body></html>\n";
}

}  // namespace

// A grid whose search has run but none of its cells (`--search-only`, or cells still to come): the
// Tuning section alone.
ReportFiles write_search_only_report(const ReportOptions& o, const SearchSection& search) {
  const std::string name = fs::path(o.run_dir).filename().string();
  const std::string note = "No cell of this grid has finished yet: its search, below, chose the values its cells run with.";
  fs::create_directories(fs::path(o.run_dir) / "report");
  write_file_atomic(o.run_dir + "/report/search.svg", search.svg);
  ReportFiles files{o.run_dir + "/report.md", o.run_dir + "/report.html", "", 0};
  write_file_atomic(files.markdown, "# Grid " + name + "\n\n" + note + "\n" + search.markdown);
  write_file_atomic(files.html, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Grid " +
                                    xml_escape(name) + "</title>\n<style>" + kCss + "</style></head>\n<body>\n<h1>Grid " +
                                    xml_escape(name) + "</h1>\n<p class=\"note\">" + note + "</p>\n" + search.html +
                                    "</body></html>\n");
  return files;
}

ReportFiles write_report(const ReportOptions& o) {
  if (o.split != "test" && o.split != "valid") throw std::invalid_argument("--split must be test or valid");
  const bool has_results = fs::exists(o.run_dir + "/results.jsonl");
  const std::vector<json> records = has_results ? grid::read_results(o.run_dir) : std::vector<json>{};
  if (records.empty()) {
    const SearchSection search = search_section(o.run_dir);
    if (search.present) return write_search_only_report(o, search);
    if (!has_results) grid::read_results(o.run_dir);  // says which file is missing
    throw std::runtime_error(o.run_dir + "/results.jsonl has no finished cell yet");
  }
  const Grouped g = group(records);
  ReportParts p;
  p.grid_name = records.front().value("grid", fs::path(o.run_dir).filename().string());
  SignificanceOptions so{o.run_dir, o.split, o.metrics, choose_highlight(g, o.highlight), correction_from_name(o.correction), o.test};
  if (o.test != "t" && o.test != "wilcoxon") throw std::invalid_argument("--test must be t or wilcoxon");
  const std::vector<Comparison> comparisons = compare_all(g, so);
  p.main = main_table(g, o, so.highlight, comparisons, p.footnote);
  p.significance = significance_table(comparisons);
  p.significance_note = significance_note(comparisons, so);
  p.groups = group_section(g, GroupOptions{o.run_dir, o.split, o.metrics});
  p.flagged = flagged_table(g);
  if (!o.reference.empty()) p.ref = reference_table(g, o, p.ref_title);
  p.charts = curves(g, o.run_dir);
  p.search = search_section(o.run_dir);
  if (p.search.present) p.footnote += std::string(p.footnote.empty() ? "" : " ") + "‡: tuned by the grid's search (see Tuning).";
  p.summary = std::to_string(records.size()) + " finished cells; " + o.split +
              " split; mean ± sample std over seeds. Generated " + utc_now("%Y-%m-%d %H:%M UTC") + " by `recgrid report`.";
  ReportFiles files{o.run_dir + "/report.md", o.run_dir + "/report.html", o.run_dir + "/results.csv",
                    static_cast<int>(records.size())};
  write_file_atomic(files.markdown, markdown_page(p, o));
  write_file_atomic(files.html, html_page(p, o));
  write_file_atomic(files.csv, to_csv(records));
  return files;
}

}  // namespace recgrid::report
