#include "data/synthetic_settings.hpp"

#include <recgrid/option_range.hpp>

#include <stdexcept>

#include "data/synthetic.hpp"

namespace recgrid::data {

// function-lengths: a table
const std::vector<SynthSetting>& synth_settings() {
  using O = SynthOptions;
  static const std::vector<SynthSetting> settings = {
      {"users", "int", "3000", "[2, inf)", "users", &O::users},
      {"items", "int", "3000", "[10, inf)", "items", &O::items},
      {"intents", "int", "24", "[1, inf)", "latent intents K", &O::intents},
      {"interactions_per_user", "float", "6", "[3, inf)",
       "mean (at least 3; one goes to valid, one to test): sparse, so text matters", &O::interactions_per_user},
      {"concentration", "float", "0.1", "(0, inf)", "Dirichlet parameter of the mixtures (small = few intents each)",
       &O::concentration},
      {"sharpness", "float", "4.0", "[0, inf)", "P(i | u) ∝ (θ_u · φ_i)^sharpness · popularity_i", &O::sharpness},
      {"popularity", "float", "0.8", "[0, inf)", "Zipf exponent of item popularity", &O::popularity},
      {"noise", "float", "0.1", "[0, 1]", "share of uniformly random interactions", &O::noise},
      {"snr", "float", "2.0", "[0, inf)", "signal-to-noise variance ratio of the text tables (0 = pure noise)", &O::snr},
      {"profile_dim", "int", "64", "[1, inf)", "width of profile_user / profile_item", &O::profile_dim},
      {"intent_dim", "int", "128", "[1, inf)", "width of intent_user / intent_item", &O::intent_dim},
      {"valid_share", "float", "0.1", "[0, 1)", "share of each user's items held out for validation", &O::valid_share},
      {"test_share", "float", "0.1", "[0, 1)", "share of each user's items held out for test", &O::test_share},
      {"seed", "int", "2023", "[0, inf)", "the dataset's seed (train.seed is the model's)", &O::seed},
  };
  return settings;
}

namespace {

// The whole text as a number of type T, or nothing (trailing characters, overflow, a sign on unsigned).
template <typename T>
bool parse_number(const std::string& text, T& out) {
  size_t used = 0;
  try {
    if constexpr (std::is_same_v<T, double>) {
      out = std::stod(text, &used);
    } else if constexpr (std::is_same_v<T, uint64_t>) {
      if (text.find('-') != std::string::npos) return false;
      out = std::stoull(text, &used);
    } else {
      out = std::stoll(text, &used);
    }
  } catch (const std::exception&) {
    return false;
  }
  return used == text.size() && !text.empty();
}

}  // namespace

void set_synth_setting(const SynthSetting& s, const std::string& text, SynthOptions& into) {
  const std::string why = OptionRange::parse(s.range).check(text);
  if (!why.empty()) throw std::invalid_argument(std::string("synthetic setting ") + s.name + " = " + text + ": " + why);
  std::visit(
      [&](auto member) {
        if (!parse_number(text, into.*member))
          throw std::invalid_argument(std::string("synthetic setting ") + s.name + " = '" + text + "': not " +
                                      (std::string(s.type) == "int" ? "a whole number" : "a number"));
      },
      s.field);
}

SynthOptions::SynthOptions() {
  for (const SynthSetting& s : synth_settings()) set_synth_setting(s, s.default_yaml, *this);
}

}  // namespace recgrid::data
