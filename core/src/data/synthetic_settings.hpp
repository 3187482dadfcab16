// The planted generator's settings, declared once. From this one table come SynthOptions' defaults,
// the `dataset.synthetic.*` host keys (config/host_keys.cpp), their JSON form (settings.json, the
// resolved configuration), and the flags of `recgrid synth`: a setting added here appears in all four.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace recgrid::data {

struct SynthOptions;

struct SynthSetting {
  const char* name;          // key under dataset.synthetic; the flag is --name with '_' as '-'
  const char* type;          // host-key type: "int" or "float"
  const char* default_yaml;  // the default as written in configs/defaults.yaml
  const char* range;         // recgrid/option_range.hpp notation
  const char* help;          // one line
  std::variant<int64_t SynthOptions::*, double SynthOptions::*, uint64_t SynthOptions::*> field;
};

// Every setting, in the order configs/defaults.yaml prints them.
const std::vector<SynthSetting>& synth_settings();

// Stores a setting's value given as text (a flag's or a default's) in `into`; throws
// std::invalid_argument naming the setting when the text is not a number of its type or is out of range.
void set_synth_setting(const SynthSetting& setting, const std::string& text, SynthOptions& into);

}  // namespace recgrid::data
