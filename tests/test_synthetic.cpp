// The planted-intent generator: determinism, well-formed splits, and text whose information follows snr.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "config/config.hpp"
#include "config/host_keys.hpp"
#include "config/run_config.hpp"
#include "data/planted_sampler.hpp"
#include "data/synthetic.hpp"
#include "data/synthetic_settings.hpp"
#include "test_support.hpp"

using namespace recgrid::data;

namespace {

SynthOptions small(double snr) {
  SynthOptions o;
  o.users = 300;
  o.items = 200;
  o.intents = 4;
  o.interactions_per_user = 12;
  o.snr = snr;
  o.profile_dim = 16;
  o.intent_dim = 24;
  return o;
}

// Share of the variance of each text column explained by the planted mixture (least squares on the
// K mixture columns, averaged over text columns): ~ snr / (1 + snr) by construction.
double explained(const FloatTable& text, const FloatTable& mix) {
  const int64_t n = text.rows, k = mix.cols;
  double total = 0;
  for (int64_t j = 0; j < text.cols; ++j) {
    // Normal equations (M^T M) b = M^T y, solved by Gaussian elimination (k is tiny).
    std::vector<double> a(static_cast<size_t>(k * (k + 1)), 0.0);
    double mean = 0, var = 0;
    for (int64_t r = 0; r < n; ++r) mean += text.values[r * text.cols + j];
    mean /= static_cast<double>(n);
    for (int64_t r = 0; r < n; ++r) {
      const double y = text.values[r * text.cols + j] - mean;
      var += y * y;
      for (int64_t p = 0; p < k; ++p) {
        for (int64_t q = 0; q < k; ++q) a[p * (k + 1) + q] += mix.values[r * k + p] * mix.values[r * k + q];
        a[p * (k + 1) + k] += mix.values[r * k + p] * y;
      }
    }
    for (int64_t p = 0; p < k; ++p)
      for (int64_t q = p + 1; q < k; ++q) {
        const double f = a[q * (k + 1) + p] / a[p * (k + 1) + p];
        for (int64_t c = p; c <= k; ++c) a[q * (k + 1) + c] -= f * a[p * (k + 1) + c];
      }
    std::vector<double> b(static_cast<size_t>(k));
    for (int64_t p = k - 1; p >= 0; --p) {
      double v = a[p * (k + 1) + k];
      for (int64_t q = p + 1; q < k; ++q) v -= a[p * (k + 1) + q] * b[q];
      b[p] = v / a[p * (k + 1) + p];
    }
    double resid = 0;
    for (int64_t r = 0; r < n; ++r) {
      double fit = 0;
      for (int64_t p = 0; p < k; ++p) fit += b[p] * mix.values[r * k + p];
      resid += std::pow(text.values[r * text.cols + j] - mean - fit, 2);
    }
    total += 1 - resid / var;
  }
  return total / static_cast<double>(text.cols);
}

}  // namespace

TEST(Synthetic, DeterministicAndWellFormed) {
  const SyntheticData a = generate_synthetic(small(2.0)), b = generate_synthetic(small(2.0));
  EXPECT_EQ(a.dataset.train.item, b.dataset.train.item);
  EXPECT_EQ(a.intent_item.values, b.intent_item.values);
  SynthOptions other = small(2.0);
  other.seed = 7;
  EXPECT_NE(generate_synthetic(other).dataset.train.item, a.dataset.train.item);
  EXPECT_TRUE(a.dataset.warnings.empty());  // no duplicates, disjoint splits
  std::set<int64_t> users_with_train(a.dataset.train.user.begin(), a.dataset.train.user.end());
  EXPECT_EQ(static_cast<int64_t>(users_with_train.size()), 300);
  EXPECT_EQ(a.profile_user.rows, 300);
  EXPECT_EQ(a.profile_user.cols, 16);
  EXPECT_EQ(a.intent_item.rows, 200);
  EXPECT_EQ(a.intent_item.cols, 24);
  const double per_user = static_cast<double>(a.dataset.train.size() + a.dataset.valid.size() + a.dataset.test.size()) / 300;
  EXPECT_NEAR(per_user, 12.0, 1.0);
}

TEST(Synthetic, TextCarriesTheMixturesAsTheSnrSays) {
  const SyntheticData informative = generate_synthetic(small(3.0));
  const SyntheticData noise = generate_synthetic(small(0.0));
  EXPECT_NEAR(explained(informative.intent_item, informative.item_mixture), 0.75, 0.08);  // 3 / (1 + 3)
  EXPECT_LT(explained(noise.intent_item, noise.item_mixture), 0.06);  // only chance fit of 4 columns
}

TEST(Synthetic, InteractionsFollowAffinity) {
  // A user's held-out items are, on average, more affine to the user than random items are.
  const SyntheticData d = generate_synthetic(small(1.0));
  const int64_t K = 4;
  auto affinity = [&](int64_t u, int64_t i) {
    double s = 0;
    for (int64_t c = 0; c < K; ++c) s += d.user_mixture.values[u * K + c] * d.item_mixture.values[i * K + c];
    return s;
  };
  double held = 0, random = 0;
  for (size_t k = 0; k < d.dataset.test.size(); ++k) {
    held += affinity(d.dataset.test.user[k], d.dataset.test.item[k]);
    random += affinity(d.dataset.test.user[k], static_cast<int64_t>((k * 7919) % 200));
  }
  EXPECT_GT(held, 2 * random);
}

TEST(Synthetic, RejectsImpossibleSettings) {
  SynthOptions o = small(1.0);
  o.noise = 1.5;
  EXPECT_THROW(generate_synthetic(o), std::invalid_argument);
}

// dataset.format: synthetic reads its settings from YAML: the built-in defaults are the generator's
// own defaults (one source of truth for `recgrid synth` and `recgrid run`), and a typo is an error.
TEST(Synthetic, YamlSettingsMatchTheGeneratorAndRejectTypos) {
  const recgrid::config::RunConfig run = recgrid::config::to_run_config(recgrid::config::load_layers("", {}).root());
  EXPECT_EQ(run.dataset.format, "synthetic");
  EXPECT_EQ(run.dataset.synthetic, synth_options_to_json(SynthOptions{}));
  const SynthOptions o = synth_options_from_json({{"snr", 0.5}, {"users", 30}});
  EXPECT_EQ(o.snr, 0.5);
  EXPECT_EQ(o.users, 30);
  EXPECT_EQ(o.items, SynthOptions{}.items);
  try {
    synth_options_from_json({{"sn", 0.5}});
    ADD_FAILURE() << "a typo was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown setting 'sn'"), std::string::npos) << e.what();
  }
}

// The generator's settings are declared once (data/synthetic_settings.cpp): every setting is a
// dataset.synthetic host key with the same default, type and range, a field of SynthOptions whose
// default is that value, and a `recgrid synth` flag checked against the same range.
TEST(Synthetic, EverySettingIsOneHostKeyOneFieldAndOneFlag) {
  const SynthOptions defaults;
  const nlohmann::json as_json = synth_options_to_json(defaults);
  EXPECT_EQ(as_json.size(), synth_settings().size());
  size_t host_keys_seen = 0;
  for (const auto& k : recgrid::config::host_keys())
    if (std::string(k.key).rfind("dataset.synthetic.", 0) == 0) ++host_keys_seen;
  EXPECT_EQ(host_keys_seen, synth_settings().size());
  for (const SynthSetting& s : synth_settings()) {
    const std::string key = std::string("dataset.synthetic.") + s.name;
    const auto& keys = recgrid::config::host_keys();
    const auto k = std::find_if(keys.begin(), keys.end(), [&](const auto& h) { return key == h.key; });
    ASSERT_NE(k, keys.end()) << key;
    EXPECT_STREQ(k->default_yaml, s.default_yaml);
    EXPECT_STREQ(k->range, s.range);
    EXPECT_EQ(as_json.at(s.name).get<double>(), std::stod(s.default_yaml)) << s.name;
  }
  SynthOptions o;
  set_synth_setting(synth_settings()[0], "17", o);
  EXPECT_EQ(o.users, 17);
  EXPECT_THROW(set_synth_setting(synth_settings()[0], "1", o), std::invalid_argument);    // below [2, inf)
  EXPECT_THROW(set_synth_setting(synth_settings()[0], "2.5x", o), std::invalid_argument);  // not a number
  // The flag goes through the same check: --noise 2 is outside [0, 1], nothing is written.
  const std::string out = ::testing::TempDir() + "/synth-flag-range";
  const recgrid::test::CliResult r = recgrid::test::run_cli("synth --out " + out + " --noise 2");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("noise = 2: must be in [0, 1]"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out + "/train.tsv"));
}

namespace {

// Pearson's chi-square of observed counts against expected probabilities.
double chi_square(const std::vector<double>& counts, const std::vector<double>& p) {
  double total = 0, chi = 0;
  for (double c : counts) total += c;
  for (size_t k = 0; k < p.size(); ++k) chi += std::pow(counts[k] - total * p[k], 2) / (total * p[k]);
  return chi;
}

// A chi-square with `dof` degrees of freedom is below this with probability ~1 - 3e-7 (5 sigma).
double chi_square_bound(size_t dof) { return static_cast<double>(dof) + 5.0 * std::sqrt(2.0 * static_cast<double>(dof)); }

// A hand-made planted model: 3 users x 30 items x 3 intents.
struct SmallModel {
  FloatTable users{3, 3, {0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f, 0.34f, 0.33f, 0.33f}};
  FloatTable items{30, 3, {}};
  std::vector<double> log_pop;
  double sharpness = 2.0;
  SmallModel() {
    for (int i = 0; i < 30; ++i) {
      const float a = 0.1f + 0.8f * static_cast<float>(i % 5) / 4.0f, b = (1.0f - a) * static_cast<float>(i % 3) / 2.0f;
      items.values.insert(items.values.end(), {a, b, 1.0f - a - b + 0.01f});
      log_pop.push_back(-0.8 * std::log(1.0 + (i * 7) % 30));
    }
  }
  // P(i | u) = sum_c theta_uc q_c(i), q_c(i) ∝ phi_ic^s pop_i, written out here from the formula.
  std::vector<double> first_draw(int u) const {
    std::vector<double> p(30, 0.0);
    double theta_sum = 0;
    for (int c = 0; c < 3; ++c) theta_sum += users.values[u * 3 + c];
    for (int c = 0; c < 3; ++c) {
      std::vector<double> q(30);
      double z = 0;
      for (int i = 0; i < 30; ++i) z += q[i] = std::pow(items.values[i * 3 + c], sharpness) * std::exp(log_pop[i]);
      for (int i = 0; i < 30; ++i) p[i] += users.values[u * 3 + c] / theta_sum * q[i] / z;
    }
    return p;
  }
};

}  // namespace

TEST(Synthetic, AnAliasTableDrawsInProportionToItsWeights) {
  const std::vector<double> w = {1, 2, 3, 4, 0, 10};
  const AliasTable table(w);
  std::mt19937_64 rng(5);
  std::vector<double> counts(w.size(), 0.0);
  for (int k = 0; k < 200000; ++k) counts[table.draw(rng)] += 1;
  EXPECT_EQ(counts[4], 0.0) << "a zero weight is never drawn";
  std::vector<double> p, c;
  for (size_t k = 0; k < w.size(); ++k)
    if (w[k] > 0) p.push_back(w[k] / 20.0), c.push_back(counts[k]);
  EXPECT_LT(chi_square(c, p), chi_square_bound(p.size() - 1));
  EXPECT_THROW(AliasTable(std::vector<double>{0, 0}), std::invalid_argument);
}

// The alias sampler's first draw follows P(i | u) = sum_c theta_uc q_c(i), and its second draw the same
// distribution without the first item: P(second = j) = sum_i p_i p_j / (1 - p_i).
TEST(Synthetic, TheAliasSamplerDrawsFromThePlantedDistributionWithoutReplacement) {
  const SmallModel m;
  const PlantedSampler sampler(m.users, m.items, m.log_pop, m.sharpness);
  std::mt19937_64 rng(11);
  std::vector<char> taken(30, 0);
  for (int u = 0; u < 3; ++u) {
    SCOPED_TRACE("user " + std::to_string(u));
    const std::vector<double> p = m.first_draw(u);
    for (int i = 0; i < 30; ++i) EXPECT_NEAR(sampler.probability(u, i), p[i], 1e-9);
    std::vector<double> first(30, 0.0), second(30, 0.0);
    std::vector<int64_t> picked;
    for (int k = 0; k < 60000; ++k) {
      picked.clear();
      sampler.draw_items(u, 2, rng, taken, picked);
      ASSERT_EQ(picked.size(), 2u);
      ASSERT_NE(picked[0], picked[1]);
      first[picked[0]] += 1, second[picked[1]] += 1;
    }
    for (char t : taken) ASSERT_EQ(t, 0) << "taken is left cleared";
    std::vector<double> p2(30, 0.0);
    for (int i = 0; i < 30; ++i)
      for (int j = 0; j < 30; ++j)
        if (j != i) p2[j] += p[i] * p[j] / (1.0 - p[i]);
    EXPECT_LT(chi_square(first, p), chi_square_bound(29));
    EXPECT_LT(chi_square(second, p2), chi_square_bound(29));
    // Not the plain mixture of popularity alone: the check can tell distributions apart.
    std::vector<double> pop(30);
    double z = 0;
    for (int i = 0; i < 30; ++i) z += pop[i] = std::exp(m.log_pop[i]);
    for (double& v : pop) v /= z;
    EXPECT_GT(chi_square(first, pop), chi_square_bound(29));
  }
}

TEST(Synthetic, TheAliasSamplerIsSeededAndAutoPicksItBySize) {
  SynthOptions o = small(1.0);
  o.sampler = "alias";
  const SyntheticData a = generate_synthetic(o), b = generate_synthetic(o);
  EXPECT_EQ(a.dataset.train.item, b.dataset.train.item);
  EXPECT_EQ(a.dataset.test.item, b.dataset.test.item);
  o.seed += 1;
  EXPECT_NE(generate_synthetic(o).dataset.train.item, a.dataset.train.item);
  o.sampler = "exact";
  SynthOptions alias = o;
  alias.sampler = "alias";
  EXPECT_NE(generate_synthetic(o).dataset.train.item, generate_synthetic(alias).dataset.train.item);
  o.sampler = "auto";
  EXPECT_EQ(synth_sampler_used(o), "exact");
  o.users = 1'100'000, o.items = 933'200;
  EXPECT_EQ(synth_sampler_used(o), "alias");
  o.sampler = "gibbs";
  EXPECT_THROW(generate_synthetic(o), std::invalid_argument);
  // Every user has distinct items and at least 3 of them, as with the exact sampler.
  std::map<int64_t, std::set<int64_t>> items_of;
  size_t total = 0;
  for (const auto* split : {&a.dataset.train, &a.dataset.valid, &a.dataset.test})
    for (size_t k = 0; k < split->size(); ++k) items_of[split->user[k]].insert(split->item[k]), ++total;
  size_t distinct = 0;
  for (const auto& [u, s] : items_of) {
    distinct += s.size();
    EXPECT_GE(s.size(), 3u);
  }
  EXPECT_EQ(distinct, total);
  EXPECT_EQ(items_of.size(), 300u);
}
