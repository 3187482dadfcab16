// Interaction data: the three splits of one dataset, read from SSLRec pickles or TSV files,
// checked on load (ALGORITHMS.md §1.1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace recgrid::data {

// One split as parallel (user, item) id lists.
struct Interactions {
  std::vector<int64_t> user, item;
  size_t size() const { return user.size(); }
};

// Per-user sorted item lists (CSR): membership tests for sampling and masking.
class UserItemIndex {
 public:
  UserItemIndex() = default;
  UserItemIndex(const Interactions& split, int64_t n_users);
  bool contains(int64_t user, int64_t item) const;
  const int64_t* begin(int64_t user) const { return items_.data() + ptr_[user]; }
  const int64_t* end(int64_t user) const { return items_.data() + ptr_[user + 1]; }
  int64_t count(int64_t user) const { return ptr_[user + 1] - ptr_[user]; }
  int64_t n_users() const { return static_cast<int64_t>(ptr_.size()) - 1; }

 private:
  std::vector<int64_t> ptr_, items_;
};

struct Dataset {
  std::string name;
  int64_t n_users = 0, n_items = 0;
  Interactions train, valid, test;
  std::vector<std::string> warnings;  // what the load-time checks found and repaired
};

// `dir` holds trn_mat.pkl, val_mat.pkl, tst_mat.pkl (scipy COO pickles).
Dataset load_sslrec(const std::string& dir);

// `dir` holds train.tsv, valid.tsv, test.tsv: `user<TAB>item` per line ('#' comments, blank lines
// ignored). Users/items = 1 + the largest id seen in any split unless given (> 0).
Dataset load_tsv(const std::string& dir, int64_t n_users = 0, int64_t n_items = 0);
Interactions read_tsv(const std::string& path);

// The load-time checks: ids in range (error), duplicates inside a split (removed, warned),
// pairs shared between splits (warned). Fills `warnings`.
void check_dataset(Dataset& ds);

}  // namespace recgrid::data
