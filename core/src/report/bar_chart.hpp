// A grouped bar chart as a self-contained SVG string: one cluster of bars per category (user groups),
// one bar per series (enhancer stacks), a zero line; negative values go below it. The report's
// "relative gain by user group" figure.
#pragma once

#include <string>
#include <vector>

namespace recgrid::report {

struct BarSeries {
  std::string name;
  std::vector<double> values;  // one per category; NaN = no bar
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
  int width = 460, height = 280;
};

std::string render_bars(const BarChart& chart);

}  // namespace recgrid::report
