// Item and user text for `recgrid data import`: read from the file formats people have (a CSV / TSV
// with a header, MovieLens movies.dat / u.item / users.dat / u.user, RecBole .item / .user, Amazon
// metadata JSON lines; gzip or not), kept for the entities that survived the filters, and written
// as item_text.tsv / user_text.tsv (the files `recgrid text build` reads).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace recgrid::data {

struct TextReadOptions {
  std::string format = "delimited";  // delimited | movielens | atomic | amazon (metadata JSON lines)
  std::string sep = "auto";          // delimited: auto = tab, "::" or "|" when the header has one, else ","
  std::vector<std::string> fields;   // the columns that make the text (default: every column but the id)
};

// One entity's text columns by its original id.
struct EntityTexts {
  std::vector<std::string> fields;  // column names, in order
  std::unordered_map<std::string, std::vector<std::string>> values;  // original id -> one value per field
};

// `users` picks the id column (user / user_id / userId / reviewerID / id, or item / item_id /
// movieId / asin / id). Errors name file:line.
EntityTexts read_entity_texts(const std::string& path, const TextReadOptions& options, bool users);

// The text of one entity: its non-empty values joined by ". ", each as "field: value" except an
// item's first field (its title, by the formats' column order), which stands alone.
std::string compose_text(const EntityTexts& texts, const std::vector<std::string>& values, bool users);

// Writes `path` (header: item|user, id, the fields, text; tabs and line breaks in values become
// spaces) with a line for each of `ids` (index -> original id) that has a text. Returns counts for
// the summary: {"with_text", "without_text", "not_in_the_data"}.
nlohmann::json write_entity_texts(const std::string& path, const EntityTexts& texts,
                                  const std::vector<std::string>& ids, bool users);

}  // namespace recgrid::data
