#include "train/auto_options.hpp"

#include "recgrid/sample_keys.hpp"

namespace recgrid::train {

namespace {

// The lines for one plugin: its options declared as sample sizes whose resolved value is `auto`.
void add_lines(std::vector<std::string>& lines, const std::string& prefix, const nlohmann::json& values,
               const std::vector<rg_option_spec>& specs, int64_t n_nodes) {
  for (const rg_option_spec& s : specs) {
    if (!s.range || std::string(s.range) != kSampleKeysRange) continue;
    const auto it = values.find(s.name);
    if (it == values.end() || !it->is_string() || it->get<std::string>() != "auto") continue;
    const int64_t keys = SampleKeys().resolve(n_nodes);
    const std::string size = " (the graph has " + std::to_string(n_nodes) + " nodes, " +
                             (keys == 0 ? "at most " : "more than ") + std::to_string(kAutoExactNodes) + ")";
    lines.push_back(prefix + s.name + ": auto -> " +
                    (keys == 0 ? "exact" : "a sample of " + std::to_string(keys) + " keys per step") + size);
  }
}

}  // namespace

std::vector<std::string> auto_sample_key_lines(const config::RunConfig& config, const plugin::Registry& registry,
                                               int64_t n_nodes) {
  std::vector<std::string> lines;
  add_lines(lines, "model.", config.model.options, registry.options_of(config.model.name, RG_KIND_BASE_MODEL), n_nodes);
  for (const config::PluginChoice& e : config.enhancers)
    add_lines(lines, "enhancer." + e.name + ".", e.options, registry.options_of(e.name, RG_KIND_ENHANCER), n_nodes);
  return lines;
}

}  // namespace recgrid::train
