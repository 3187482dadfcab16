// A line chart as a self-contained SVG string (no scripts, no external fonts): training curves in
// reports.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace recgrid::report {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

struct LineChart {
  std::string title, x_label, y_label;
  bool log_y = false;  // points with y <= 0 are left out on a log scale
  std::vector<Series> series;
  int width = 420, height = 260;
};

// Escapes & < > " ' for XML and HTML text.
std::string xml_escape(const std::string& s);

std::string render_svg(const LineChart& chart);

}  // namespace recgrid::report
