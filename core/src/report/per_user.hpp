// The per-user results of a run (`per_user_<split>.tsv.gz`, written at the end of a run for the best
// epoch): one row per evaluation user, columns matched by header name (`user`, `n_train`, `n_truth`,
// `recall@K`, `ndcg@K`, further `name@K`), extra columns ignored.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace recgrid::report {

struct PerUserTable {
  std::vector<int64_t> users;                       // ascending
  std::vector<double> n_train;                      // training interactions per user (NaN if absent)
  std::map<std::string, std::vector<double>> columns;  // the asked-for metric columns present in the file
};

// RUN_FOLDER/per_user_<split>.tsv.gz
std::string per_user_path(const std::string& run_folder, const std::string& split);

// Reads the `user` and `n_train` columns and those of `metrics` the file has. Throws with the file and
// line on a malformed file (no `user` column, a short row, a value that is not a number, users not
// ascending).
PerUserTable read_per_user(const std::string& path, const std::vector<std::string>& metrics);

// Reads each run folder's file once; `nullptr` when the folder has none (a run from before the file).
class PerUserCache {
 public:
  PerUserCache(std::string split, std::vector<std::string> metrics);
  const PerUserTable* get(const std::string& run_folder);

 private:
  std::string split_;
  std::vector<std::string> metrics_;
  std::map<std::string, std::unique_ptr<PerUserTable>> tables_;
};

}  // namespace recgrid::report
