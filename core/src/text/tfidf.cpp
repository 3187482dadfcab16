#include "text/tfidf.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <stdexcept>

namespace recgrid::text {

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> tokens;
  std::string cur;
  auto flush = [&] {
    if (cur.size() >= 2) tokens.push_back(cur);
    cur.clear();
  };
  for (unsigned char c : text) {
    if (c < 128 && std::isalnum(c)) cur += static_cast<char>(std::tolower(c));
    else flush();
  }
  flush();
  return tokens;
}

TfidfModel::TfidfModel(const std::vector<std::string>& documents, const TfidfOptions& options) {
  std::map<std::string, int64_t> df;
  for (const std::string& doc : documents) {
    const auto tokens = tokenize(doc);
    for (const std::string& t : std::set<std::string>(tokens.begin(), tokens.end())) ++df[t];
  }
  std::vector<std::pair<int64_t, std::string>> kept;  // (-df, token): most frequent first, ties by token
  for (const auto& [token, count] : df)
    if (count >= options.min_df) kept.emplace_back(-count, token);
  std::sort(kept.begin(), kept.end());
  if (options.max_features > 0 && static_cast<int64_t>(kept.size()) > options.max_features)
    kept.resize(static_cast<size_t>(options.max_features));
  if (kept.empty()) throw std::invalid_argument("tf-idf: no token occurs in min_df documents; lower min_df");
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  const double n = static_cast<double>(documents.size());
  for (const auto& [neg_df, token] : kept) {
    const double count = -static_cast<double>(neg_df);
    index_[token] = static_cast<int64_t>(idf_.size());
    idf_.push_back(std::log((1 + n) / (1 + count)) + 1);
  }
}

at::Tensor TfidfModel::transform(const std::vector<std::string>& documents) const {
  std::vector<int64_t> rows, cols;
  std::vector<double> values;
  for (size_t d = 0; d < documents.size(); ++d) {
    std::map<int64_t, double> tf;
    for (const std::string& t : tokenize(documents[d]))
      if (auto it = index_.find(t); it != index_.end()) tf[it->second] += 1;
    double norm = 0;
    const size_t first = values.size();
    for (const auto& [col, count] : tf) {
      const double w = (1 + std::log(count)) * idf_[static_cast<size_t>(col)];
      rows.push_back(static_cast<int64_t>(d));
      cols.push_back(col);
      values.push_back(w);
      norm += w * w;
    }
    norm = std::sqrt(norm);
    for (size_t k = first; k < values.size(); ++k) values[k] /= norm;
  }
  const auto nnz = static_cast<int64_t>(values.size());
  at::Tensor index = at::empty({2, nnz}, at::kLong);
  std::copy(rows.begin(), rows.end(), index[0].data_ptr<int64_t>());
  std::copy(cols.begin(), cols.end(), index[1].data_ptr<int64_t>());
  at::Tensor vals = at::empty({nnz}, at::kDouble);
  std::copy(values.begin(), values.end(), vals.data_ptr<double>());
  return at::sparse_coo_tensor(index, vals, {static_cast<int64_t>(documents.size()), vocabulary_size()}).coalesce();
}

}  // namespace recgrid::text
