// Beyond-accuracy metrics of the final evaluation (docs/METRICS.md), accumulated from each user's
// top-K list as the tiled evaluation produces it: no users x items matrix, one count per item and K.
//   coverage@K  distinct items in any user's top K / all items
//   gini@K      Gini index of the items' top-K exposure counts, items never recommended included (0 = every
//               item shown equally often, -> 1 = all exposure on one item)
//   novelty@K   mean over users of the mean self-information -log2(p_i) of the user's top-K items, with
//               p_i = (training interactions of i) / (users with training interactions)
//   arp@K       mean over users of the mean training interaction count of the user's top-K items
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "eval/training_counts.hpp"

namespace recgrid::eval {

// The selectable names (the host key eval.metrics), in the order they are listed.
const std::vector<std::string>& beyond_accuracy_names();
// Those with a value per user (written to the per-user results file): novelty and arp.
bool is_per_user_metric(const std::string& name);

// Gini index of non-negative counts (one per item, zeros included): sum_j (2j - n - 1) c_(j) / (n sum c),
// c_(1) <= ... <= c_(n). 0 when every count is 0.
double gini_index(std::vector<int64_t> counts);
// -log2(count / users); an item without training interactions counts as one (log2(users)): finite.
double self_information(int64_t count, int64_t users);

class BeyondAccuracy {
 public:
  // `metrics`: a subset of beyond_accuracy_names(), in the order to report the per-user ones.
  BeyondAccuracy(std::vector<int> ks, const TrainingCounts& counts, std::vector<std::string> metrics);
  // The selected per-user metrics, in `metrics` order.
  const std::vector<std::string>& per_user_names() const { return per_user_names_; }
  // One user's ranked list (best first). per_user[q * per_user_names().size() + m]: metric m at ks[q].
  void add_user(const int64_t* ranked, int n_ranked, double* per_user);
  // "coverage@K", "gini@K", "novelty@K", "arp@K" for the selected metrics and every K.
  std::map<std::string, double> means() const;

 private:
  double per_user_value(const std::string& name, const int64_t* ranked, int n) const;

  std::vector<int> ks_;
  const TrainingCounts& counts_;
  std::vector<std::string> metrics_, per_user_names_;
  bool exposure_ = false;                      // coverage or gini selected: count exposures
  std::vector<std::vector<int64_t>> exposure_counts_;  // [K index][item]: users with the item in their top K
  std::vector<double> per_user_sums_;          // like per_user, summed over users
  int64_t users_ = 0;
};

}  // namespace recgrid::eval
