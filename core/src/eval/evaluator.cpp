#include "eval/evaluator.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>

#include "eval/metrics.hpp"

namespace recgrid::eval {

Evaluator::Evaluator(const data::Dataset& ds, const data::Interactions& truth, std::vector<int> ks,
                     int64_t batch_users, int64_t tile_items)
    : truth_(truth, ds.n_users), train_(ds.train, ds.n_users), ks_(std::move(ks)), batch_users_(batch_users),
      tile_items_(tile_items), n_items_(ds.n_items) {
  for (int64_t u = 0; u < ds.n_users; ++u)
    if (truth_.count(u) > 0) users_.push_back(u);
}

int64_t Evaluator::tile_items(int64_t batch, int64_t n_items) const {
  if (tile_items_ > 0) return std::min(tile_items_, n_items);
  return std::clamp<int64_t>(kTileBytes / (static_cast<int64_t>(sizeof(float)) * std::max<int64_t>(1, batch)), 256, n_items);
}

namespace {

// Masks row r's training items that fall in the tile [lo, lo + n) (§1.4).
void mask_training_items(const data::UserItemIndex& train, int64_t u, float* row, int64_t lo, int64_t n) {
  const int64_t* first = std::lower_bound(train.begin(u), train.end(u), lo);
  for (const int64_t* i = first; i != train.end(u) && *i < lo + n; ++i) row[*i - lo] = -1e8f;
}

}  // namespace

// One user batch: its scores tile by tile (kTileRows users x tile items), each tile masked and merged
// into the rows' running top-K while it is still in cache; then the ranked lists.
void Evaluator::rank_batch(const TileFn& tile_scores, int64_t start, int64_t b, int k_max, std::vector<int64_t>& ranked,
                           std::vector<int>& n_ranked) const {
  const int64_t n_items = n_items_, rows = std::min(b, kTileRows), tile = tile_items(rows, n_items);
  std::vector<RunningTopK> tops(static_cast<size_t>(b), RunningTopK(k_max));
  for (int64_t r_lo = 0; r_lo < b; r_lo += rows) {
    const int64_t m = std::min(rows, b - r_lo);
    for (int64_t lo = 0; lo < n_items; lo += tile) {
      const int64_t n = std::min(tile, n_items - lo);
      at::Tensor scores = tile_scores(r_lo, m, lo, n).to(at::kCPU, at::kFloat).contiguous();
      float* s = scores.data_ptr<float>();
      at::parallel_for(0, m, 16, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          mask_training_items(train_, users_[start + r_lo + r], s + r * n, lo, n);
          tops[r_lo + r].offer(s + r * n, n, lo);
        }
      });
    }
  }
  for (int64_t r = 0; r < b; ++r) n_ranked[r] = tops[r].take(ranked.data() + r * k_max);
}

std::map<std::string, double> Evaluator::run_scorer(const BatchScorer& scorer, const RankedListFn& on_list) const {
  c10::NoGradGuard no_grad;
  const int k_max = *std::max_element(ks_.begin(), ks_.end());
  const int64_t n_eval = n_users();
  MetricSums total(ks_);
  std::vector<int64_t> ranked(static_cast<size_t>(batch_users_ * k_max));
  std::vector<int> n_ranked(static_cast<size_t>(batch_users_));
  for (int64_t start = 0; start < n_eval; start += batch_users_) {
    const int64_t b = std::min(batch_users_, n_eval - start);
    const at::Tensor users = at::from_blob(const_cast<int64_t*>(users_.data() + start), {b}, at::kLong);
    rank_batch(scorer(users), start, b, k_max, ranked, n_ranked);
    for (int64_t r = 0; r < b; ++r) {  // merged in row order: deterministic sums
      const int64_t u = users_[start + r];
      total.add_user(ranked.data() + r * k_max, n_ranked[r], truth_.begin(u), truth_.end(u));
      if (on_list) on_list(u, ranked.data() + r * k_max, n_ranked[r], truth_.begin(u), truth_.end(u));
    }
  }
  return total.means();
}

// Embeddings score a tile as the dot products of its user rows (gathered once per batch) with its items.
std::map<std::string, double> Evaluator::run(const EncodeFn& encode, bool encode_per_batch,
                                             const RankedListFn& on_list) const {
  c10::NoGradGuard no_grad;
  Embeddings emb;
  if (!encode_per_batch) emb = encode();
  return run_scorer([&](const at::Tensor& users) -> TileFn {
    if (encode_per_batch) emb = encode();
    const at::Tensor item_emb = emb.second, user_emb = emb.first.index_select(0, users.to(item_emb.device()));
    return [user_emb, item_emb](int64_t r_lo, int64_t m, int64_t lo, int64_t n) {
      return user_emb.narrow(0, r_lo, m).mm(item_emb.narrow(0, lo, n).t());
    };
  }, on_list);
}

}  // namespace recgrid::eval
