#include "eval/evaluator.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>

#include "eval/metrics.hpp"

namespace recgrid::eval {

Evaluator::Evaluator(const data::Dataset& ds, const data::Interactions& truth, std::vector<int> ks,
                     int64_t batch_users)
    : truth_(truth, ds.n_users), train_(ds.train, ds.n_users), ks_(std::move(ks)), batch_users_(batch_users) {
  for (int64_t u = 0; u < ds.n_users; ++u)
    if (truth_.count(u) > 0) users_.push_back(u);
}

std::map<std::string, double> Evaluator::run(const EncodeFn& encode, bool encode_per_batch) const {
  c10::NoGradGuard no_grad;
  const int k_max = *std::max_element(ks_.begin(), ks_.end());
  const int64_t n_eval = n_users();
  MetricSums total(ks_);
  Embeddings emb;
  if (!encode_per_batch) emb = encode();
  for (int64_t start = 0; start < n_eval; start += batch_users_) {
    if (encode_per_batch) emb = encode();
    const int64_t b = std::min(batch_users_, n_eval - start);
    const at::Tensor& item_emb = emb.second;
    at::Tensor idx = at::from_blob(const_cast<int64_t*>(users_.data() + start), {b}, at::kLong).to(item_emb.device());
    at::Tensor scores = emb.first.index_select(0, idx).mm(item_emb.t()).to(at::kCPU, at::kFloat).contiguous();
    const int64_t n_items = scores.size(1);
    float* s = scores.data_ptr<float>();
    // Per-row work in parallel; per-row results are merged in row order (deterministic sums).
    std::vector<int64_t> ranked(static_cast<size_t>(b * k_max));
    std::vector<int> n_ranked(static_cast<size_t>(b));
    at::parallel_for(0, b, 16, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t u = users_[start + r];
        float* row = s + r * n_items;
        for (const int64_t* i = train_.begin(u); i != train_.end(u); ++i) row[*i] = -1e8f;  // §1.4 mask
        n_ranked[r] = top_k(row, n_items, k_max, ranked.data() + r * k_max);
      }
    });
    for (int64_t r = 0; r < b; ++r) {
      const int64_t u = users_[start + r];
      total.add_user(ranked.data() + r * k_max, n_ranked[r], truth_.begin(u), truth_.end(u));
    }
  }
  return total.means();
}

}  // namespace recgrid::eval
