// Fields of one line of a delimited file, shared by the interaction and the text readers of
// `recgrid data import`.
#pragma once

#include <string>
#include <vector>

namespace recgrid::data {

// Any separator ("," "\t" "::" "|"). With a one-character separator a field in double quotes may
// hold the separator, as in CSV ("American President, The (1995)"; "" inside is one quote); a field
// not starting with a quote is taken as it is.
std::vector<std::string> split_fields(const std::string& line, const std::string& sep);

// "\t", "\\t" and "tab" are a tab; anything else is itself.
std::string separator_named(const std::string& name);

}  // namespace recgrid::data
