#include "eval/training_counts.hpp"

namespace recgrid::eval {

TrainingCounts TrainingCounts::of(const data::Dataset& ds) {
  TrainingCounts c;
  c.per_item.assign(static_cast<size_t>(ds.n_items), 0);
  c.per_user.assign(static_cast<size_t>(ds.n_users), 0);
  for (size_t k = 0; k < ds.train.size(); ++k) {
    ++c.per_user[static_cast<size_t>(ds.train.user[k])];
    ++c.per_item[static_cast<size_t>(ds.train.item[k])];
  }
  for (int64_t n : c.per_user) c.users_with_train += n > 0;
  c.total = static_cast<int64_t>(ds.train.size());
  return c;
}

}  // namespace recgrid::eval
