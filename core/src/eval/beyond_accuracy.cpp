#include "eval/beyond_accuracy.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace recgrid::eval {

const std::vector<std::string>& beyond_accuracy_names() {
  static const std::vector<std::string> names = {"coverage", "gini", "novelty", "arp"};
  return names;
}

bool is_per_user_metric(const std::string& name) { return name == "novelty" || name == "arp"; }

double gini_index(std::vector<int64_t> counts) {
  std::sort(counts.begin(), counts.end());
  const double n = static_cast<double>(counts.size());
  double weighted = 0, total = 0;
  for (size_t j = 0; j < counts.size(); ++j) {
    const double c = static_cast<double>(counts[j]);
    weighted += (2.0 * static_cast<double>(j + 1) - n - 1.0) * c;
    total += c;
  }
  return total > 0 ? weighted / (n * total) : 0.0;
}

double self_information(int64_t count, int64_t users) {
  return -std::log2(static_cast<double>(std::max<int64_t>(count, 1)) / static_cast<double>(users));
}

BeyondAccuracy::BeyondAccuracy(std::vector<int> ks, const TrainingCounts& counts, std::vector<std::string> metrics)
    : ks_(std::move(ks)), counts_(counts), metrics_(std::move(metrics)) {
  const auto& known = beyond_accuracy_names();
  for (const std::string& m : metrics_) {
    if (std::find(known.begin(), known.end(), m) == known.end())
      throw std::invalid_argument("unknown beyond-accuracy metric '" + m + "' (known: coverage, gini, novelty, arp)");
    if (is_per_user_metric(m)) per_user_names_.push_back(m);
    if (m == "coverage" || m == "gini") exposure_ = true;
  }
  if (exposure_) exposure_counts_.assign(ks_.size(), std::vector<int64_t>(counts_.per_item.size(), 0));
  per_user_sums_.assign(ks_.size() * per_user_names_.size(), 0.0);
}

// The mean over the user's top n items of novelty's self-information or of arp's popularity count.
double BeyondAccuracy::per_user_value(const std::string& name, const int64_t* ranked, int n) const {
  if (n <= 0) return 0.0;
  const bool novelty = name == "novelty";
  double sum = 0;
  for (int j = 0; j < n; ++j) {
    const int64_t c = counts_.per_item[static_cast<size_t>(ranked[j])];
    sum += novelty ? self_information(c, counts_.users_with_train) : static_cast<double>(c);
  }
  return sum / n;
}

void BeyondAccuracy::add_user(const int64_t* ranked, int n_ranked, double* per_user) {
  ++users_;
  const size_t m_count = per_user_names_.size();
  for (size_t q = 0; q < ks_.size(); ++q) {
    const int n = std::min(ks_[q], n_ranked);
    if (exposure_)
      for (int j = 0; j < n; ++j) ++exposure_counts_[q][static_cast<size_t>(ranked[j])];
    for (size_t m = 0; m < m_count; ++m) {
      per_user[q * m_count + m] = per_user_value(per_user_names_[m], ranked, n);
      per_user_sums_[q * m_count + m] += per_user[q * m_count + m];
    }
  }
}

std::map<std::string, double> BeyondAccuracy::means() const {
  std::map<std::string, double> out;
  const size_t m_count = per_user_names_.size();
  for (size_t q = 0; q < ks_.size(); ++q) {
    const std::string at = "@" + std::to_string(ks_[q]);
    for (const std::string& m : metrics_) {
      if (m == "coverage") {
        const auto shown = std::count_if(exposure_counts_[q].begin(), exposure_counts_[q].end(), [](int64_t c) { return c > 0; });
        out[m + at] = exposure_counts_[q].empty() ? 0.0 : static_cast<double>(shown) / static_cast<double>(exposure_counts_[q].size());
      } else if (m == "gini") {
        out[m + at] = gini_index(exposure_counts_[q]);
      }
    }
    for (size_t m = 0; m < m_count; ++m)
      out[per_user_names_[m] + at] = users_ ? per_user_sums_[q * m_count + m] / static_cast<double>(users_) : 0.0;
  }
  return out;
}

}  // namespace recgrid::eval
