#include "export/recommend.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <filesystem>

#include "data/delimited.hpp"
#include "eval/ranking.hpp"
#include "text/item_texts.hpp"
#include "util/line_reader.hpp"

namespace recgrid::exporting {

namespace fs = std::filesystem;

namespace {

// A map file "index<TAB>original_id" with a header; every index in [0, n) must be there.
std::vector<std::string> read_map(const std::string& path, int64_t n) {
  std::vector<std::string> ids(static_cast<size_t>(n));
  LineReader in(path);
  std::string line;
  while (in.next(line)) {
    if (in.line_number() == 1 || line.empty()) continue;
    const auto f = data::split_fields(line, "\t");
    const std::string where = path + ":" + std::to_string(in.line_number());
    int64_t index = -1;
    try {
      index = std::stoll(f.at(0));
    } catch (const std::exception&) {
    }
    if (f.size() != 2 || index < 0 || index >= n)
      throw std::runtime_error(where + ": expected 'index<TAB>original_id' with an index in [0, " + std::to_string(n) + ")");
    ids[static_cast<size_t>(index)] = f[1];
  }
  for (size_t k = 0; k < ids.size(); ++k)
    if (ids[k].empty()) throw std::runtime_error(path + ": index " + std::to_string(k) + " has no original id");
  return ids;
}

std::vector<std::string> indices(int64_t n) {
  std::vector<std::string> out;
  for (int64_t k = 0; k < n; ++k) out.push_back(std::to_string(k));
  return out;
}

// The title column, or the first sentence of the text (at most 100 characters).
std::vector<std::string> read_titles(const std::string& path, int64_t n_items) {
  std::vector<std::string> titles;
  for (const auto& r : text::read_item_records(path, n_items)) {
    std::string t = r.value("title", "");
    if (t.empty()) {
      t = r.value("text", "");
      t = t.substr(0, std::min(t.find(". "), size_t{100}));
    }
    titles.push_back(t);
  }
  return titles;
}

}  // namespace

IdNames read_id_names(const std::string& dir, int64_t n_users, int64_t n_items) {
  IdNames n;
  const fs::path d(dir);
  n.has_maps = !dir.empty() && fs::exists(d / "user_map.tsv") && fs::exists(d / "item_map.tsv");
  n.users = n.has_maps ? read_map((d / "user_map.tsv").string(), n_users) : indices(n_users);
  n.items = n.has_maps ? read_map((d / "item_map.tsv").string(), n_items) : indices(n_items);
  n.titles = !dir.empty() && fs::exists(d / "item_text.tsv") ? read_titles((d / "item_text.tsv").string(), n_items)
                                                              : std::vector<std::string>(static_cast<size_t>(n_items));
  return n;
}

std::vector<data::UserItemIndex> seen_items(const data::Dataset& ds, Exclude exclude) {
  std::vector<data::UserItemIndex> seen;
  seen.emplace_back(ds.train, ds.n_users);
  if (exclude == Exclude::All) seen.emplace_back(ds.valid, ds.n_users), seen.emplace_back(ds.test, ds.n_users);
  return seen;
}

namespace {

// One user's list from their score row: the items not excluded, offered to the shared ranking
// (eval/ranking.hpp) in the runs between excluded ones, so that excluded items are never candidates.
Ranked rank_row(const float* row, int64_t n_items, const std::vector<char>& excluded, int k, std::vector<int64_t>& buffer) {
  eval::RunningTopK top(k);
  for (int64_t lo = 0; lo < n_items;) {
    while (lo < n_items && excluded[static_cast<size_t>(lo)]) ++lo;
    int64_t hi = lo;
    while (hi < n_items && !excluded[static_cast<size_t>(hi)]) ++hi;
    if (hi > lo) top.offer(row + lo, hi - lo, lo);
    lo = hi;
  }
  Ranked list;
  list.items.assign(buffer.begin(), buffer.begin() + top.take(buffer.data()));
  for (int64_t item : list.items) list.scores.push_back(row[item]);
  return list;
}

}  // namespace

std::vector<Ranked> top_k_block(const at::Tensor& users, const at::Tensor& items, int64_t begin, int64_t end,
                                const std::vector<data::UserItemIndex>& seen, int64_t k) {
  const at::Tensor scores = users.narrow(0, begin, end - begin).mm(items.t()).to(at::kCPU, at::kFloat).contiguous();  // [B x N]
  const float* s = scores.data_ptr<float>();
  const int64_t n_items = scores.size(1);
  const int kk = static_cast<int>(std::max<int64_t>(0, std::min(k, n_items)));
  std::vector<Ranked> out(static_cast<size_t>(end - begin));
  at::parallel_for(begin, end, 1, [&](int64_t u0, int64_t u1) {  // rows are independent: any split gives the same lists
    std::vector<char> excluded(static_cast<size_t>(n_items));
    std::vector<int64_t> buffer(static_cast<size_t>(kk));
    for (int64_t u = u0; u < u1; ++u) {
      std::fill(excluded.begin(), excluded.end(), 0);
      for (const data::UserItemIndex& index : seen)
        for (const int64_t* it = index.begin(u); it != index.end(u); ++it) excluded[static_cast<size_t>(*it)] = 1;
      out[static_cast<size_t>(u - begin)] = rank_row(s + (u - begin) * n_items, n_items, excluded, kk, buffer);
    }
  });
  return out;
}

void top_k_all(const at::Tensor& users, const at::Tensor& items, const std::vector<data::UserItemIndex>& seen,
               int64_t k, int64_t block, const std::function<void(int64_t, const Ranked&)>& sink) {
  const int64_t n_users = users.size(0);
  for (int64_t begin = 0; begin < n_users; begin += block) {
    const int64_t end = std::min(n_users, begin + block);
    const auto ranked = top_k_block(users, items, begin, end, seen, k);
    for (int64_t u = begin; u < end; ++u) sink(u, ranked[static_cast<size_t>(u - begin)]);
  }
}

}  // namespace recgrid::exporting
