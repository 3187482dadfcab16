#include "data/import_text.hpp"

#include <algorithm>
#include <stdexcept>

#include "data/delimited.hpp"
#include "util/files.hpp"
#include "util/line_reader.hpp"

namespace recgrid::data {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_id_name(const std::string& name, bool users) {
  const std::string n = lower(name.substr(0, name.find(':')));  // RecBole: name:type
  if (n == "id") return true;
  return users ? (n == "user" || n == "user_id" || n == "userid" || n == "reviewerid")
               : (n == "item" || n == "item_id" || n == "itemid" || n == "movieid" || n == "asin");
}

std::string guess_separator(const std::string& header) {
  if (header.find('\t') != std::string::npos) return "\t";
  if (header.find("::") != std::string::npos) return "::";
  if (header.find('|') != std::string::npos && header.find(',') == std::string::npos) return "|";
  return ",";
}

// The ML-100K genre flags of u.item, in file order (its u.genre).
const char* const kMl100kGenres[] = {"unknown", "Action", "Adventure", "Animation", "Children's", "Comedy",
                                     "Crime", "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror",
                                     "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"};

// MovieLens files without a header: movies.dat / users.dat (::) and u.item / u.user (|). A line
// becomes {id, values...} in the order of `fields`.
std::vector<std::string> movielens_fields(const std::string& first_line, bool users) {
  const bool dat = first_line.find("::") != std::string::npos;
  if (users) return dat ? std::vector<std::string>{"gender", "age", "occupation", "zip_code"}
                        : std::vector<std::string>{"age", "gender", "occupation", "zip_code"};
  return dat ? std::vector<std::string>{"title", "genres"} : std::vector<std::string>{"title", "release_date", "genres"};
}

std::vector<std::string> movielens_values(const std::vector<std::string>& f, bool users, bool dat) {
  if (users || dat) return {f.begin() + 1, f.end()};
  // u.item: id | title | release date | video release date | IMDb URL | 19 genre flags
  std::string genres;
  for (size_t g = 0; g < 19 && 5 + g < f.size(); ++g)
    if (f[5 + g] == "1") genres += (genres.empty() ? "" : "|") + std::string(kMl100kGenres[g]);
  return {f.size() > 1 ? f[1] : "", f.size() > 2 ? f[2] : "", genres};
}

// Amazon metadata: title, brand, categories (2014: lists of lists; 2018: `category`, a list),
// description (a string or a list of them).
std::string joined(const nlohmann::json& v, const char* sep) {
  if (v.is_string()) return v.get<std::string>();
  std::string out;
  if (v.is_array())
    for (const auto& e : v) {
      const std::string part = joined(e, sep);
      if (!part.empty() && out.find(part) == std::string::npos) out += (out.empty() ? "" : sep) + part;
    }
  return out;
}

void read_amazon_meta(LineReader& in, const std::string& path, EntityTexts& t) {
  t.fields = {"title", "brand", "categories", "description"};
  std::string line;
  while (in.next(line)) {
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(in.line_number());
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw std::runtime_error(where + ": not a JSON object (the 2014 metadata files are Python literals, not JSON: "
                               "convert them to JSON lines, or use the 2018 files)");
    if (!j.contains("asin")) throw std::runtime_error(where + ": an item needs its asin");
    t.values[j["asin"].get<std::string>()] = {joined(j.value("title", nlohmann::json()), " "),
                                              joined(j.value("brand", nlohmann::json()), " "),
                                              joined(j.contains("categories") ? j["categories"] : j.value("category", nlohmann::json()), ", "),
                                              joined(j.value("description", nlohmann::json()), " ")};
  }
}

// The header's columns: which one is the id, which make the text.
struct TextColumns {
  int id = -1;
  std::vector<int> picked;
};

TextColumns pick_columns(const std::vector<std::string>& header, const TextReadOptions& o, bool users,
                         const std::string& where, EntityTexts& t) {
  TextColumns c;
  for (size_t k = 0; k < header.size() && c.id < 0; ++k)
    if (is_id_name(header[k], users)) c.id = static_cast<int>(k);
  if (c.id < 0)
    throw std::runtime_error(where + ": no " + std::string(users ? "user" : "item") + " id column in the header (expected " +
                             (users ? "user, user_id, userId or id" : "item, item_id, movieId, asin or id") + ")");
  for (size_t k = 0; k < header.size(); ++k) {
    const std::string name = header[k].substr(0, header[k].find(':'));
    const bool wanted = o.fields.empty() ? static_cast<int>(k) != c.id
                                         : std::find(o.fields.begin(), o.fields.end(), name) != o.fields.end();
    if (wanted) c.picked.push_back(static_cast<int>(k)), t.fields.push_back(name);
  }
  for (const std::string& f : o.fields)
    if (std::find(t.fields.begin(), t.fields.end(), f) == t.fields.end())
      throw std::runtime_error(where + ": --text-fields names '" + f + "', which the header does not have");
  return c;
}

void read_delimited(LineReader& in, const std::string& path, const TextReadOptions& o, bool users, EntityTexts& t) {
  std::string line, sep;
  TextColumns c;
  while (in.next(line)) {
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(in.line_number());
    if (sep.empty()) {  // the header
      sep = o.format == "atomic" ? "\t" : o.sep == "auto" ? guess_separator(line) : separator_named(o.sep);
      c = pick_columns(split_fields(line, sep), o, users, where, t);
      continue;
    }
    const auto f = split_fields(line, sep);
    std::vector<std::string> values;
    for (int k : c.picked) values.push_back(k < static_cast<int>(f.size()) ? f[k] : "");
    if (c.id >= static_cast<int>(f.size())) throw std::runtime_error(where + ": no id field");
    t.values[f[c.id]] = std::move(values);
  }
}

void read_movielens(LineReader& in, const std::string& path, bool users, EntityTexts& t) {
  std::string line;
  bool dat = false;
  while (in.next(line)) {
    if (line.empty()) continue;
    if (t.fields.empty()) {
      if (line.find("::") == std::string::npos && line.find('|') == std::string::npos)
        throw std::runtime_error(path + ":" + std::to_string(in.line_number()) +
                                 ": not a MovieLens movies.dat / users.dat (::) or u.item / u.user (|) line; a CSV "
                                 "with a header (movies.csv) reads with --text-format delimited");
      dat = line.find("::") != std::string::npos;
      t.fields = movielens_fields(line, users);
    }
    const auto f = split_fields(line, dat ? "::" : "|");
    t.values[f[0]] = movielens_values(f, users, dat);
  }
}

std::string tsv_safe(std::string s) {
  std::replace_if(s.begin(), s.end(), [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
  return s;
}

}  // namespace

EntityTexts read_entity_texts(const std::string& path, const TextReadOptions& o, bool users) {
  LineReader in(path);
  EntityTexts t;
  if (o.format == "amazon" && users)
    throw std::invalid_argument(path + ": Amazon metadata describes items; user text reads from a delimited file");
  if (o.format == "amazon") read_amazon_meta(in, path, t);
  else if (o.format == "movielens") read_movielens(in, path, users, t);
  else if (o.format == "delimited" || o.format == "atomic") read_delimited(in, path, o, users, t);
  else throw std::invalid_argument("--text-format must be delimited, movielens, atomic or amazon, not '" + o.format + "'");
  return t;
}

std::string compose_text(const EntityTexts& texts, const std::vector<std::string>& values, bool users) {
  std::string out;
  for (size_t k = 0; k < values.size() && k < texts.fields.size(); ++k) {
    if (values[k].empty()) continue;
    const bool bare = !users && k == 0;
    out += (out.empty() ? "" : ". ") + (bare ? values[k] : texts.fields[k] + ": " + values[k]);
  }
  return out;
}

nlohmann::json write_entity_texts(const std::string& path, const EntityTexts& texts, const std::vector<std::string>& ids,
                                  bool users) {
  std::string out = users ? "user\tid" : "item\tid";
  // A column named like one of ours (item, user, id, text) keeps its values under another name.
  for (const std::string& f : texts.fields)
    out += "\t" + (f == "item" || f == "user" || f == "id" || f == "text" ? "original_" + f : tsv_safe(f));
  out += "\ttext\n";
  size_t with = 0;
  for (size_t index = 0; index < ids.size(); ++index) {
    const auto it = texts.values.find(ids[index]);
    if (it == texts.values.end()) continue;
    ++with;
    out += std::to_string(index) + "\t" + tsv_safe(ids[index]);
    for (const std::string& v : it->second) out += "\t" + tsv_safe(v);
    out += "\t" + tsv_safe(compose_text(texts, it->second, users)) + "\n";
  }
  write_file_atomic(path, out);
  return {{"with_text", with}, {"without_text", ids.size() - with}, {"not_in_the_data", texts.values.size() - with}};
}

}  // namespace recgrid::data
