#include "report/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace recgrid::report {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// A colour-blind-friendly palette (Okabe-Ito).
const char* const kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

std::string render_svg(const LineChart& c) {
  const double left = 66, right = 10, top = 24, bottom = 40;  // left: room for "0.000885"
  const double pw = c.width - left - right, ph = c.height - top - bottom;
  auto ty = [&](double y) { return c.log_y ? std::log10(y) : y; };
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Series& s : c.series)
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(y) || (c.log_y && y <= 0)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, ty(y)), y1 = std::max(y1, ty(y));
    }
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" + std::to_string(c.width) +
                    "\" height=\"" + std::to_string(c.height) + "\" viewBox=\"0 0 " + std::to_string(c.width) + " " +
                    std::to_string(c.height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg += "<title>" + xml_escape(c.title) + "</title>\n";
  svg += "<text x=\"" + num(left) + "\" y=\"14\" font-weight=\"bold\">" + xml_escape(c.title) + "</text>\n";
  if (!std::isfinite(x0)) return svg + "<text x=\"" + num(left) + "\" y=\"" + num(top + ph / 2) + "\">no data</text>\n</svg>\n";
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  const double pad = (y1 - y0) * 0.05;
  const bool non_negative = !c.log_y && y0 >= 0;
  y0 -= pad, y1 += pad;
  if (non_negative && y0 < 0) y0 = 0;  // a metric's axis does not dip below zero
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return top + (1 - (ty(y) - y0) / (y1 - y0)) * ph; };
  // Frame, ticks and labels.
  svg += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
         "\" fill=\"none\" stroke=\"#999\"/>\n";
  for (int k = 0; k <= 4; ++k) {
    const double fy = y0 + (y1 - y0) * k / 4, yv = c.log_y ? std::pow(10, fy) : fy;
    const double yy = top + (1 - static_cast<double>(k) / 4) * ph;
    svg += "<line x1=\"" + num(left - 3) + "\" x2=\"" + num(left) + "\" y1=\"" + num(yy) + "\" y2=\"" + num(yy) +
           "\" stroke=\"#999\"/><text x=\"" + num(left - 5) + "\" y=\"" + num(yy + 4) + "\" text-anchor=\"end\">" +
           tick_label(yv) + "</text>\n";
    const double xv = x0 + (x1 - x0) * k / 4, xx = left + pw * k / 4;
    svg += "<line x1=\"" + num(xx) + "\" x2=\"" + num(xx) + "\" y1=\"" + num(top + ph) + "\" y2=\"" + num(top + ph + 3) +
           "\" stroke=\"#999\"/><text x=\"" + num(xx) + "\" y=\"" + num(top + ph + 15) + "\" text-anchor=\"middle\">" +
           tick_label(xv) + "</text>\n";
  }
  svg += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(c.height - 6.0) + "\" text-anchor=\"middle\">" +
         xml_escape(c.x_label) + "</text>\n";
  svg += "<text transform=\"translate(12 " + num(top + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         xml_escape(c.y_label + (c.log_y ? " (log)" : "")) + "</text>\n";
  auto colour_of = [](size_t k) { return kColours[k % (sizeof kColours / sizeof *kColours)]; };
  for (size_t k = 0; k < c.series.size(); ++k) {
    std::string pts;
    for (const auto& [x, y] : c.series[k].points)
      if (std::isfinite(y) && !(c.log_y && y <= 0)) pts += num(px(x)) + "," + num(py(y)) + " ";
    svg += "<polyline class=\"series\" fill=\"none\" stroke=\"" + std::string(colour_of(k)) +
           "\" stroke-width=\"1.5\" points=\"" + pts + "\"><title>" + xml_escape(c.series[k].name) + "</title></polyline>\n";
  }
  // The legend, top right, on a white card over the lines.
  svg += "<rect x=\"" + num(left + pw - 114) + "\" y=\"" + num(top + 2) + "\" width=\"112\" height=\"" +
         num(13.0 * static_cast<double>(c.series.size()) + 4) + "\" fill=\"white\" fill-opacity=\"0.85\"/>\n";
  for (size_t k = 0; k < c.series.size(); ++k) {
    const double ly = top + 12 + 13.0 * static_cast<double>(k);
    svg += "<line x1=\"" + num(left + pw - 110) + "\" x2=\"" + num(left + pw - 94) + "\" y1=\"" + num(ly - 4) +
           "\" y2=\"" + num(ly - 4) + "\" stroke=\"" + colour_of(k) + "\" stroke-width=\"2\"/><text x=\"" +
           num(left + pw - 90) + "\" y=\"" + num(ly) + "\">" + xml_escape(c.series[k].name.substr(0, 18)) + "</text>\n";
  }
  return svg + "</svg>\n";
}

}  // namespace recgrid::report
