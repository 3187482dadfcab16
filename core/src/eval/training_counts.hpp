// How often each user and each item occurs in the training split: the popularity that novelty,
// average recommendation popularity, the head/tail item groups and the user groups are measured by.
#pragma once

#include <cstdint>
#include <vector>

#include "data/dataset.hpp"

namespace recgrid::eval {

struct TrainingCounts {
  std::vector<int64_t> per_item;  // training interactions of each item (0 for items never seen in training)
  std::vector<int64_t> per_user;  // training interactions of each user
  int64_t users_with_train = 0;   // users with at least one training interaction
  int64_t total = 0;              // training interactions

  static TrainingCounts of(const data::Dataset& ds);
};

}  // namespace recgrid::eval
