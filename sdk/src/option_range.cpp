#include "recgrid/option_range.hpp"

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

OptionRange OptionRange::parse(const std::string& raw) {
  OptionRange r;
  r.text_ = trim(raw);
  if (r.text_.empty()) return r;
  const char open = r.text_.front(), close = r.text_.back();
  const std::string inner = r.text_.substr(1, r.text_.size() - 2);
  if (open == '{' && close == '}') {
    std::stringstream ss(inner);
    for (std::string c; std::getline(ss, c, ',');)
      if (!trim(c).empty()) r.choices_.push_back(trim(c));
    if (r.choices_.empty()) throw std::invalid_argument("range '" + r.text_ + "' lists no choice");
    return r;
  }
  const size_t comma = inner.find(',');
  if ((open != '[' && open != '(') || (close != ']' && close != ')') || comma == std::string::npos)
    throw std::invalid_argument("range '" + r.text_ + "': expected an interval like [0, 1) or choices like {a, b}");
  r.is_interval_ = true;
  r.lo_closed_ = open == '[';
  r.hi_closed_ = close == ']';
  r.lo_ = bound(inner.substr(0, comma), r.text_);
  r.hi_ = bound(inner.substr(comma + 1), r.text_);
  if (r.lo_ > r.hi_) throw std::invalid_argument("range '" + r.text_ + "': the lower bound exceeds the upper one");
  return r;
}

std::string OptionRange::check(const std::string& value) const {
  if (text_.empty()) return "";
  if (!is_interval_) {
    for (const std::string& c : choices_)
      if (c == value) return "";
    return "must be one of " + text_;
  }
  const std::optional<double> v = number(value);
  if (!v || std::isnan(*v)) return "must be a number in " + text_;
  const bool above = lo_closed_ ? *v >= lo_ : *v > lo_;
  const bool below = hi_closed_ ? *v <= hi_ : *v < hi_;
  return above && below ? "" : "must be in " + text_;
}

}  // namespace recgrid
