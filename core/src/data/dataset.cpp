#include "data/dataset.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <tuple>
#include <unordered_set>

#include "data/ndarray.hpp"
#include "data/pickle.hpp"
#include "util/line_reader.hpp"

namespace recgrid::data {

namespace fs = std::filesystem;

UserItemIndex::UserItemIndex(const Interactions& split, int64_t n_users) : ptr_(n_users + 1, 0) {
  for (int64_t u : split.user) ++ptr_[u + 1];
  std::partial_sum(ptr_.begin(), ptr_.end(), ptr_.begin());
  items_.resize(split.size());
  std::vector<int64_t> fill(ptr_.begin(), ptr_.end() - 1);
  for (size_t k = 0; k < split.size(); ++k) items_[fill[split.user[k]]++] = split.item[k];
  for (int64_t u = 0; u < n_users; ++u) std::sort(items_.begin() + ptr_[u], items_.begin() + ptr_[u + 1]);
}

bool UserItemIndex::contains(int64_t user, int64_t item) const {
  return std::binary_search(begin(user), end(user), item);
}

namespace {

std::string fmt_count(size_t n) {
  std::string s = std::to_string(n);
  for (int k = static_cast<int>(s.size()) - 3; k > 0; k -= 3) s.insert(static_cast<size_t>(k), ",");
  return s;
}

Interactions from_coo(const CooMatrix& m, const std::string& path, std::vector<std::string>& warnings) {
  Interactions out;
  size_t zeros = 0;
  for (size_t k = 0; k < m.row.size(); ++k) {
    if (m.data[k] == 0) {  // REF binarises with (value != 0)
      ++zeros;
      continue;
    }
    out.user.push_back(m.row[k]);
    out.item.push_back(m.col[k]);
  }
  if (zeros) warnings.push_back(path + ": dropped " + fmt_count(zeros) + " explicit zero entries");
  return out;
}

// Removes repeated (user, item) pairs, keeping the first occurrence and the original order. The
// positions are grouped by user (a counting sort) and sorted by (item, position) within each user:
// O(n log d), no hash set (an unordered_set of 11.4 M pairs, 100x amazon, took most of a load).
size_t dedupe(Interactions& s, int64_t n_users) {
  const size_t n = s.size();
  std::vector<size_t> ptr(static_cast<size_t>(n_users) + 1, 0);
  for (int64_t u : s.user) ++ptr[static_cast<size_t>(u) + 1];
  std::partial_sum(ptr.begin(), ptr.end(), ptr.begin());
  std::vector<size_t> positions(n), fill(ptr.begin(), ptr.end() - 1);
  for (size_t k = 0; k < n; ++k) positions[fill[static_cast<size_t>(s.user[k])]++] = k;
  std::vector<char> repeated(n, 0);
  size_t removed = 0;
  const auto by_item = [&](size_t a, size_t b) { return std::tie(s.item[a], a) < std::tie(s.item[b], b); };
  for (size_t u = 0; u + 1 < ptr.size(); ++u) {
    std::sort(positions.begin() + ptr[u], positions.begin() + ptr[u + 1], by_item);
    for (size_t k = ptr[u] + 1; k < ptr[u + 1]; ++k)
      if (s.item[positions[k]] == s.item[positions[k - 1]]) repeated[positions[k]] = 1, ++removed;
  }
  if (removed == 0) return 0;
  Interactions kept;
  for (size_t k = 0; k < n; ++k)
    if (!repeated[k]) kept.user.push_back(s.user[k]), kept.item.push_back(s.item[k]);
  s = std::move(kept);
  return removed;
}

// How many pairs of b are in a.
size_t overlap(const Interactions& a, const Interactions& b, int64_t n_users) {
  const UserItemIndex in_a(a, n_users);
  size_t n = 0;
  for (size_t k = 0; k < b.size(); ++k) n += in_a.contains(b.user[k], b.item[k]);
  return n;
}

// The same two checks for a sparse id range, with hash sets: the passes above allocate per id, and a
// stray huge id (2^31 - 2 in a fuzzed file) would cost gigabytes there.
size_t dedupe_sparse(Interactions& s, int64_t n_items) {
  std::unordered_set<int64_t> seen;
  seen.reserve(s.size() * 2);
  Interactions kept;
  for (size_t k = 0; k < s.size(); ++k)
    if (seen.insert(s.user[k] * n_items + s.item[k]).second) kept.user.push_back(s.user[k]), kept.item.push_back(s.item[k]);
  const size_t removed = s.size() - kept.size();
  s = std::move(kept);
  return removed;
}

size_t overlap_sparse(const Interactions& a, const Interactions& b, int64_t n_items) {
  std::unordered_set<int64_t> in_a;
  in_a.reserve(a.size() * 2);
  for (size_t k = 0; k < a.size(); ++k) in_a.insert(a.user[k] * n_items + a.item[k]);
  size_t n = 0;
  for (size_t k = 0; k < b.size(); ++k) n += in_a.count(b.user[k] * n_items + b.item[k]);
  return n;
}

// Few enough ids for the per-id passes: at most 4 per interaction plus a million.
bool dense_ids(const Dataset& ds) {
  const int64_t bound = 4 * static_cast<int64_t>(ds.train.size() + ds.valid.size() + ds.test.size()) + (1 << 20);
  return ds.n_users <= bound && ds.n_items <= bound;
}

}  // namespace

// Ids are embedding rows: each side's count must fit the int64 pair keys used below (user * n_items
// + item) and any table the model can hold. A TSV with an id of 3444444444444444444 (found by
// fuzzing) overflowed those keys.
constexpr int64_t kMaxIds = (int64_t{1} << 31) - 1;

void check_id_space(const Dataset& ds) {
  for (auto [what, n] : {std::make_pair("users", ds.n_users), std::make_pair("items", ds.n_items)})
    if (n <= 0 || n > kMaxIds)
      throw FormatError(ds.name + ": " + std::to_string(n) + " " + what + " (the largest id + 1): ids must be dense " +
                        "0-based indexes below 2^31, one embedding row each; remap them to 0..n-1");
}

// More than half of an id range unused usually means raw ids (e.g. 10-digit customer numbers) that
// were not remapped: every id costs an embedding row.
void warn_sparse_ids(Dataset& ds) {
  for (auto [what, n, ids] : {std::make_tuple("user", ds.n_users, &ds.train.user), std::make_tuple("item", ds.n_items, &ds.train.item)}) {
    size_t used = 0;
    if (dense_ids(ds)) {
      std::vector<char> seen(static_cast<size_t>(n), 0);
      for (int64_t id : *ids) used += !seen[static_cast<size_t>(id)], seen[static_cast<size_t>(id)] = 1;
    } else {
      used = std::unordered_set<int64_t>(ids->begin(), ids->end()).size();
    }
    if (n > 1000 && static_cast<int64_t>(used) * 2 < n)
      ds.warnings.push_back("only " + fmt_count(used) + " of " + fmt_count(static_cast<size_t>(n)) + " " + what +
                            " ids appear in the train split: each id is an embedding row, so remapping the ids to "
                            "0..n-1 would save memory and time");
  }
}

void check_dataset(Dataset& ds) {
  check_id_space(ds);
  const std::pair<const char*, Interactions*> splits[] = {{"train", &ds.train}, {"valid", &ds.valid}, {"test", &ds.test}};
  for (auto [name, s] : splits) {
    for (size_t k = 0; k < s->size(); ++k) {
      if (s->user[k] < 0 || s->user[k] >= ds.n_users || s->item[k] < 0 || s->item[k] >= ds.n_items)
        throw FormatError(ds.name + " " + name + " split, entry " + std::to_string(k) + ": (user " +
                          std::to_string(s->user[k]) + ", item " + std::to_string(s->item[k]) +
                          ") is outside " + std::to_string(ds.n_users) + " users x " + std::to_string(ds.n_items) +
                          " items");
    }
    if (size_t d = dense_ids(ds) ? dedupe(*s, ds.n_users) : dedupe_sparse(*s, ds.n_items))
      ds.warnings.push_back(std::string(name) + " split: removed " + fmt_count(d) + " duplicate interactions");
  }
  if (ds.train.size() == 0) throw FormatError(ds.name + ": the train split is empty");
  warn_sparse_ids(ds);
  const auto shared_pairs = [&](const Interactions& a, const Interactions& b) {
    return dense_ids(ds) ? overlap(a, b, ds.n_users) : overlap_sparse(a, b, ds.n_items);
  };
  const std::pair<const char*, size_t> shared[] = {{"train/valid", shared_pairs(ds.train, ds.valid)},
                                                   {"train/test", shared_pairs(ds.train, ds.test)},
                                                   {"valid/test", shared_pairs(ds.valid, ds.test)}};
  for (auto [pair, n] : shared)
    if (n) ds.warnings.push_back(std::string(pair) + " splits share " + fmt_count(n) + " interactions");
}

Dataset load_sslrec(const std::string& dir) {
  Dataset ds;
  ds.name = fs::path(dir).filename().string();
  const std::string files[3] = {dir + "/trn_mat.pkl", dir + "/val_mat.pkl", dir + "/tst_mat.pkl"};
  Interactions* targets[3] = {&ds.train, &ds.valid, &ds.test};
  for (int k = 0; k < 3; ++k) {
    CooMatrix m = read_coo_pickle(files[k]);
    if (k == 0) {
      ds.n_users = m.rows;
      ds.n_items = m.cols;
    } else if (m.rows != ds.n_users || m.cols != ds.n_items) {
      throw FormatError(files[k] + ": shape (" + std::to_string(m.rows) + ", " + std::to_string(m.cols) +
                        ") differs from the train matrix (" + std::to_string(ds.n_users) + ", " +
                        std::to_string(ds.n_items) + ")");
    }
    *targets[k] = from_coo(m, files[k], ds.warnings);
  }
  check_dataset(ds);
  return ds;
}

namespace {

// "USER<whitespace>ITEM", optionally followed by whitespace, as `istream >> u >> i` reads it (a '+'
// allowed before a number); false for anything else.
bool parse_id_pair(const std::string& line, int64_t& u, int64_t& i) {
  const char* p = line.data();
  const char* const end = p + line.size();
  const auto skip_space = [&] {
    while (p < end && std::isspace(static_cast<unsigned char>(*p))) ++p;
  };
  const auto number = [&](int64_t& v) {
    skip_space();
    if (p < end && *p == '+') ++p;
    const auto r = std::from_chars(p, end, v);
    p = r.ptr;
    return r.ec == std::errc();
  };
  if (!number(u) || !number(i)) return false;
  skip_space();
  return p == end;
}

}  // namespace

// In 1 MiB blocks with from_chars: 11.4 M lines (100x amazon) took 27 s through an istringstream a line.
Interactions read_tsv(const std::string& path) {
  if (!fs::exists(path)) throw FormatError(path + ": cannot open file");
  LineReader lines(path);
  Interactions out;
  std::string line;
  while (lines.next(line)) {
    if (line.empty() || line[0] == '#') continue;
    int64_t u = -1, i = -1;
    if (!parse_id_pair(line, u, i) || u < 0 || i < 0)
      throw FormatError(path + ":" + std::to_string(lines.line_number()) +
                        ": expected 'user<TAB>item' (two non-negative integer ids), found '" + line + "'");
    if (u >= kMaxIds || i >= kMaxIds)
      throw FormatError(path + ":" + std::to_string(lines.line_number()) + ": id " + std::to_string(std::max(u, i)) +
                        " is too large: ids must be dense 0-based indexes below 2^31 (one embedding row each); "
                        "remap them to 0..n-1");
    out.user.push_back(u);
    out.item.push_back(i);
  }
  return out;
}

Dataset load_tsv(const std::string& dir, int64_t n_users, int64_t n_items) {
  Dataset ds;
  ds.name = fs::path(dir).filename().string();
  ds.train = read_tsv(dir + "/train.tsv");
  ds.valid = read_tsv(dir + "/valid.tsv");
  ds.test = read_tsv(dir + "/test.tsv");
  int64_t max_u = -1, max_i = -1;
  for (const Interactions* s : {&ds.train, &ds.valid, &ds.test}) {
    for (int64_t u : s->user) max_u = std::max(max_u, u);
    for (int64_t i : s->item) max_i = std::max(max_i, i);
  }
  ds.n_users = n_users > 0 ? n_users : max_u + 1;  // max_u < 2^31 - 1: read_tsv refused larger ids
  ds.n_items = n_items > 0 ? n_items : max_i + 1;
  check_dataset(ds);
  return ds;
}

}  // namespace recgrid::data
