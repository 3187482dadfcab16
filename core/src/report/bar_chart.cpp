#include "report/bar_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/svg_chart.hpp"

namespace recgrid::report {

namespace {

const char* const kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string tick(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// The value range drawn: the data and zero, padded by 5 %.
std::pair<double, double> y_range(const BarChart& c) {
  double lo = 0, hi = 0;
  for (const BarSeries& s : c.series)
    for (double v : s.values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (hi == lo) hi = lo + 1;
  const double pad = (hi - lo) * 0.05;
  return {lo - (lo < 0 ? pad : 0), hi + pad};
}

}  // namespace

std::string render_bars(const BarChart& c) {
  const double left = 56, right = 10, top = 24, bottom = 52;
  const double pw = c.width - left - right, ph = c.height - top - bottom;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart bars\" width=\"" + std::to_string(c.width) +
                    "\" height=\"" + std::to_string(c.height) + "\" viewBox=\"0 0 " + std::to_string(c.width) + " " +
                    std::to_string(c.height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n<title>" +
                    xml_escape(c.title) + "</title>\n<text x=\"" + num(left) + "\" y=\"14\" font-weight=\"bold\">" +
                    xml_escape(c.title) + "</text>\n";
  const auto [y0, y1] = y_range(c);
  auto py = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * ph; };
  for (int k = 0; k <= 4; ++k) {
    const double v = y0 + (y1 - y0) * k / 4;
    svg += "<text x=\"" + num(left - 5) + "\" y=\"" + num(py(v) + 4) + "\" text-anchor=\"end\">" + tick(v) +
           "</text><line x1=\"" + num(left) + "\" x2=\"" + num(left + pw) + "\" y1=\"" + num(py(v)) + "\" y2=\"" +
           num(py(v)) + "\" stroke=\"#eee\"/>\n";
  }
  const size_t n_cat = std::max<size_t>(1, c.categories.size()), n_ser = std::max<size_t>(1, c.series.size());
  const double slot = pw / static_cast<double>(n_cat), bar = slot * 0.8 / static_cast<double>(n_ser);
  for (size_t k = 0; k < c.categories.size(); ++k) {
    svg += "<text x=\"" + num(left + slot * (static_cast<double>(k) + 0.5)) + "\" y=\"" + num(top + ph + 14) +
           "\" text-anchor=\"middle\">" + xml_escape(c.categories[k]) + "</text>\n";
    for (size_t s = 0; s < c.series.size(); ++s) {
      const double v = k < c.series[s].values.size() ? c.series[s].values[k] : NAN;
      if (!std::isfinite(v)) continue;
      const double x = left + slot * static_cast<double>(k) + slot * 0.1 + bar * static_cast<double>(s);
      const double ya = py(std::max(v, 0.0)), yb = py(std::min(v, 0.0));
      svg += "<rect class=\"bar\" x=\"" + num(x) + "\" y=\"" + num(ya) + "\" width=\"" + num(bar * 0.92) + "\" height=\"" +
             num(std::max(yb - ya, 0.5)) + "\" fill=\"" + kColours[s % 8] + "\"><title>" + xml_escape(c.series[s].name) +
             ", " + xml_escape(c.categories[k]) + ": " + tick(v) + "</title></rect>\n";
    }
  }
  svg += "<line x1=\"" + num(left) + "\" x2=\"" + num(left + pw) + "\" y1=\"" + num(py(0)) + "\" y2=\"" + num(py(0)) +
         "\" stroke=\"#444\"/>\n<text transform=\"translate(12 " + num(top + ph / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + xml_escape(c.y_label) + "</text>\n";
  for (size_t s = 0; s < c.series.size(); ++s) {  // the legend, under the axis
    const double x = left + 110.0 * static_cast<double>(s);
    svg += "<rect x=\"" + num(x) + "\" y=\"" + num(c.height - 18.0) + "\" width=\"10\" height=\"10\" fill=\"" + kColours[s % 8] +
           "\"/><text x=\"" + num(x + 14) + "\" y=\"" + num(c.height - 9.0) + "\">" + xml_escape(c.series[s].name.substr(0, 16)) +
           "</text>\n";
  }
  return svg + "</svg>\n";
}

}  // namespace recgrid::report
