// RecGrid's one ranking rule, and its one implementation: evaluation (Evaluator), `recgrid export`
// and `recgrid recommend` all rank through it, so a list a user is shown is the list that was scored.
// The rule: a higher score first; equal scores to the lower item index (a ranking is then a pure
// function of the scores: torch.topk leaves tie order unspecified); NaN ranks as -inf, after every
// number (torch.topk puts it first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace recgrid::eval {

// The k highest scores of scores[0, n) by the rule above, best first. Writes min(k, n) indices to
// `out` and returns that count.
int top_k(const float* scores, int64_t n, int k, int64_t* out);

// top_k over scores that arrive in pieces (item tiles, or the runs between excluded items, in
// increasing item order): the same result as top_k over the whole row, with only k entries kept.
class RunningTopK {
 public:
  explicit RunningTopK(int k) : k_(k) { heap_.reserve(static_cast<size_t>(k)); }
  // scores[0, n) are the items first_item .. first_item + n - 1.
  void offer(const float* scores, int64_t n, int64_t first_item);
  // The best min(k, items offered) items, best first, into `out`; returns the count.
  int take(int64_t* out);

 private:
  struct Entry {
    float score;
    int64_t item;
  };
  int k_;
  std::vector<Entry> heap_;  // worst on top
};

}  // namespace recgrid::eval
