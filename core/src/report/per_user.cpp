#include "report/per_user.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "util/line_reader.hpp"

namespace recgrid::report {

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (size_t tab = line.find('\t'); tab != std::string::npos; tab = line.find('\t', start)) {
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
  fields.push_back(line.substr(start));
  return fields;
}

double parse_number(const std::string& text, const std::string& where) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0')
    throw std::runtime_error(where + ": expected a number, got '" + text + "' (per-user files are written by `recgrid run`)");
  return v;
}

}  // namespace

std::string per_user_path(const std::string& run_folder, const std::string& split) {
  return run_folder + "/per_user_" + split + ".tsv.gz";
}

PerUserTable read_per_user(const std::string& path, const std::vector<std::string>& metrics) {
  LineReader reader(path);
  std::string line;
  if (!reader.next(line)) throw std::runtime_error(path + ": empty: expected a header line starting with 'user'");
  const std::vector<std::string> header = split_tabs(line);
  long user_col = -1, train_col = -1;
  std::map<std::string, size_t> wanted;  // metric -> column
  for (size_t c = 0; c < header.size(); ++c) {
    if (header[c] == "user") user_col = static_cast<long>(c);
    if (header[c] == "n_train") train_col = static_cast<long>(c);
    for (const auto& m : metrics)
      if (header[c] == m) wanted[m] = c;
  }
  if (user_col < 0) throw std::runtime_error(path + ":1: no 'user' column in the header");
  PerUserTable t;
  for (const auto& [m, c] : wanted) t.columns[m];
  while (reader.next(line)) {
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(reader.line_number());
    const std::vector<std::string> f = split_tabs(line);
    if (f.size() < header.size())
      throw std::runtime_error(where + ": " + std::to_string(f.size()) + " fields, the header has " + std::to_string(header.size()));
    const auto user = static_cast<int64_t>(parse_number(f[static_cast<size_t>(user_col)], where));
    if (!t.users.empty() && user <= t.users.back()) throw std::runtime_error(where + ": users must be ascending and distinct");
    t.users.push_back(user);
    t.n_train.push_back(train_col < 0 ? std::numeric_limits<double>::quiet_NaN()
                                      : parse_number(f[static_cast<size_t>(train_col)], where));
    for (const auto& [m, c] : wanted) t.columns[m].push_back(parse_number(f[c], where));
  }
  return t;
}

PerUserCache::PerUserCache(std::string split, std::vector<std::string> metrics)
    : split_(std::move(split)), metrics_(std::move(metrics)) {}

const PerUserTable* PerUserCache::get(const std::string& run_folder) {
  auto it = tables_.find(run_folder);
  if (it == tables_.end()) {
    const std::string path = per_user_path(run_folder, split_);
    std::unique_ptr<PerUserTable> t;
    if (std::filesystem::is_regular_file(path)) t = std::make_unique<PerUserTable>(read_per_user(path, metrics_));
    it = tables_.emplace(run_folder, std::move(t)).first;
  }
  return it->second.get();
}

}  // namespace recgrid::report
