// Full-ranking evaluation (ALGORITHMS.md §1.4): score every item for every evaluation user in user
// batches, mask the user's training items, take the top max(K), accumulate Recall/NDCG@K.
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

class Evaluator {
 public:
  // `truth` is the evaluated split (valid or test); only training items are masked.
  Evaluator(const data::Dataset& ds, const data::Interactions& truth, std::vector<int> ks, int64_t batch_users);
  // Encodes once per pass, or once per user batch when `encode_per_batch` (random encoders).
  std::map<std::string, double> run(const EncodeFn& encode, bool encode_per_batch = false) const;
  int64_t n_users() const { return static_cast<int64_t>(users_.size()); }

 private:
  std::vector<int64_t> users_;  // evaluation users: at least one ground-truth item
  data::UserItemIndex truth_, train_;
  std::vector<int> ks_;
  int64_t batch_users_;
};

}  // namespace recgrid::eval
