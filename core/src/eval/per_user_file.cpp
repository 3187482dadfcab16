#include "eval/per_user_file.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace recgrid::eval {

namespace {

std::vector<size_t> ascending_order(const std::vector<int>& ks) {
  std::vector<size_t> order(ks.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ks[a] < ks[b]; });
  return order;
}

void append_value(std::string& line, double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "\t%.17g", v);
  line += buf;
}

}  // namespace

std::vector<std::string> per_user_columns(const std::vector<int>& ks, const std::vector<std::string>& extra) {
  std::vector<std::string> cols = {"user", "n_train", "n_truth"};
  for (size_t q : ascending_order(ks)) {
    const std::string at = "@" + std::to_string(ks[q]);
    cols.push_back("recall" + at);
    cols.push_back("ndcg" + at);
    for (const std::string& m : extra) cols.push_back(m + at);
  }
  return cols;
}

PerUserFile::PerUserFile(const std::string& path, std::vector<int> ks, std::vector<std::string> extra)
    : ks_(std::move(ks)), ascending_(ascending_order(ks_)), extra_(std::move(extra)), out_(path) {
  const std::vector<std::string> cols = per_user_columns(ks_, extra_);
  for (size_t c = 0; c < cols.size(); ++c) pending_ += (c ? "\t" : "") + cols[c];
  pending_ += "\n";
}

void PerUserFile::add_row(int64_t user, int64_t n_train, int64_t n_truth, const double* recall, const double* ndcg,
                          const double* extra_values) {
  pending_ += std::to_string(user) + "\t" + std::to_string(n_train) + "\t" + std::to_string(n_truth);
  for (size_t q : ascending_) {
    append_value(pending_, recall[q]);
    append_value(pending_, ndcg[q]);
    for (size_t m = 0; m < extra_.size(); ++m) append_value(pending_, extra_values[q * extra_.size() + m]);
  }
  pending_ += "\n";
  if (pending_.size() > (1u << 20)) {
    out_.write(pending_);
    pending_.clear();
  }
}

void PerUserFile::commit() {
  out_.write(pending_);
  pending_.clear();
  out_.commit();
}

}  // namespace recgrid::eval
