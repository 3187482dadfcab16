// The planted-intent generator: determinism, well-formed splits, and text whose information follows snr.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "config/config.hpp"
#include "config/run_config.hpp"
#include "data/synthetic.hpp"

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
