#include "text/item_texts.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "data/ndarray.hpp"

namespace recgrid::text {

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, '\t');) out.push_back(f);
  if (!line.empty() && line.back() == '\t') out.emplace_back();
  return out;
}

// The file's header columns and one JSON object per item (every column but `item`).
struct ItemTable {
  std::vector<std::string> header;
  std::vector<nlohmann::json> records;
};

// `id_name`: the id column, "item" or "user".
ItemTable read_item_table(const std::string& path, int64_t n_items, const std::string& id_name = "item") {
  std::ifstream f(path);
  if (!f) throw data::FormatError(path + ": cannot open file");
  std::string line;
  if (!std::getline(f, line)) throw data::FormatError(path + ":1: empty file; expected a header line");
  const auto header = split_tabs(line);
  int id_col = -1;
  for (size_t k = 0; k < header.size(); ++k)
    if (header[k] == id_name && id_col < 0) id_col = static_cast<int>(k);
  if (id_col < 0) throw data::FormatError(path + ":1: the header needs an '" + id_name + "' column (found: " + line + ")");
  std::vector<nlohmann::json> records(static_cast<size_t>(n_items), nlohmann::json::object());
  std::vector<bool> seen(static_cast<size_t>(n_items), false);
  for (int line_no = 2; std::getline(f, line); ++line_no) {
    if (line.empty()) continue;
    const auto cols = split_tabs(line);
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (cols.size() != header.size())
      throw data::FormatError(where + "expected " + std::to_string(header.size()) + " tab-separated columns, found " +
                              std::to_string(cols.size()));
    const std::string& id_text = cols[static_cast<size_t>(id_col)];
    int64_t id = -1;
    try {
      size_t used = 0;
      id = std::stoll(id_text, &used);
      if (used != id_text.size()) id = -1;
    } catch (const std::exception&) {
    }
    if (id < 0 || id >= n_items)
      throw data::FormatError(where + id_name + " id '" + id_text + "' is not in [0, " + std::to_string(n_items) + ")");
    if (seen[static_cast<size_t>(id)]) throw data::FormatError(where + id_name + " " + std::to_string(id) + " appears twice");
    seen[static_cast<size_t>(id)] = true;
    for (size_t k = 0; k < header.size(); ++k)
      if (static_cast<int>(k) != id_col) records[static_cast<size_t>(id)][header[k]] = cols[k];
  }
  return {header, records};
}

}  // namespace

std::vector<nlohmann::json> read_item_records(const std::string& path, int64_t n_items) {
  return read_item_table(path, n_items).records;
}

namespace {

std::vector<std::string> read_texts(const std::string& path, const std::string& field, int64_t n, const std::string& id_name) {
  const ItemTable table = read_item_table(path, n, id_name);
  if (std::find(table.header.begin(), table.header.end(), field) == table.header.end()) {
    std::string found;
    for (const std::string& h : table.header) found += (found.empty() ? "" : "\t") + h;
    throw data::FormatError(path + ":1: the header needs the columns '" + id_name + "' and '" + field + "' (found: " + found + ")");
  }
  std::vector<std::string> texts;
  for (const auto& r : table.records) texts.push_back(r.value(field, ""));
  return texts;
}

}  // namespace

std::vector<std::string> read_item_texts(const std::string& path, const std::string& field, int64_t n_items) {
  return read_texts(path, field, n_items, "item");
}

std::vector<std::string> read_user_texts(const std::string& path, const std::string& field, int64_t n_users) {
  return read_texts(path, field, n_users, "user");
}

std::vector<std::vector<int64_t>> training_items(const data::Dataset& ds, int64_t max_items) {
  std::vector<std::vector<int64_t>> items(static_cast<size_t>(ds.n_users));
  for (size_t k = 0; k < ds.train.size(); ++k) items[static_cast<size_t>(ds.train.user[k])].push_back(ds.train.item[k]);
  for (auto& list : items)
    if (max_items > 0 && static_cast<int64_t>(list.size()) > max_items) list.erase(list.begin(), list.end() - max_items);
  return items;
}

std::vector<std::string> user_documents(const data::Dataset& ds, const std::vector<std::string>& item_texts,
                                        const UserDocumentLimits& limits, const std::vector<std::string>& given) {
  std::vector<std::string> docs;
  for (const auto& list : training_items(ds, limits.max_items)) {
    const size_t u = docs.size();
    if (u < given.size() && !given[u].empty()) {  // the user's own text, as given
      docs.push_back(given[u]);
      continue;
    }
    std::string doc;
    for (int64_t item : list) doc += (doc.empty() ? "" : "\n") + item_texts[static_cast<size_t>(item)];
    if (limits.max_chars > 0 && static_cast<int64_t>(doc.size()) > limits.max_chars) {
      size_t cut = static_cast<size_t>(limits.max_chars);
      while (cut > 0 && doc[cut] != ' ' && doc[cut] != '\n') --cut;  // a word boundary
      doc.resize(cut > 0 ? cut : static_cast<size_t>(limits.max_chars));
    }
    docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace recgrid::text
