#include "recgrid/option_range.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace recgrid {

namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

double bound(const std::string& text, const std::string& whole) {
  const std::string t = trim(text);
  if (t == "inf" || t == "+inf") return std::numeric_limits<double>::infinity();
  if (t == "-inf") return -std::numeric_limits<double>::infinity();
  try {
    size_t used = 0;
    const double v = std::stod(t, &used);
    if (used == t.size()) return v;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("range '" + whole + "': '" + t + "' is not a number or inf");
}

std::optional<double> number(const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

OptionRange::Part OptionRange::parse_part(const std::string& raw, const std::string& whole) {
  Part part;
  const std::string text = trim(raw);
  if (text.size() < 2) throw std::invalid_argument("range '" + whole + "' has an empty part");
  const char open = text.front(), close = text.back();
  const std::string inner = text.substr(1, text.size() - 2);
  if (open == '{' && close == '}') {
    std::stringstream ss(inner);
    for (std::string c; std::getline(ss, c, ',');)
      if (!trim(c).empty()) part.choices.push_back(trim(c));
    if (part.choices.empty()) throw std::invalid_argument("range '" + whole + "' lists no choice");
    return part;
  }
  const size_t comma = inner.find(',');
  if ((open != '[' && open != '(') || (close != ']' && close != ')') || comma == std::string::npos)
    throw std::invalid_argument("range '" + whole + "': expected an interval like [0, 1), choices like {a, b}, or a "
                                "union of them like {0} | [2, inf)");
  part.is_interval = true;
  part.lo_closed = open == '[';
  part.hi_closed = close == ']';
  part.lo = bound(inner.substr(0, comma), whole);
  part.hi = bound(inner.substr(comma + 1), whole);
  if (part.lo > part.hi) throw std::invalid_argument("range '" + whole + "': the lower bound exceeds the upper one");
  return part;
}

OptionRange OptionRange::parse(const std::string& raw) {
  OptionRange r;
  r.text_ = trim(raw);
  if (r.text_.empty()) return r;
  std::stringstream ss(r.text_);
  for (std::string part; std::getline(ss, part, '|');) r.parts_.push_back(parse_part(part, r.text_));
  if (r.text_.back() == '|') throw std::invalid_argument("range '" + r.text_ + "' has an empty part");
  return r;
}

bool OptionRange::Part::admits(const std::string& value) const {
  if (!is_interval) return std::find(choices.begin(), choices.end(), value) != choices.end();
  const std::optional<double> v = number(value);
  if (!v || std::isnan(*v)) return false;
  const bool above = lo_closed ? *v >= lo : *v > lo;
  const bool below = hi_closed ? *v <= hi : *v < hi;
  return above && below;
}

std::string OptionRange::check(const std::string& value) const {
  if (text_.empty()) return "";
  for (const Part& p : parts_)
    if (p.admits(value)) return "";
  if (parts_.size() == 1 && !parts_[0].is_interval) return "must be one of " + text_;
  if (parts_.size() == 1 && !number(value)) return "must be a number in " + text_;
  return "must be in " + text_;
}

bool OptionRange::lists(const std::string& word) const {
  for (const Part& p : parts_)
    if (!p.is_interval && std::find(p.choices.begin(), p.choices.end(), word) != p.choices.end()) return true;
  return false;
}

}  // namespace recgrid
