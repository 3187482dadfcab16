// The valid values of an option, written as a short text next to its type:
//   "[1, inf)"  "(0, 1]"  "[0, inf)"  "(0, inf)"   an interval (square = closed, round = open)
//   "{sum, mean}"                                   a choice among words
//   "" (or NULL in a plugin)                        anything of the type
// Host keys (the host's config/host_keys.cpp) and plugin options (rg_option_spec::range) use the same
// notation, so one checker serves both - the host when it validates a configuration, the SDK when a
// plugin's typed options are read - and `recgrid plugins` / --help-config print the ranges as written.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace recgrid {

class OptionRange {
 public:
  // Throws std::invalid_argument for a malformed text (a plugin's declaration bug).
  static OptionRange parse(const std::string& text);
  // "" when `value` (a scalar's text) is in range, else why not, e.g. "must be in (0, inf)".
  std::string check(const std::string& value) const;
  bool empty() const { return text_.empty(); }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> choices_;
  double lo_ = 0, hi_ = 0;
  bool lo_closed_ = false, hi_closed_ = false, is_interval_ = false;
};

}  // namespace recgrid
