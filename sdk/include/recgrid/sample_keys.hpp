// The sample size of a term that grows faster than the graph (IRLLRec's translation_keys, SGL's and
// SimGCL's contrast_keys, RLMRec-Gen's seed_keys): 0 = exact (every key), k >= 2 = a uniform sample of
// k keys per step, or `auto` (their default): exact on a graph of at most kAutoExactNodes nodes (users
// + items), a sample of kAutoSampleKeys keys above. An option field of this type is declared with
// the range kSampleKeysRange; its type is "int" (the range lists the word `auto`). The host logs what
// `auto` became (core/src/train/auto_options.cpp).
//
// The node count, from measurements (docs/PERFORMANCE.md, "auto sample sizes"): the paper's data
// sets (20,000-29,000 nodes) stay exact, as the authors' code computes them; above 32,768 nodes the
// exact terms cost several times the sampled ones a step, and 4,096 sampled keys were within noise of
// the exact terms on planted data (each plugin's README, "Large graphs").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace recgrid {

inline constexpr int64_t kAutoExactNodes = 32768;
inline constexpr int64_t kAutoSampleKeys = 4096;
inline constexpr const char* kSampleKeysRange = "{auto} | {0} | [2, inf)";

struct SampleKeys {
  bool automatic = true;
  int64_t keys = 0;  // when not automatic: 0 exact, k >= 2 a sample of k

  SampleKeys() = default;
  SampleKeys(const char* word) {  // NOLINT: declare() spells the default "auto"
    if (std::string(word) != "auto") throw std::invalid_argument(std::string("a sample size is a count or auto, not ") + word);
  }
  SampleKeys(int64_t k) : automatic(false), keys(k) {}  // NOLINT

  // The keys per step on a graph of n_nodes nodes: 0 (exact) or the sample size.
  int64_t resolve(int64_t n_nodes) const {
    if (!automatic) return keys;
    return n_nodes <= kAutoExactNodes ? 0 : kAutoSampleKeys;
  }
};

inline void to_json(nlohmann::json& j, const SampleKeys& s) {
  if (s.automatic)
    j = "auto";
  else
    j = s.keys;
}

inline void from_json(const nlohmann::json& j, SampleKeys& s) {
  if (j.is_string() && j.get<std::string>() == "auto") {
    s = SampleKeys();
    return;
  }
  if (!j.is_number_integer()) throw std::invalid_argument("a sample size is a count or auto, found " + j.dump());
  s = SampleKeys(j.get<int64_t>());
}

}  // namespace recgrid
