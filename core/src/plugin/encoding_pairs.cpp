#include "plugin/encoding_pairs.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace recgrid::plugin {

namespace {

constexpr const char* kLayer = "<l>";

// One declared tensor resolved against the plugin's options: a name, or a per-layer family
// "prefix<l>suffix" holding l = first .. last (none when last < first).
struct EncodingName {
  std::string name;
  bool family = false;
  int64_t first = 0, last = 0;
  std::string layers_option;  // a base model's family: the option holding `last`
  std::string prefix() const { return name.substr(0, name.find(kLayer)); }
  std::string suffix() const { return name.substr(name.find(kLayer) + 3); }
};

// The layer l that `concrete` is in `family` ("layer.2" in "layer.<l>": 2), or -1.
int64_t layer_in(const EncodingName& family, const std::string& concrete) {
  const std::string pre = family.prefix(), suf = family.suffix();
  if (concrete.size() <= pre.size() + suf.size() || concrete.compare(0, pre.size(), pre) != 0 ||
      concrete.compare(concrete.size() - suf.size(), suf.size(), suf) != 0)
    return -1;
  const std::string digits = concrete.substr(pre.size(), concrete.size() - pre.size() - suf.size());
  if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(digits);
}

// What the base model gives with its resolved options: each family up to its configured L (the
// value of its layers option; layer 0 only when it names none).
std::vector<EncodingName> given_names(const LoadedPlugin& base, const nlohmann::json& options) {
  std::vector<EncodingName> given;
  for (const rg_tensor_spec& g : base.gives()) {
    EncodingName n;
    n.name = g.name;
    n.family = n.name.find(kLayer) != std::string::npos;
    if (n.family) {
      n.first = g.first_layer;
      n.layers_option = g.layers ? g.layers : "";
      const auto it = g.layers ? options.find(g.layers) : options.end();
      n.last = it != options.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
    }
    given.push_back(std::move(n));
  }
  return given;
}

// A need's name with each "{option}" replaced by the enhancer's value of that option.
std::string with_option_values(std::string name, const nlohmann::json& options) {
  for (size_t open = name.find('{'); open != std::string::npos; open = name.find('{', open)) {
    const size_t close = name.find('}', open);
    if (close == std::string::npos) break;
    const auto it = options.find(name.substr(open + 1, close - open - 1));
    const std::string value = it != options.end() && it->is_string() ? it->get<std::string>() : "";
    name.replace(open, close - open + 1, value);
    open += value.size();
  }
  return name;
}

EncodingName needed_name(const rg_tensor_spec& need, const nlohmann::json& options) {
  EncodingName n;
  n.name = with_option_values(need.name, options);
  n.family = n.name.find(kLayer) != std::string::npos;
  n.first = need.first_layer;
  return n;
}

// Same name, and for a family: the given one starts at or before the need and reaches its first layer.
bool meets(const EncodingName& given, const EncodingName& need) {
  if (need.family) return given.family && given.name == need.name && given.first <= need.first && given.last >= need.first;
  if (!given.family) return given.name == need.name;
  const int64_t l = layer_in(given, need.name);
  return l >= given.first && l <= given.last;
}

bool is_met(const EncodingName& need, const std::vector<EncodingName>& given) {
  for (const EncodingName& g : given)
    if (meets(g, need)) return true;
  return false;
}

std::string shown(const EncodingName& n) {
  if (!n.family) return n.name;
  if (n.last < n.first) return n.name + " (no layer: L = " + std::to_string(n.last) + ")";
  return n.name + " (l = " + std::to_string(n.first) + ".." + std::to_string(n.last) + ")";
}

std::string shown(const std::vector<EncodingName>& names) {
  std::string s;
  for (const EncodingName& n : names) s += (s.empty() ? "" : ", ") + shown(n);
  return s.empty() ? "nothing declared (its PluginSpec::gives is empty)" : s;
}

// The base models of the registry whose declaration holds the need at some layer count.
std::string bases_giving(const EncodingName& need, const Registry& registry) {
  std::string names;
  for (const LoadedPlugin* p : registry.plugins()) {
    if (!p->is_base_model() || p->is_fitted()) continue;
    for (EncodingName g : given_names(*p, nlohmann::json::object())) {
      g.last = std::max<int64_t>(g.first, need.first) + 1;  // any layer count: the name is what matters here
      if (!meets(g, need)) continue;
      names += (names.empty() ? "" : ", ") + p->name();
      break;
    }
  }
  return names;
}

// What to change so the pair meets `need`: more layers, another base model, or the enhancer's option.
std::string what_to_change(const EncodingName& need, const rg_tensor_spec& declared, const std::vector<EncodingName>& given,
                           const std::string& enhancer, const nlohmann::json& enhancer_options, const Registry& registry) {
  for (const EncodingName& g : given)
    if (need.family && g.family && g.name == need.name && g.first <= need.first && !g.layers_option.empty())
      return "set model." + g.layers_option + " to " + std::to_string(need.first) + " or more";
  const std::string others = bases_giving(need, registry);
  std::string change = others.empty() ? "no installed base model gives it" : "base models that give it: " + others;
  const std::string written = declared.name;  // as declared: "{intent_view}layer.<l>"
  const size_t open = written.find('{'), close = written.find('}');
  if (open == std::string::npos || close == std::string::npos) return change;
  const std::string option = written.substr(open + 1, close - open - 1);
  const auto it = enhancer_options.find(option);
  return change + "; or change enhancer." + enhancer + "." + option + " (now '" +
         (it != enhancer_options.end() && it->is_string() ? it->get<std::string>() : "") + "')";
}

}  // namespace

std::string encoding_gap(const LoadedPlugin& base, const nlohmann::json& base_options, const LoadedPlugin& enhancer,
                         const nlohmann::json& enhancer_options, const Registry& registry) {
  if (!base.declares_encoding() || !enhancer.declares_encoding()) return "";
  const std::vector<EncodingName> given = given_names(base, base_options);
  std::string gaps;
  for (const rg_tensor_spec& declared : enhancer.needs()) {
    const EncodingName need = needed_name(declared, enhancer_options);
    if (is_met(need, given)) continue;
    const std::string from = need.family ? " for l = " + std::to_string(need.first) + "..L, L >= " + std::to_string(need.first) : "";
    gaps += std::string(gaps.empty() ? "" : "\n") + "base model '" + base.name() + "' x enhancer '" + enhancer.name() +
            "': " + enhancer.name() + " needs '" + need.name + "'" + from + " from the base model's training encoding, which " +
            base.name() + " does not give (it gives " + shown(given) + "). To change: " +
            what_to_change(need, declared, given, enhancer.name(), enhancer_options, registry);
  }
  return gaps;
}

void check_encoding_pairs(const config::RunConfig& config, const Registry& registry, const std::string& where) {
  const LoadedPlugin& base = registry.get(config.model.name, RG_KIND_BASE_MODEL);
  if (base.is_fitted()) return;  // takes no enhancer at all (train::check_fitted_pairing)
  for (const config::PluginChoice& e : config.enhancers) {
    const std::string gap =
        encoding_gap(base, config.model.options, registry.get(e.name, RG_KIND_ENHANCER), e.options, registry);
    if (!gap.empty()) throw config::ConfigError(where + gap);
  }
}

}  // namespace recgrid::plugin
