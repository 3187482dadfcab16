#include "eval/ranking.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace recgrid::eval {

namespace {

// a ranks before b: higher score, then lower index.
bool entry_better(float sa, int64_t a, float sb, int64_t b) { return sa > sb || (sa == sb && a < b); }

}  // namespace

void RunningTopK::offer(const float* scores, int64_t n, int64_t first_item) {
  const auto worse_on_top = [](const Entry& x, const Entry& y) { return entry_better(x.score, x.item, y.score, y.item); };
  for (int64_t j = 0; j < n; ++j) {
    float v = scores[j];
    if (std::isnan(v)) v = -std::numeric_limits<float>::infinity();  // NaN ranks last
    if (static_cast<int>(heap_.size()) < k_) {
      heap_.push_back({v, first_item + j});
      std::push_heap(heap_.begin(), heap_.end(), worse_on_top);
    } else if (k_ > 0 && v > heap_.front().score) {  // items arrive in index order: a tie never displaces
      std::pop_heap(heap_.begin(), heap_.end(), worse_on_top);
      heap_.back() = {v, first_item + j};
      std::push_heap(heap_.begin(), heap_.end(), worse_on_top);
    }
  }
}

int RunningTopK::take(int64_t* out) {
  std::sort(heap_.begin(), heap_.end(), [](const Entry& x, const Entry& y) { return entry_better(x.score, x.item, y.score, y.item); });
  for (size_t k = 0; k < heap_.size(); ++k) out[k] = heap_[k].item;
  const int n = static_cast<int>(heap_.size());
  heap_.clear();
  return n;
}

// One running top-K over the whole row: the order, the ties and NaN are RunningTopK's.
int top_k(const float* scores, int64_t n, int k, int64_t* out) {
  RunningTopK top(static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(k, n))));
  top.offer(scores, n, 0);
  return top.take(out);
}

}  // namespace recgrid::eval
