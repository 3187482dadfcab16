// What comes out of a trained run for people and other systems: top-K lists per user in blocks of
// users (bounded memory, like evaluation), with the dataset's original ids and item titles.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "data/dataset.hpp"

namespace recgrid::exporting {

// Index -> original id (user_map.tsv / item_map.tsv of `recgrid data import`), and item titles
// (item_text.tsv's `title` column, or the start of its `text`), read from a dataset folder. Without
// the maps an id is its index; without item text the titles are empty.
struct IdNames {
  std::vector<std::string> users, items, titles;
  bool has_maps = false;
};
IdNames read_id_names(const std::string& dataset_dir, int64_t n_users, int64_t n_items);

// Which items never appear in a user's list: their training items, or every item they
// interacted with in any split (--exclude-seen all).
enum class Exclude { Train, All };
std::vector<data::UserItemIndex> seen_items(const data::Dataset& ds, Exclude exclude);

// One user's list, best first.
struct Ranked {
  std::vector<int64_t> items;
  std::vector<float> scores;
};

// Scores every item for users [begin, end) by the dot product of their embeddings (what evaluation
// ranks by) and keeps the k best of each user that are not excluded, ranked as evaluation ranks
// (eval/ranking.hpp: ties to the lower index, NaN last). Fewer than k when fewer items are left.
std::vector<Ranked> top_k_block(const at::Tensor& users, const at::Tensor& items, int64_t begin, int64_t end,
                                const std::vector<data::UserItemIndex>& seen, int64_t k);

// Every user's top-k, `block` users at a time, handed to `sink(user, ranked)` in user order.
void top_k_all(const at::Tensor& users, const at::Tensor& items, const std::vector<data::UserItemIndex>& seen,
               int64_t k, int64_t block, const std::function<void(int64_t, const Ranked&)>& sink);

}  // namespace recgrid::exporting
