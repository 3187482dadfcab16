// The valid values of an option, written as a short text next to its type:
//   "[1, inf)"  "(0, 1]"  "[0, inf)"  "(0, inf)"   an interval (square = closed, round = open)
//   "{sum, mean}"                                   a choice among words
//   "{auto} | {0} | [2, inf)"                       a union: any of its parts, separated by '|'
//   "" (or NULL in a plugin)                        anything of the type
// A word listed in a range is a valid value even of a numeric option ("auto" of an int): the host's
// type check admits it, and the field type (e.g. SampleKeys, sdk.hpp) reads it.
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
  // Whether `word` is one of the words the range lists (in any part).
  bool lists(const std::string& word) const;
  bool empty() const { return text_.empty(); }
  const std::string& text() const { return text_; }

 private:
  // One interval or one set of words.
  struct Part {
    std::vector<std::string> choices;
    double lo = 0, hi = 0;
    bool lo_closed = false, hi_closed = false, is_interval = false;
    bool admits(const std::string& value) const;
  };
  static Part parse_part(const std::string& text, const std::string& whole);

  std::string text_;
  std::vector<Part> parts_;
};

}  // namespace recgrid
