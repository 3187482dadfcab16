#include "data/delimited.hpp"

namespace recgrid::data {

namespace {

// A quoted field starting at `start`: its text, and where the next field starts (npos: the end).
size_t read_quoted(const std::string& line, size_t start, char sep, std::string& field) {
  field.clear();
  size_t k = start + 1;
  for (; k < line.size(); ++k) {
    if (line[k] != '"') {
      field += line[k];
    } else if (k + 1 < line.size() && line[k + 1] == '"') {
      field += '"';
      ++k;
    } else {
      break;  // the closing quote
    }
  }
  const size_t at = line.find(sep, k);
  if (k + 1 < line.size() && at != k + 1) field += line.substr(k + 1, at - k - 1);  // text after the quote: kept
  return at == std::string::npos ? std::string::npos : at + 1;
}

}  // namespace

std::vector<std::string> split_fields(const std::string& line, const std::string& sep) {
  std::vector<std::string> out;
  const bool quotes = sep.size() == 1;
  size_t start = 0;
  for (;;) {
    if (quotes && start < line.size() && line[start] == '"') {
      out.emplace_back();
      start = read_quoted(line, start, sep[0], out.back());
      if (start == std::string::npos) break;
      continue;
    }
    const size_t at = line.find(sep, start);
    out.push_back(line.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + sep.size();
  }
  if (!out.empty() && !out.back().empty() && out.back().back() == '\r') out.back().pop_back();
  return out;
}

std::string separator_named(const std::string& name) {
  return name == "\\t" || name == "tab" ? "\t" : name;
}

}  // namespace recgrid::data
