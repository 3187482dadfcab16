// Raw text of a dataset: one text per item from a TSV with a header (e.g. scientific/item_text.tsv:
// `item asin text`), and each user's document built from the items of their TRAINING interactions
// only (the paper's Eq. 4; validation and test items never enter).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.hpp"

namespace recgrid::text {

// Every column of the item TSV except `item`, as one JSON object per item ({} for items without a
// line): the {{item}} of the prompt templates.
std::vector<nlohmann::json> read_item_records(const std::string& path, int64_t n_items);

// texts[i] = the `field` column of item i (id column `item`); items without a line get "".
// Errors name file:line (a bad id, a missing column, a duplicate id).
std::vector<std::string> read_item_texts(const std::string& path, const std::string& field, int64_t n_items);

struct UserDocumentLimits {
  int64_t max_items = 50;     // the user's most recent training items (the split files are chronological)
  int64_t max_chars = 4000;   // per user document, cut at a word boundary
};

// The items of each user's training interactions, most recent last, at most limits.max_items.
std::vector<std::vector<int64_t>> training_items(const data::Dataset& ds, int64_t max_items);

// user_text.tsv (`recgrid data import --user-text`, or a team's own user profiles): texts[u] = the
// `field` column of user u (id column `user`); users without a line get "".
std::vector<std::string> read_user_texts(const std::string& path, const std::string& field, int64_t n_users);

// One document per user: their given text when `given` has a non-empty one, otherwise the texts of
// their training items (see training_items), joined by "\n", at most limits.max_chars characters.
std::vector<std::string> user_documents(const data::Dataset& ds, const std::vector<std::string>& item_texts,
                                        const UserDocumentLimits& limits, const std::vector<std::string>& given = {});

}  // namespace recgrid::text
