// A planted-intent dataset: users and items are mixtures over K latent intents, interactions follow
// intent affinity, item popularity and uniform noise, and every "text" table (profile, intent) is a
// noisy projection of the latent mixtures with a chosen signal-to-noise ratio (0 = pure noise).
// Seeded and deterministic; written in the formats real data uses (TSV splits, .npy tables).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "data/dataset.hpp"
#include "data/ndarray.hpp"

namespace recgrid::data {

// The generator's settings. Their defaults, ranges and help are declared once, in
// data/synthetic_settings.cpp: the constructor fills every field from that table.
struct SynthOptions {
  SynthOptions();
  int64_t users, items;
  int64_t intents;                // K latent intents
  double interactions_per_user;   // mean (at least 3 per user)
  double concentration;           // Dirichlet parameter of the mixtures (small = few intents each)
  double sharpness;               // affinity exponent: P(i | u) ∝ (θ_u · φ_i)^sharpness · pop_i
  double popularity;              // Zipf exponent of item popularity (0 = uniform)
  double noise;                   // share of interactions drawn uniformly at random
  double snr;                     // signal-to-noise (variance) ratio of the text tables; 0 = noise
  int64_t profile_dim;            // width of profile_user / profile_item
  int64_t intent_dim;             // width of intent_user / intent_item
  double valid_share, test_share;
  uint64_t seed;
  // How interactions are drawn. exact: per user, a draw without replacement from
  // P(i | u) ∝ (θ_u · φ_i)^sharpness · pop_i over all items (O(users · items · K)); every planted
  // result recorded in docs/ used it. alias: intent c ~ θ_u, then item ~ q_c(i) ∝ φ_ic^sharpness · pop_i
  // (data/planted_sampler.hpp; O(users · K + items · K + interactions)). auto: exact up to
  // users x items = kExactSamplerLimit, alias above. Not a YAML key (a new key would rename every
  // grid cell): dataset.synthetic always uses auto; `recgrid synth --sampler` chooses.
  std::string sampler = "auto";
};

inline constexpr double kExactSamplerLimit = 1e9;  // users x items; 3000 x 3000 planted data: 9e6

// The sampler `generate_synthetic` uses for these options ("exact" or "alias").
std::string synth_sampler_used(const SynthOptions& options);

struct SyntheticData {
  Dataset dataset;
  FloatTable user_mixture, item_mixture;     // the planted truth [M x K], [N x K]
  FloatTable profile_user, profile_item;     // text tables
  FloatTable intent_user, intent_item;
};

SyntheticData generate_synthetic(const SynthOptions& options);

// The options as {name: value} (the keys of dataset.synthetic in YAML), and back; unknown keys are
// an error naming the valid ones.
nlohmann::json synth_options_to_json(const SynthOptions& options);
SynthOptions synth_options_from_json(const nlohmann::json& values);

// Writes train.tsv, valid.tsv, test.tsv, the four tables as .npy and settings.json into `dir`.
void write_synthetic(const SyntheticData& data, const SynthOptions& options, const std::string& dir);

}  // namespace recgrid::data
