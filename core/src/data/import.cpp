#include "data/import.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include "data/delimited.hpp"
#include "util/files.hpp"
#include "util/line_reader.hpp"
#include "util/random.hpp"

namespace recgrid::data {

namespace fs = std::filesystem;

uint32_t IdInterner::index_of(const std::string& id) {
  const auto [it, added] = index_.try_emplace(id, static_cast<uint32_t>(ids_.size()));
  if (added) ids_.push_back(id);
  return it->second;
}

namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

double number(const std::string& text, const std::string& where, const char* what) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw std::runtime_error(where + ": the " + what + " '" + text + "' is not a number");
  return v;
}

// Where each role sits in a line: user, item, rating, time (-1 = absent).
struct Columns {
  int user = -1, item = -1, rating = -1, time = -1;
};

// Names as people write them: user / user_id / userId / reviewerID; item / item_id / movieId / asin; ...
Columns columns_from_names(const std::vector<std::string>& names, const std::string& where) {
  Columns c;
  for (size_t k = 0; k < names.size(); ++k) {
    std::string n = names[k].substr(0, names[k].find(':'));  // RecBole: name:type
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char ch) { return std::tolower(ch); });
    const int at = static_cast<int>(k);
    if (n == "user" || n == "user_id" || n == "userid" || n == "reviewerid") c.user = at;
    else if (n == "item" || n == "item_id" || n == "itemid" || n == "movieid" || n == "asin") c.item = at;
    else if (n == "rating" || n == "overall" || n == "score") c.rating = at;
    else if (n == "timestamp" || n == "time" || n == "unixreviewtime") c.time = at;
  }
  if (c.user < 0 || c.item < 0)
    throw std::runtime_error(where + ": no user or item column among the names (expected e.g. user,item[,rating][,timestamp]"
                             " or user_id:token item_id:token ...)");
  return c;
}

void add_row(RawData& d, const std::vector<std::string>& f, const Columns& c, const std::string& where) {
  const int need = std::max({c.user, c.item, c.rating, c.time});
  if (static_cast<int>(f.size()) <= need)
    throw std::runtime_error(where + ": expected at least " + std::to_string(need + 1) + " fields, found " +
                             std::to_string(f.size()));
  if (f[c.user].empty() || f[c.item].empty()) throw std::runtime_error(where + ": an empty user or item id");
  RawInteraction r{d.users.index_of(f[c.user]), d.items.index_of(f[c.item]), std::nanf(""), kNone, d.rows.size()};
  if (c.rating >= 0) r.rating = static_cast<float>(number(f[c.rating], where, "rating"));
  if (c.time >= 0) r.time = number(f[c.time], where, "timestamp");
  d.rows.push_back(r);
}

void read_amazon_line(RawData& d, const std::string& line, const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(where + ": not a JSON object (Amazon reviews are one JSON object per line)");
  }
  if (!j.is_object() || !j.contains("reviewerID") || !j.contains("asin"))
    throw std::runtime_error(where + ": a review needs reviewerID and asin");
  RawInteraction r{d.users.index_of(j["reviewerID"].get<std::string>()), d.items.index_of(j["asin"].get<std::string>()),
                   std::nanf(""), kNone, d.rows.size()};
  if (j.contains("overall")) r.rating = j["overall"].get<float>();
  if (j.contains("unixReviewTime")) r.time = j["unixReviewTime"].get<double>();
  d.rows.push_back(r);
}

}  // namespace

RawData read_interactions(const std::string& path, const ReadOptions& o) {
  LineReader in(path);  // gzip or plain
  RawData d;
  std::string sep = separator_named(o.sep);
  Columns c;
  bool header = o.format == "atomic" || (o.format == "delimited" && o.columns.empty());
  if (o.format == "movielens") c = {0, 1, 2, 3};
  else if (o.format == "delimited" && !o.columns.empty()) c = columns_from_names(split_fields(o.columns, ","), "--columns");
  else if (o.format == "atomic") sep = "\t";
  else if (o.format != "delimited" && o.format != "amazon")
    throw std::invalid_argument("--format must be delimited, movielens, atomic or amazon, not '" + o.format + "'");
  std::string line;
  while (in.next(line)) {
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(in.line_number());
    if (o.format == "amazon") {
      read_amazon_line(d, line, where);
    } else if (o.format == "movielens") {
      add_row(d, split_fields(line, line.find("::") != std::string::npos ? "::" : "\t"), c, where);
    } else if (header) {
      c = columns_from_names(split_fields(line, sep), where);
      header = false;
    } else {
      add_row(d, split_fields(line, sep), c, where);
    }
  }
  d.has_rating = std::any_of(d.rows.begin(), d.rows.end(), [](const RawInteraction& r) { return !std::isnan(r.rating); });
  d.has_time = std::any_of(d.rows.begin(), d.rows.end(), [](const RawInteraction& r) { return !std::isnan(r.time); });
  return d;
}

namespace {

// Iterated k-core: drops the interactions of users and items with fewer than k until every one left
// has at least k (a drop can push another below k). Returns the rounds that removed something.
size_t kcore(std::vector<RawInteraction>& rows, int k) {
  size_t rounds = 0;
  for (bool changed = k > 1; changed;) {
    // Ids are dense (interned): counts in plain arrays, not hash maps (10M rows per round).
    uint32_t n_users = 0, n_items = 0;
    for (const RawInteraction& r : rows) n_users = std::max(n_users, r.user + 1), n_items = std::max(n_items, r.item + 1);
    std::vector<int> users(n_users, 0), items(n_items, 0);
    for (const RawInteraction& r : rows) ++users[r.user], ++items[r.item];
    const size_t before = rows.size();
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [&](const RawInteraction& r) { return users[r.user] < k || items[r.item] < k; }),
               rows.end());
    changed = rows.size() != before;
    rounds += changed;
  }
  return rounds;
}

// Earlier first: rows with a time by time (equal times: file order), then rows without a time, in
// file order. One rule for every pair (the key is (no time, time, order)), so it is a strict weak
// ordering when only some rows have a time; comparing by time only when both had one was not
// (a < b < c < a with an untimed b between two timed rows), which std::stable_sort may not be given.
bool earlier(const RawInteraction& a, const RawInteraction& b) {
  const bool a_timed = !std::isnan(a.time), b_timed = !std::isnan(b.time);
  if (a_timed != b_timed) return a_timed;
  if (a_timed && a.time != b.time) return a.time < b.time;
  return a.order < b.order;
}

}  // namespace

std::vector<RawInteraction> filter_interactions(std::vector<RawInteraction> rows, const FilterOptions& o,
                                                FilterReport& report) {
  if (o.duplicates != "first" && o.duplicates != "last")
    throw std::invalid_argument("--duplicates must be first or last, not '" + o.duplicates + "'");
  report.read = rows.size();
  // Duplicates first: order by (user, item, time, file order); keep the first or the last of each pair.
  std::stable_sort(rows.begin(), rows.end(), [](const RawInteraction& a, const RawInteraction& b) {
    if (a.user != b.user) return a.user < b.user;
    if (a.item != b.item) return a.item < b.item;
    return earlier(a, b);
  });
  std::vector<RawInteraction> kept;
  for (size_t k = 0; k < rows.size(); ++k) {
    const bool first_of_pair = k == 0 || rows[k].user != rows[k - 1].user || rows[k].item != rows[k - 1].item;
    const bool last_of_pair = k + 1 == rows.size() || rows[k].user != rows[k + 1].user || rows[k].item != rows[k + 1].item;
    if (o.duplicates == "first" ? first_of_pair : last_of_pair) kept.push_back(rows[k]);
  }
  report.duplicates = rows.size() - kept.size();
  // Then the threshold, on the interaction that stayed (NaN, no rating, fails it).
  const size_t resolved = kept.size();
  if (o.has_threshold())
    kept.erase(std::remove_if(kept.begin(), kept.end(), [&](const RawInteraction& r) { return !(r.rating >= o.min_rating); }),
               kept.end());
  report.below_rating = resolved - kept.size();
  const size_t before_kcore = kept.size();
  report.kcore_rounds = kcore(kept, o.kcore);
  report.kcore_removed = before_kcore - kept.size();
  std::sort(kept.begin(), kept.end(), [](const RawInteraction& a, const RawInteraction& b) { return a.order < b.order; });
  return kept;
}

namespace {

// How many of a user's n interactions go to valid and test: the shares rounded, at least one left
// for training (test first, then valid, give way).
std::pair<size_t, size_t> held_out(size_t n, double valid, double test) {
  size_t n_test = static_cast<size_t>(std::llround(test * static_cast<double>(n)));
  size_t n_valid = static_cast<size_t>(std::llround(valid * static_cast<double>(n)));
  while (n_test + n_valid >= n && n_valid > 0) --n_valid;
  while (n_test + n_valid >= n && n_test > 0) --n_test;
  return {n_valid, n_test};
}

// Each user's rows (indices into `rows`), in time order (file order for ties or no times).
std::vector<std::vector<size_t>> rows_by_user(const std::vector<RawInteraction>& rows) {
  uint32_t users = 0;
  for (const RawInteraction& r : rows) users = std::max(users, r.user + 1);
  std::vector<std::vector<size_t>> by_user(users);
  for (size_t k = 0; k < rows.size(); ++k) by_user[rows[k].user].push_back(k);
  for (auto& list : by_user)
    std::stable_sort(list.begin(), list.end(), [&](size_t a, size_t b) { return earlier(rows[a], rows[b]); });
  return by_user;
}

// The global cut: the earliest `valid + test` share of all interactions by time stays in training;
// the rest is valid then test, by time.
std::vector<uint8_t> split_global_time(const std::vector<RawInteraction>& rows, const SplitOptions& o) {
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return earlier(rows[a], rows[b]); });
  const auto [n_valid, n_test] = held_out(rows.size(), o.valid, o.test);
  std::vector<uint8_t> split(rows.size(), 0);
  for (size_t k = rows.size() - n_test - n_valid; k < rows.size(); ++k)
    split[order[k]] = k < rows.size() - n_test ? 1 : 2;
  return split;
}

}  // namespace

std::vector<uint8_t> split_interactions(const std::vector<RawInteraction>& rows, const SplitOptions& o) {
  const std::string& m = o.mode;
  if (m != "ratio" && m != "loo-last" && m != "loo-random" && m != "temporal-user" && m != "temporal-global")
    throw std::invalid_argument("--split must be ratio, loo-last, loo-random, temporal-user or temporal-global, not '" + m + "'");
  if (o.valid < 0 || o.test < 0 || o.valid + o.test >= 1) throw std::invalid_argument("--valid and --test: shares in [0, 1) that sum below 1");
  if (m == "temporal-global") return split_global_time(rows, o);
  std::vector<uint8_t> split(rows.size(), 0);
  std::mt19937_64 rng(o.seed);
  for (std::vector<size_t>& list : rows_by_user(rows)) {
    if (list.empty()) continue;
    if (m == "ratio" || m == "loo-random") shuffle_in_place(list, rng);  // seeded: the same split every time
    const size_t n = list.size();
    // Leave-one-out: one test and one valid interaction when the user has three or more.
    const auto [n_valid, n_test] = m.rfind("loo", 0) == 0 ? std::pair<size_t, size_t>{n >= 3, n >= 2}
                                                          : held_out(n, o.valid, o.test);
    // The last rows of the (time-ordered or shuffled) list are held out: test last, valid before it.
    for (size_t k = n - n_test; k < n; ++k) split[list[k]] = 2;
    for (size_t k = n - n_test - n_valid; k < n - n_test; ++k) split[list[k]] = 1;
  }
  return split;
}

std::vector<std::string> check_columns(const RawData& raw, const FilterOptions& filter, const SplitOptions& split,
                                       const std::string& input) {
  std::vector<std::string> warnings;
  const size_t n = raw.rows.size();
  if (filter.has_threshold()) {
    if (!raw.has_rating)
      throw std::invalid_argument(input + ": --min-rating needs a rating column, and the input has none (a column named "
                                  "rating, overall or score; --columns user,item,rating,... for a file without a header): "
                                  "drop --min-rating to keep every interaction");
    const size_t unrated = static_cast<size_t>(
        std::count_if(raw.rows.begin(), raw.rows.end(), [](const RawInteraction& r) { return std::isnan(r.rating); }));
    if (unrated > 0)
      warnings.push_back(input + ": " + std::to_string(unrated) + " of " + std::to_string(n) +
                         " interactions have no rating: --min-rating drops them");
  }
  const bool by_time = split.mode == "loo-last" || split.mode == "temporal-user" || split.mode == "temporal-global";
  if (by_time) {
    if (!raw.has_time)
      throw std::invalid_argument(input + ": --split " + split.mode + " orders interactions by time, and the input has no "
                                  "timestamp column (a column named timestamp, time or unixReviewTime; --columns "
                                  "user,item,rating,timestamp for a file without a header): use --split ratio or loo-random");
    const size_t untimed = static_cast<size_t>(
        std::count_if(raw.rows.begin(), raw.rows.end(), [](const RawInteraction& r) { return std::isnan(r.time); }));
    if (untimed > 0)
      warnings.push_back(input + ": " + std::to_string(untimed) + " of " + std::to_string(n) + " interactions have no "
                         "timestamp: --split " + split.mode + " counts them as later than every timed one, in file order");
  }
  return warnings;
}

namespace {

void write_split(const std::string& path, const std::vector<RawInteraction>& rows, const std::vector<uint8_t>& split,
                 uint8_t which, const std::vector<uint32_t>& user_index, const std::vector<uint32_t>& item_index) {
  std::string text;
  for (size_t k = 0; k < rows.size(); ++k)
    if (split[k] == which)
      text += std::to_string(user_index[rows[k].user]) + "\t" + std::to_string(item_index[rows[k].item]) + "\n";
  write_file_atomic(path, text);
}

// Dense indices for the ids that survived the filters, in first-seen order; the map file lists them.
// `kept` gets the original id of each dense index.
std::vector<uint32_t> renumber(const std::vector<RawInteraction>& rows, bool users, const IdInterner& ids,
                               const std::string& map_path, std::vector<std::string>& kept) {
  std::vector<uint32_t> index(ids.size(), UINT32_MAX);
  std::string text = "index\toriginal_id\n";
  kept.clear();
  for (const RawInteraction& r : rows) {
    const uint32_t id = users ? r.user : r.item;
    if (index[id] != UINT32_MAX) continue;
    index[id] = static_cast<uint32_t>(kept.size());
    kept.push_back(ids.ids()[id]);
    text += std::to_string(index[id]) + "\t" + ids.ids()[id] + "\n";
  }
  write_file_atomic(map_path, text);
  return index;
}

void write_dataset_yaml(const std::string& out_dir, const std::string& name, size_t n_users, size_t n_items) {
  const std::string dir = fs::absolute(out_dir).lexically_normal().string();
  write_file_atomic(out_dir + "/" + name + ".yaml",
                    std::string(kImportedDatasetMark) + " (summary.json says how). Name it in an experiment or a grid:\n"
                    "#   extends: {dataset: " + dir + "/" + name + ".yaml, model: lightgcn}\n"
                    "dataset:\n  name: " + name + "\n  format: tsv\n  path: " + dir + "\n  n_users: " +
                        std::to_string(n_users) + "\n  n_items: " + std::to_string(n_items) + "\n");
}

nlohmann::json summarise(const std::vector<RawInteraction>& rows, const std::vector<uint8_t>& split, size_t n_users,
                         size_t n_items, const std::vector<uint32_t>& user_index) {
  size_t counts[3] = {0, 0, 0};
  std::vector<uint8_t> has_test(n_users, 0), has_train(n_users, 0);
  for (size_t k = 0; k < rows.size(); ++k) {
    ++counts[split[k]];
    if (split[k] == 2) has_test[user_index[rows[k].user]] = 1;
    if (split[k] == 0) has_train[user_index[rows[k].user]] = 1;
  }
  const double cells = static_cast<double>(n_users) * static_cast<double>(n_items);
  return {{"users", n_users},
          {"items", n_items},
          {"interactions", {{"train", counts[0]}, {"valid", counts[1]}, {"test", counts[2]}}},
          {"density", cells > 0 ? static_cast<double>(rows.size()) / cells : 0.0},
          {"users_without_test", std::count(has_test.begin(), has_test.end(), 0)},
          {"users_without_train", std::count(has_train.begin(), has_train.end(), 0)}};
}

}  // namespace

nlohmann::json write_dataset(const std::string& out_dir, const std::string& name, const RawData& raw,
                             const std::vector<RawInteraction>& kept, const std::vector<uint8_t>& split,
                             const FilterReport& report, const SplitOptions& split_options, const ImportTexts& texts) {
  fs::create_directories(out_dir);
  std::vector<std::string> user_ids, item_ids;
  const auto user_index = renumber(kept, true, raw.users, out_dir + "/user_map.tsv", user_ids);
  const auto item_index = renumber(kept, false, raw.items, out_dir + "/item_map.tsv", item_ids);
  const char* files[3] = {"train.tsv", "valid.tsv", "test.tsv"};
  for (uint8_t s = 0; s < 3; ++s) write_split(out_dir + "/" + files[s], kept, split, s, user_index, item_index);
  nlohmann::json summary = summarise(kept, split, user_ids.size(), item_ids.size(), user_index);
  summary["name"] = name;
  summary["filters"] = {{"read", report.read},
                        {"below_rating", report.below_rating},
                        {"duplicates", report.duplicates},
                        {"kcore_removed", report.kcore_removed},
                        {"kcore_rounds", report.kcore_rounds}};
  summary["split"] = {{"mode", split_options.mode}, {"valid", split_options.valid}, {"test", split_options.test},
                      {"seed", split_options.seed}};
  if (texts.items) summary["item_text"] = write_entity_texts(out_dir + "/item_text.tsv", *texts.items, item_ids, false);
  if (texts.users) summary["user_text"] = write_entity_texts(out_dir + "/user_text.tsv", *texts.users, user_ids, true);
  write_file_atomic(out_dir + "/summary.json", summary.dump(2) + "\n");
  write_dataset_yaml(out_dir, name, user_ids.size(), item_ids.size());
  return summary;
}

std::string imported_dataset_yaml(const std::string& dir) {
  if (!fs::is_directory(dir)) return "";
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".yaml" && read_text(entry.path().string()).rfind(kImportedDatasetMark, 0) == 0)
      return entry.path().string();
  return "";
}

}  // namespace recgrid::data
