#include "data/sampler.hpp"

#include <numeric>

namespace recgrid::data {

BprSampler::BprSampler(const Interactions& train, const UserItemIndex& index, int64_t n_items)
    : train_(train), index_(index), n_items_(n_items) {}

Triplets BprSampler::sample_epoch(uint64_t seed) const {
  std::mt19937_64 rng(seed);
  const size_t n = train_.size();
  std::vector<int64_t> neg(n);
  for (size_t k = 0; k < n; ++k) {  // negatives first, in interaction order (as REF)
    const int64_t u = train_.user[k];
    if (index_.count(u) >= n_items_) {  // a user who interacted with every item has no negative
      neg[k] = uniform_below(rng, n_items_);
      continue;
    }
    int64_t j;
    do j = uniform_below(rng, n_items_);
    while (index_.contains(u, j));
    neg[k] = j;
  }
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  shuffle_in_place(order, rng);
  Triplets t;
  t.users.resize(n);
  t.pos.resize(n);
  t.neg.resize(n);
  for (size_t k = 0; k < n; ++k) {
    t.users[k] = train_.user[order[k]];
    t.pos[k] = train_.item[order[k]];
    t.neg[k] = neg[order[k]];
  }
  return t;
}

}  // namespace recgrid::data
