// The planted model's interactions drawn in O(1) expected time each (recgrid synth at any size):
// a user's item is drawn by picking an intent c from the user's mixture θ_u, then an item from that
// intent's item distribution q_c(i) ∝ φ_ic^sharpness · pop_i (an alias table per intent); an item
// the user already has is drawn again. So the first draw follows
//     P(i | u) = Σ_c θ_uc q_c(i),
// and later draws the same distribution restricted to the items not yet taken (a draw without
// replacement). Building costs O(K · items) time and memory, each user O(K) (the user's own alias
// table over intents), each draw O(1) expected. `synthetic` with sampler `alias` uses it
// (data/synthetic.hpp); `exact` keeps the per-user sort over all items.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "data/ndarray.hpp"

namespace recgrid::data {

// Walker's alias method over n weights (not all zero): draw() in O(1).
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<double>& weights);
  int64_t draw(std::mt19937_64& rng) const;
  int64_t size() const { return static_cast<int64_t>(accept_.size()); }

 private:
  std::vector<float> accept_;   // the probability of keeping slot k (else its alias)
  std::vector<int32_t> alias_;
};

class PlantedSampler {
 public:
  // user_mixture [users x K], item_mixture [items x K], log_pop [items].
  PlantedSampler(const FloatTable& user_mixture, const FloatTable& item_mixture, const std::vector<double>& log_pop,
                 double sharpness);

  // n distinct items for user u (n <= items / 2), appended to `picked`; `taken` (items long, all 0
  // on entry) marks them and is cleared again before returning. After 64 · n rejected draws the
  // rest are uniform items not yet taken (a user whose intents hold too few items).
  void draw_items(int64_t u, int64_t n, std::mt19937_64& rng, std::vector<char>& taken, std::vector<int64_t>& picked) const;

  // P(i | u) of the first draw, from the formula (for tests).
  double probability(int64_t u, int64_t i) const;

 private:
  const FloatTable& users_;
  std::vector<AliasTable> per_intent_;   // q_c
  std::vector<std::vector<double>> q_;   // q_c(i), kept only for probability() on small catalogues
};

}  // namespace recgrid::data
