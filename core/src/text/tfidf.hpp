// TF-IDF over a small corpus, as a sparse matrix: the first half of the offline text encoder.
//
//   tokens: lower-cased runs of ASCII letters and digits (>= 2 characters); other bytes separate
//   vocabulary: tokens in at least min_df documents, the max_features most frequent by document count
//   weight(t, d) = (1 + log tf(t, d)) * idf(t),   idf(t) = log((1 + n) / (1 + df(t))) + 1
//   each row L2-normalised (an empty document stays a zero row)
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

namespace recgrid::text {

std::vector<std::string> tokenize(const std::string& text);

struct TfidfOptions {
  int64_t min_df = 2;
  int64_t max_features = 20000;
};

class TfidfModel {
 public:
  // Learns the vocabulary and idf from `documents`.
  TfidfModel(const std::vector<std::string>& documents, const TfidfOptions& options);
  // [documents x vocabulary] sparse COO, float64, rows L2-normalised.
  at::Tensor transform(const std::vector<std::string>& documents) const;
  int64_t vocabulary_size() const { return static_cast<int64_t>(idf_.size()); }
  const std::map<std::string, int64_t>& vocabulary() const { return index_; }

 private:
  std::map<std::string, int64_t> index_;  // token -> column
  std::vector<double> idf_;
};

}  // namespace recgrid::text
