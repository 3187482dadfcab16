// The per-user results file of a run (per_user_test.tsv.gz, per_user_valid.tsv.gz): gzip TSV, one row
// per evaluation user in ascending user order, written atomically (docs/METRICS.md).
// Header: user, n_train, n_truth, then for every K ascending: recall@K, ndcg@K and each further per-user
// metric as name@K. Values with 17 significant digits (they read back to the same doubles).
// Readers match columns by header name and accept extra columns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/gzip_writer.hpp"

namespace recgrid::eval {

// The header's column names.
std::vector<std::string> per_user_columns(const std::vector<int>& ks, const std::vector<std::string>& extra);

class PerUserFile {
 public:
  // ks in the evaluator's order (need not be ascending); `extra`: further per-user metric names.
  PerUserFile(const std::string& path, std::vector<int> ks, std::vector<std::string> extra);
  // recall[q], ndcg[q] at ks[q]; extra_values[q * extra.size() + m]: metric m at ks[q].
  void add_row(int64_t user, int64_t n_train, int64_t n_truth, const double* recall, const double* ndcg,
               const double* extra_values);
  void commit();

 private:
  std::vector<int> ks_;
  std::vector<size_t> ascending_;  // indices into ks_, by ascending K
  std::vector<std::string> extra_;
  GzipAtomicWriter out_;
  std::string pending_;  // rows not yet compressed
};

}  // namespace recgrid::eval
