#include "data/synthetic.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include "data/npy.hpp"
#include "data/planted_sampler.hpp"
#include "data/synthetic_settings.hpp"
#include "util/files.hpp"
#include "util/random.hpp"

namespace recgrid::data {

namespace {

FloatTable dirichlet_rows(int64_t rows, int64_t k, double alpha, std::mt19937_64& rng) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  FloatTable t{rows, k, std::vector<float>(static_cast<size_t>(rows * k))};
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> g(static_cast<size_t>(k));
    double sum = 0;
    for (auto& v : g) sum += (v = gamma(rng) + 1e-12);
    for (int64_t c = 0; c < k; ++c) t.values[r * k + c] = static_cast<float>(g[c] / sum);
  }
  return t;
}

// rows x dim: sqrt(snr / (1 + snr)) * standardised(mixture · W) + sqrt(1 / (1 + snr)) * N(0, 1).
FloatTable noisy_projection(const FloatTable& mix, int64_t dim, double snr, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  const int64_t k = mix.cols;
  std::vector<double> w(static_cast<size_t>(k * dim));
  for (auto& v : w) v = normal(rng);
  std::vector<double> signal(static_cast<size_t>(mix.rows * dim), 0.0);
  for (int64_t r = 0; r < mix.rows; ++r)
    for (int64_t c = 0; c < k; ++c)
      for (int64_t j = 0; j < dim; ++j) signal[r * dim + j] += mix.values[r * k + c] * w[c * dim + j];
  // Standardise each column. Row by row, so that the passes read memory in order (column by column
  // they took most of `recgrid synth`'s time at 100x amazon); each column's sums still add its rows
  // in the same order, so the numbers are those of a column-wise pass.
  const auto rows = static_cast<size_t>(mix.rows), cols = static_cast<size_t>(dim);
  std::vector<double> mean(cols, 0.0), var(cols, 0.0), sd(cols);
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < cols; ++j) mean[j] += signal[r * cols + j];
  for (double& m : mean) m /= static_cast<double>(rows);
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < cols; ++j) var[j] += std::pow(signal[r * cols + j] - mean[j], 2);
  for (size_t j = 0; j < cols; ++j) sd[j] = std::sqrt(var[j] / static_cast<double>(rows)) + 1e-12;
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < cols; ++j) signal[r * cols + j] = (signal[r * cols + j] - mean[j]) / sd[j];
  const double a = std::sqrt(snr / (1.0 + snr)), b = std::sqrt(1.0 / (1.0 + snr));
  FloatTable t{mix.rows, dim, std::vector<float>(signal.size())};
  for (size_t v = 0; v < signal.size(); ++v) t.values[v] = static_cast<float>(a * signal[v] + b * normal(rng));
  return t;
}

void check(const SynthOptions& o) {
  if (o.users < 2 || o.items < 10 || o.intents < 1 || o.interactions_per_user < 3 ||
      o.interactions_per_user > 0.5 * static_cast<double>(o.items) || o.concentration <= 0 || o.sharpness < 0 ||
      o.popularity < 0 || o.noise < 0 || o.noise > 1 || o.snr < 0 || o.profile_dim < 1 || o.intent_dim < 1 ||
      o.valid_share < 0 || o.test_share < 0 || o.valid_share + o.test_share >= 0.8 ||
      (o.sampler != "auto" && o.sampler != "exact" && o.sampler != "alias"))
    throw std::invalid_argument(
        "synthetic: need users >= 2, items >= 10, intents >= 1, 3 <= interactions_per_user <= items / 2, "
        "concentration > 0, sharpness, popularity, snr >= 0, noise in [0, 1], dims >= 1, valid + test share < 0.8, "
        "sampler auto, exact or alias");
}

// Each user's items under the exact sampler: Gumbel top-n over log P(i | u) for all items, where
// P(i | u) ∝ (θ_u · φ_i)^sharpness · pop_i. O(items · K) per user.
void draw_exact(const SyntheticData& s, const SynthOptions& o, const std::vector<double>& log_pop, int64_t u,
                int64_t n, std::mt19937_64& rng, std::vector<char>& taken, std::vector<int64_t>& picked) {
  const int64_t K = o.intents;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::pair<double, int64_t>> keys(static_cast<size_t>(o.items));
  for (int64_t i = 0; i < o.items; ++i) {
    double affinity = 0;
    for (int64_t c = 0; c < K; ++c) affinity += s.user_mixture.values[u * K + c] * s.item_mixture.values[i * K + c];
    const double logit = o.sharpness * std::log(affinity + 1e-12) + log_pop[i];
    keys[i] = {logit - std::log(-std::log(unit(rng) + 1e-300)), i};  // + Gumbel noise: a draw without replacement
  }
  std::partial_sort(keys.begin(), keys.begin() + n, keys.end(), std::greater<>());
  for (int64_t j = 0; j < n; ++j) picked.push_back(keys[j].second), taken[keys[j].second] = 1;
}

// Appends user u's n items to the splits: the first test_share to test, the next valid_share to valid.
void split_user_items(int64_t u, const std::vector<int64_t>& picked, const SynthOptions& o, Dataset& ds) {
  const int64_t n = static_cast<int64_t>(picked.size());
  const int64_t n_test = std::max<int64_t>(1, std::llround(o.test_share * n));
  const int64_t n_valid = std::max<int64_t>(1, std::llround(o.valid_share * n));
  for (int64_t j = 0; j < n; ++j) {
    Interactions& split = j < n_test ? ds.test : j < n_test + n_valid ? ds.valid : ds.train;
    split.user.push_back(u);
    split.item.push_back(picked[j]);
  }
}

// Popularity: Zipf over a random order of the items, as log pop_i.
std::vector<double> popularity_logits(const SynthOptions& o, std::mt19937_64& rng) {
  std::vector<int64_t> order(static_cast<size_t>(o.items));
  std::iota(order.begin(), order.end(), 0);
  shuffle_in_place(order, rng);
  std::vector<double> log_pop(static_cast<size_t>(o.items));
  for (int64_t r = 0; r < o.items; ++r) log_pop[order[r]] = -o.popularity * std::log(static_cast<double>(r + 1));
  return log_pop;
}

}  // namespace

std::string synth_sampler_used(const SynthOptions& o) {
  if (o.sampler != "auto") return o.sampler;
  return static_cast<double>(o.users) * static_cast<double>(o.items) <= kExactSamplerLimit ? "exact" : "alias";
}

SyntheticData generate_synthetic(const SynthOptions& o) {
  check(o);
  std::mt19937_64 rng(o.seed);
  SyntheticData s;
  s.user_mixture = dirichlet_rows(o.users, o.intents, o.concentration, rng);
  s.item_mixture = dirichlet_rows(o.items, o.intents, o.concentration, rng);
  const std::vector<double> log_pop = popularity_logits(o, rng);
  const bool exact = synth_sampler_used(o) == "exact";
  std::unique_ptr<PlantedSampler> alias;
  if (!exact) alias = std::make_unique<PlantedSampler>(s.user_mixture, s.item_mixture, log_pop, o.sharpness);

  // Each user's items: drawn from the planted model, plus uniform noise picks; then a random split.
  std::poisson_distribution<int64_t> count(o.interactions_per_user - 3);
  Dataset& ds = s.dataset;
  ds.name = "synthetic";
  ds.n_users = o.users;
  ds.n_items = o.items;
  std::vector<char> taken(static_cast<size_t>(o.items), 0);
  std::vector<int64_t> picked;
  for (int64_t u = 0; u < o.users; ++u) {
    const int64_t n = std::min<int64_t>(3 + count(rng), o.items / 2);
    const int64_t n_noise = std::llround(o.noise * static_cast<double>(n));
    picked.clear();
    if (exact) draw_exact(s, o, log_pop, u, n - n_noise, rng, taken, picked);
    else alias->draw_items(u, n - n_noise, rng, taken, picked);
    for (int64_t i : picked) taken[i] = 1;
    while (static_cast<int64_t>(picked.size()) < n) {  // the noise share: uniform items not yet taken
      const int64_t i = uniform_below(rng, o.items);
      if (!taken[i]) picked.push_back(i), taken[i] = 1;
    }
    for (int64_t i : picked) taken[i] = 0;
    shuffle_in_place(picked, rng);
    split_user_items(u, picked, o, ds);
  }
  check_dataset(ds);

  s.profile_user = noisy_projection(s.user_mixture, o.profile_dim, o.snr, rng);
  s.profile_item = noisy_projection(s.item_mixture, o.profile_dim, o.snr, rng);
  s.intent_user = noisy_projection(s.user_mixture, o.intent_dim, o.snr, rng);
  s.intent_item = noisy_projection(s.item_mixture, o.intent_dim, o.snr, rng);
  return s;
}

nlohmann::json synth_options_to_json(const SynthOptions& o) {
  nlohmann::json out = nlohmann::json::object();
  for (const SynthSetting& s : synth_settings())
    std::visit([&](auto member) { out[s.name] = o.*member; }, s.field);
  return out;
}

SynthOptions synth_options_from_json(const nlohmann::json& values) {
  SynthOptions o;
  const nlohmann::json known = synth_options_to_json(o);
  for (auto it = values.begin(); it != values.end(); ++it)
    if (!known.contains(it.key())) {
      std::string names;
      for (auto k = known.begin(); k != known.end(); ++k) names += (names.empty() ? "" : ", ") + k.key();
      throw std::invalid_argument("synthetic: unknown setting '" + it.key() + "' (settings: " + names + ")");
    }
  for (const SynthSetting& s : synth_settings())
    if (values.contains(s.name))
      std::visit([&](auto member) { o.*member = values.at(s.name).get<std::decay_t<decltype(o.*member)>>(); },
                 s.field);
  return o;
}

void write_synthetic(const SyntheticData& s, const SynthOptions& o, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const std::pair<const char*, const Interactions*> splits[] = {
      {"train.tsv", &s.dataset.train}, {"valid.tsv", &s.dataset.valid}, {"test.tsv", &s.dataset.test}};
  for (auto [name, split] : splits) {  // in 1 MiB pieces: 11 M lines at 100x amazon
    AtomicFile file(dir + "/" + name);
    std::string text;
    for (size_t k = 0; k < split->size(); ++k) {
      text += std::to_string(split->user[k]) + "\t" + std::to_string(split->item[k]) + "\n";
      if (text.size() > (1u << 20)) file.write(text.data(), text.size()), text.clear();
    }
    file.write(text.data(), text.size());
    file.commit();
  }
  write_table_npy(dir + "/profile_user.npy", s.profile_user);
  write_table_npy(dir + "/profile_item.npy", s.profile_item);
  write_table_npy(dir + "/intent_user.npy", s.intent_user);
  write_table_npy(dir + "/intent_item.npy", s.intent_item);
  write_table_npy(dir + "/truth_user_mixture.npy", s.user_mixture);
  write_table_npy(dir + "/truth_item_mixture.npy", s.item_mixture);
  nlohmann::json settings = synth_options_to_json(o);
  settings["sampler"] = synth_sampler_used(o);
  settings["interactions"] = {
      {"train", s.dataset.train.size()}, {"valid", s.dataset.valid.size()}, {"test", s.dataset.test.size()}};
  write_file_atomic(dir + "/settings.json", settings.dump(2) + "\n");
}

}  // namespace recgrid::data
