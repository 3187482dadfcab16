#include "report/search_section.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

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

// One line per row: row, method, trials, epochs spent of the budget, chosen values, their metric.
std::vector<std::vector<std::string>> table_rows(const std::vector<json>& rows) {
  std::vector<std::vector<std::string>> out;
  for (const json& s : rows) {
    const int trials = s["budget"]["trials"].get<int>(), per_trial = s["budget"]["epochs_per_trial"].get<int>();
    char spent[64], metric[32] = "–";
    std::snprintf(spent, sizeof spent, "%d of %d", s["epochs_spent"].get<int>(), trials * per_trial);
    if (!s["chosen"].is_null()) std::snprintf(metric, sizeof metric, "%.4f", s["chosen"]["metric"].get<double>());
    out.push_back({s["row"].get<std::string>(), s["method"].get<std::string>(), std::to_string(trials), spent,
                   chosen_text(s), metric});
  }
  return out;
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

const char* const kHeader[] = {"row", "method", "trials", "epochs spent (of the budget)", "chosen", "its best valid"};

}  // namespace

SearchSection search_section(const std::string& run_dir) {
  SearchSection out;
  const std::vector<json> rows = read_summaries(run_dir);
  if (rows.empty()) return out;
  out.present = true;
  const std::string metric = rows.front().value("metric", std::string("valid recall@20"));
  const std::string intro = "Every row below was tuned with the same budget (trials x epochs per trial) on the validation "
                            "split, by the grid's `search:` block; its cells then ran with the chosen values (rows marked ‡ "
                            "in the results). Per row: `search/<row>/search.json`.";
  out.svg = chart(rows, metric);
  out.markdown = "\n## Tuning\n\n" + intro + "\n\n|";
  out.html = "<h2>Tuning</h2>\n<p class=\"note\">" + xml_escape(intro) + "</p>\n<table class=\"search\"><tr>";
  for (const char* h : kHeader) {
    out.markdown += std::string(" ") + h + " |";
    out.html += std::string("<th>") + h + "</th>";
  }
  out.markdown += "\n|---|---|---|---|---|---|\n";
  out.html += "</tr>\n";
  for (const auto& cells : table_rows(rows)) {
    out.markdown += "|";
    out.html += "<tr>";
    for (const std::string& c : cells) {
      out.markdown += " " + c + " |";
      out.html += "<td>" + xml_escape(c) + "</td>";
    }
    out.markdown += "\n";
    out.html += "</tr>\n";
  }
  out.markdown += "\n![search](report/search.svg)\n";
  out.html += "</table>\n<div class=\"figs\"><figure>" + out.svg + "</figure></div>\n";
  return out;
}

}  // namespace recgrid::report
