#include "report/p_adjust.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace recgrid::report {

namespace {

// The positions of the finite p-values, ordered by p ascending (ties by position, so the order is stable).
std::vector<size_t> tested_ascending(const std::vector<double>& p) {
  std::vector<size_t> order;
  for (size_t k = 0; k < p.size(); ++k)
    if (std::isfinite(p[k])) order.push_back(k);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  return order;
}

}  // namespace

std::vector<double> holm_adjust(const std::vector<double>& p) {
  std::vector<double> adj(p.size(), std::nan(""));
  const std::vector<size_t> order = tested_ascending(p);
  const double m = static_cast<double>(order.size());
  double running = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(i)) * p[order[i]]));
    adj[order[i]] = running;
  }
  return adj;
}

std::vector<double> bh_adjust(const std::vector<double>& p) {
  std::vector<double> adj(p.size(), std::nan(""));
  const std::vector<size_t> order = tested_ascending(p);
  const double m = static_cast<double>(order.size());
  double running = 1;
  for (size_t i = order.size(); i-- > 0;) {
    running = std::min(running, std::min(1.0, m * p[order[i]] / static_cast<double>(i + 1)));
    adj[order[i]] = running;
  }
  return adj;
}

std::vector<double> adjust(const std::vector<double>& p, Correction c) {
  return c == Correction::holm ? holm_adjust(p) : bh_adjust(p);
}

Correction correction_from_name(const std::string& name) {
  if (name == "holm") return Correction::holm;
  if (name == "bh") return Correction::bh;
  throw std::invalid_argument("--correction must be holm or bh (got '" + name + "')");
}

std::string correction_name(Correction c) { return c == Correction::holm ? "Holm-Bonferroni" : "Benjamini-Hochberg"; }

}  // namespace recgrid::report
