// Full-ranking evaluation (ALGORITHMS.md §1.4): score every item for every evaluation user in user
// batches, mask the user's training items, take the top max(K), accumulate Recall/NDCG@K. A batch is
// scored in tiles of items (kTileBytes of scores), each merged into running top-K lists while in
// cache: memory does not grow with the catalogue (a 1024-user row block of 933,200 items was 3.8 GB).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.hpp"

namespace recgrid::eval {

// Final user [M x d] and item [N x d] embeddings to score with.
using Embeddings = std::pair<at::Tensor, at::Tensor>;
using EncodeFn = std::function<Embeddings()>;
// The scores of rows [r_lo, r_lo + m) of one user batch for items [lo, lo + n): [m x n] float.
using TileFn = std::function<at::Tensor(int64_t r_lo, int64_t m, int64_t lo, int64_t n)>;
// Prepares the scoring of one user batch (`users`: int64 [b] on the CPU, valid for that batch only)
// and returns its tile function: embeddings' dot products, or a fitted model's score() call.
using BatchScorer = std::function<TileFn(const at::Tensor& users)>;
// Sees every evaluation user's ranked top max(K) (n_ranked items, best first) and its sorted ground
// truth, in user order: what the final evaluation's further metrics accumulate (eval/list_analysis.hpp).
using RankedListFn = std::function<void(int64_t user, const int64_t* ranked, int n_ranked, const int64_t* truth_begin,
                                        const int64_t* truth_end)>;

class Evaluator {
 public:
  // `truth` is the evaluated split (valid or test); only training items are masked. tile_items: items
  // per score tile (0: kTileBytes worth; the benchmark compares sizes, bench/eval_bench.cpp).
  Evaluator(const data::Dataset& ds, const data::Interactions& truth, std::vector<int> ks, int64_t batch_users,
            int64_t tile_items = 0);
  // Encodes once per pass, or once per user batch when `encode_per_batch` (random encoders).
  // `on_list`, when given, sees each user's ranked list after its Recall/NDCG are added.
  std::map<std::string, double> run(const EncodeFn& encode, bool encode_per_batch = false,
                                    const RankedListFn& on_list = {}) const;
  // The same pass with any tile scorer (a model that has no embeddings, e.g. EASE^R's X.B).
  std::map<std::string, double> run_scorer(const BatchScorer& scorer, const RankedListFn& on_list = {}) const;
  int64_t n_users() const { return static_cast<int64_t>(users_.size()); }
  const std::vector<int>& ks() const { return ks_; }
  const std::vector<int64_t>& users() const { return users_; }

  // A score tile is at most kTileRows users x (kTileBytes of floats / kTileRows) items: 256 x 8192, 8 MiB.
  // Measured with bench/eval_bench.cpp (10x and 100x amazon, 1024-user batches): tiles of 1024 x
  // 1024-4096 items scored 0.64-0.71 G/s at 10x, 1024 x 8192 (32 MB) 0.11 G/s, as slow as whole rows.
  static constexpr int64_t kTileRows = 256;
  static constexpr int64_t kTileBytes = 8 << 20;

 private:
  int64_t tile_items(int64_t batch, int64_t n_items) const;
  void rank_batch(const TileFn& tile_scores, int64_t start, int64_t b, int k_max, std::vector<int64_t>& ranked,
                  std::vector<int>& n_ranked) const;

  std::vector<int64_t> users_;  // evaluation users: at least one ground-truth item
  data::UserItemIndex truth_, train_;
  std::vector<int> ks_;
  int64_t batch_users_, tile_items_, n_items_;
};

}  // namespace recgrid::eval
