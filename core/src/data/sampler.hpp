// BPR triplets exactly as ALGORITHMS.md §1.3: one sample per training interaction per epoch,
// one uniform negative per sample re-drawn while it is a training item of that user, shuffled.
#pragma once

#include <cstdint>
#include <vector>

#include "data/dataset.hpp"
#include "util/random.hpp"

namespace recgrid::data {

struct Triplets {
  std::vector<int64_t> users, pos, neg;  // shuffled; cut into batches by the trainer
  size_t size() const { return users.size(); }
};

class BprSampler {
 public:
  // `train` and `index` must outlive the sampler.
  BprSampler(const Interactions& train, const UserItemIndex& index, int64_t n_items);
  // The whole epoch's triplets, a pure function of `seed` (the trainer derives it from run seed + epoch).
  Triplets sample_epoch(uint64_t seed) const;

 private:
  const Interactions& train_;
  const UserItemIndex& index_;
  int64_t n_items_;
};

}  // namespace recgrid::data
