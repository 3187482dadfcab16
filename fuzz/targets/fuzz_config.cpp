// The configuration layering: the input is an experiment file (lines starting "--set " are taken
// as --set assignments instead), loaded over the built-in defaults, validated against a plugin
// schema with ranges, and turned into a RunConfig. Run from the repository root so that
// extends: {dataset: amazon, model: sgl, enhancers: irllrec} finds configs/. Seeds: configs/.
#include <sstream>

#include "config/config.hpp"
#include "config/run_config.hpp"
#include "fuzz_support.hpp"

namespace {

std::vector<rg_option_spec> schema(const std::string& name, rg_plugin_kind kind) {
  if (kind == RG_KIND_BASE_MODEL && (name == "lightgcn" || name == "sgl"))
    return {{"layers", "int", "3", "layers", "[1, inf)"},
            {"embedding_size", "int", "32", "width", "[1, inf)"},
            {"keep_rate", "float", "0.8", "keep", "(0, 1]"},
            {"layer_combination", "string", "\"sum\"", "combination", "{sum, mean}"}};
  if (kind == RG_KIND_ENHANCER && name == "irllrec")
    return {{"pair_weight", "float", "0.02", "weight", "[0, inf)"}, {"intent_view", "string", "\"\"", "view", nullptr}};
  throw std::invalid_argument("no plugin named '" + name + "'");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recgrid;
  std::string file, line;
  std::vector<std::string> sets;
  std::istringstream in(fuzz::as_text(data, size));
  while (std::getline(in, line)) {
    if (line.rfind("--set ", 0) == 0) sets.push_back(line.substr(6));
    else file += line + "\n";
  }
  const std::string path = fuzz::write_scratch("experiment.yaml", reinterpret_cast<const uint8_t*>(file.data()), file.size());
  fuzz::expect_clean([&] {
    config::Config cfg = config::load_layers(path, sets);
    const YAML::Node resolved = config::validate(cfg, schema);
    config::to_run_config(resolved, [&](const std::string& key) { return cfg.origin(key).str(); });
    config::to_json(resolved);
  });
  return 0;
}
