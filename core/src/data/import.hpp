// `recgrid data import`: raw interactions with the ids people use (strings or numbers) to a dataset
// folder RecGrid reads - filtered (rating threshold, duplicates, iterated k-core), split (per-user
// ratio, leave-one-out, temporal), renumbered 0..n-1 with maps back to the original ids, and
// summarised. The steps are separate functions so each is tested against a hand-computed case.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/import_text.hpp"

namespace recgrid::data {

// Original ids -> dense indices in first-seen order.
class IdInterner {
 public:
  uint32_t index_of(const std::string& id);
  const std::vector<std::string>& ids() const { return ids_; }
  size_t size() const { return ids_.size(); }

 private:
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<std::string> ids_;
};

// One interaction as read: interned user and item, rating and time (NaN when the input has none),
// and its line order in the input (ties in time keep file order).
struct RawInteraction {
  uint32_t user, item;
  float rating;
  double time;
  uint64_t order;
};

struct RawData {
  IdInterner users, items;
  std::vector<RawInteraction> rows;
  bool has_rating = false, has_time = false;  // some row has one (Amazon reviews may lack a field)
};

// The input formats (`--format`):
//   delimited  a header naming the columns, or --columns user,item[,rating][,timestamp]; --sep
//   movielens  u.data (tab) or ratings.dat (::): user, item, rating, timestamp, no header
//   atomic     RecBole .inter: a typed header such as user_id:token item_id:token rating:float timestamp:float
//   amazon     Amazon-reviews JSON lines: reviewerID, asin, overall, unixReviewTime
struct ReadOptions {
  std::string format = "delimited";
  std::string sep = ",";   // delimited only; "\t" for a tab
  std::string columns;     // delimited: "user,item,rating,timestamp" when the file has no header
};
RawData read_interactions(const std::string& path, const ReadOptions& options);

// What each filter removed, for the summary.
struct FilterReport {
  size_t read = 0, below_rating = 0, duplicates = 0, kcore_removed = 0, kcore_rounds = 0;
};

// The --min-rating default: no threshold (rows without a rating are kept).
inline constexpr double kKeepEveryRating = -1e300;

struct FilterOptions {
  double min_rating = kKeepEveryRating;  // keep ratings >= this (implicit feedback); a row without a rating fails it
  std::string duplicates = "first";  // first | last: which of a repeated (user, item) stays (by time, then file order)
  int kcore = 0;                     // users and items with fewer interactions are dropped, until none is
  bool has_threshold() const { return min_rating > kKeepEveryRating; }
};
// Duplicates, then the rating threshold (on the interaction that stayed: with `last`, a later 1 after
// an older 5 drops the pair), then iterated k-core on users and items. Time order: rows with a time by
// time, then rows without one, in file order (import.cpp, earlier()).
std::vector<RawInteraction> filter_interactions(std::vector<RawInteraction> rows, const FilterOptions& o,
                                                FilterReport& report);

// The split of each kept interaction: 0 train, 1 valid, 2 test.
struct SplitOptions {
  std::string mode = "ratio";  // ratio | loo-last | loo-random | temporal-user | temporal-global
  double valid = 0.1, test = 0.1;  // ratio and temporal modes: shares of each user's (or all) interactions
  uint64_t seed = 2023;
};
std::vector<uint8_t> split_interactions(const std::vector<RawInteraction>& rows, const SplitOptions& o);

// What the options need from the input (`input` names it in messages): --min-rating a rating column;
// the loo-last, temporal-user and temporal-global splits a timestamp column. Throws
// std::invalid_argument naming the option and the missing column. Returns warnings for an input that
// has the column on some rows only (Amazon reviews): rows without a rating fail --min-rating; rows
// without a time count as later than every timed one, in file order.
std::vector<std::string> check_columns(const RawData& raw, const FilterOptions& filter, const SplitOptions& split,
                                       const std::string& input);

// Writes train/valid/test.tsv (dense 0-based ids), user_map.tsv / item_map.tsv (index <-> original
// id), item_text.tsv / user_text.tsv when texts are given, NAME.yaml (a dataset config `recgrid run` and grids can name) and summary.json; returns the
// summary.
// With texts, item_text.tsv / user_text.tsv too (for the ids that survived the filters).
struct ImportTexts {
  const EntityTexts* items = nullptr;
  const EntityTexts* users = nullptr;
};
nlohmann::json write_dataset(const std::string& out_dir, const std::string& name, const RawData& raw,
                             const std::vector<RawInteraction>& kept, const std::vector<uint8_t>& split,
                             const FilterReport& report, const SplitOptions& split_options,
                             const ImportTexts& texts = {});

// The first line of the dataset YAML write_dataset writes; `recgrid text build` looks for it.
inline constexpr const char* kImportedDatasetMark = "# Written by `recgrid data import`";

// The dataset YAML `recgrid data import` wrote in `dir` (its first line is kImportedDatasetMark), or "".
std::string imported_dataset_yaml(const std::string& dir);

}  // namespace recgrid::data
