#include "data/planted_sampler.hpp"

#include <cmath>
#include <stdexcept>

#include "util/random.hpp"

namespace recgrid::data {

AliasTable::AliasTable(const std::vector<double>& weights) {
  const size_t n = weights.size();
  double total = 0;
  for (double w : weights) total += w;
  if (n == 0 || !(total > 0)) throw std::invalid_argument("alias table: weights must have a positive sum");
  // Vose's construction: scaled weights below 1 are topped up by one donor above 1.
  std::vector<double> scaled(n);
  std::vector<int32_t> small, large;
  for (size_t k = 0; k < n; ++k) {
    scaled[k] = weights[k] * static_cast<double>(n) / total;
    (scaled[k] < 1.0 ? small : large).push_back(static_cast<int32_t>(k));
  }
  accept_.assign(n, 1.0f);
  alias_.resize(n);
  for (size_t k = 0; k < n; ++k) alias_[k] = static_cast<int32_t>(k);
  while (!small.empty() && !large.empty()) {
    const int32_t s = small.back(), l = large.back();
    small.pop_back();
    accept_[s] = static_cast<float>(scaled[s]);
    alias_[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) large.pop_back(), small.push_back(l);
  }
  // What is left is 1 up to rounding: keep it whole.
}

int64_t AliasTable::draw(std::mt19937_64& rng) const {
  const int64_t k = uniform_below(rng, size());
  const float u = static_cast<float>(rng() >> 40) * (1.0f / 16777216.0f);  // 24 bits in [0, 1)
  return u < accept_[k] ? k : alias_[k];
}

PlantedSampler::PlantedSampler(const FloatTable& user_mixture, const FloatTable& item_mixture,
                               const std::vector<double>& log_pop, double sharpness)
    : users_(user_mixture) {
  const int64_t K = item_mixture.cols, items = item_mixture.rows;
  const bool keep_q = items * K <= 1'000'000;
  std::vector<double> w(static_cast<size_t>(items));
  for (int64_t c = 0; c < K; ++c) {
    double total = 0;
    for (int64_t i = 0; i < items; ++i) {
      const double phi = item_mixture.values[i * K + c];
      total += w[i] = std::exp(sharpness * std::log(phi + 1e-12) + log_pop[i]);
    }
    per_intent_.emplace_back(w);
    if (keep_q) {
      for (double& v : w) v /= total;
      q_.push_back(w);
    }
  }
}

void PlantedSampler::draw_items(int64_t u, int64_t n, std::mt19937_64& rng, std::vector<char>& taken,
                                std::vector<int64_t>& picked) const {
  const int64_t K = users_.cols, items = static_cast<int64_t>(taken.size());
  const AliasTable intents(std::vector<double>(users_.values.begin() + u * K, users_.values.begin() + (u + 1) * K));
  const size_t first = picked.size();
  int64_t got = 0, rejected = 0;
  while (got < n && rejected < 64 * n) {
    const int64_t i = per_intent_[intents.draw(rng)].draw(rng);
    if (taken[i]) {
      ++rejected;
      continue;
    }
    taken[i] = 1, picked.push_back(i), ++got;
  }
  while (got < n) {  // the user's intents ran out of items: uniform picks
    const int64_t i = uniform_below(rng, items);
    if (!taken[i]) taken[i] = 1, picked.push_back(i), ++got;
  }
  for (size_t k = first; k < picked.size(); ++k) taken[picked[k]] = 0;
}

double PlantedSampler::probability(int64_t u, int64_t i) const {
  if (q_.empty()) throw std::logic_error("PlantedSampler::probability: only for small catalogues");
  const int64_t K = users_.cols;
  double p = 0, total = 0;
  for (int64_t c = 0; c < K; ++c) total += users_.values[u * K + c];
  for (int64_t c = 0; c < K; ++c) p += users_.values[u * K + c] / total * q_[c][i];
  return p;
}

}  // namespace recgrid::data
