#include "report/table.hpp"

#include <cmath>
#include <cstdio>

#include "report/stats.hpp"
#include "report/svg_chart.hpp"

namespace recgrid::report {

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string mean_std(const std::vector<double>& v) {
  if (v.empty()) return "–";
  return v.size() == 1 ? fixed(v[0]) : fixed(mean(v)) + " ± " + fixed(sample_std(v));
}

std::string short_metric(const std::string& m) {
  std::string s = m;
  if (s.rfind("recall", 0) == 0) s = "R" + s.substr(6);
  if (s.rfind("ndcg", 0) == 0) s = "N" + s.substr(4);
  return s;
}

std::string to_markdown(const Table& t) {
  std::string md = "|";
  for (const auto& h : t.header) md += " " + h + " |";
  md += "\n|";
  for (size_t k = 0; k < t.header.size(); ++k) md += k < 2 ? " :-- |" : " --: |";
  md += "\n";
  for (const auto& row : t.rows) {
    md += "|";
    for (const auto& c : row) md += " " + (c.bold && c.text != "–" ? "**" + c.text + "**" : c.text) + " |";
    md += "\n";
  }
  return md;
}

std::string to_html(const Table& t, const std::string& css_class) {
  std::string h = "<table class=\"" + css_class + "\">\n<thead><tr>";
  for (const auto& c : t.header) h += "<th>" + xml_escape(c) + "</th>";
  h += "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    h += r < t.separator_before.size() && t.separator_before[r] ? "<tr class=\"group\">" : "<tr>";
    for (const auto& c : t.rows[r]) {
      h += "<td";
      if (!c.note.empty()) h += " title=\"" + xml_escape(c.note) + "\"";
      h += ">" + (c.bold ? "<b>" + xml_escape(c.text) + "</b>" : xml_escape(c.text)) + "</td>";
    }
    h += "</tr>\n";
  }
  return h + "</tbody></table>\n";
}

}  // namespace recgrid::report
