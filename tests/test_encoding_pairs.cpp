// What base models give enhancers and what enhancers need (abi.h rg_tensor_spec): the declarations
// are true to what encode() returns, and every base model x enhancer pair is checked when a
// configuration or a grid is resolved, before anything trains.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"
#include "grid/cell_pairs.hpp"
#include "grid/fitted_cells.hpp"
#include "grid/grid_spec.hpp"
#include "plugin/encoding_pairs.hpp"
#include "plugin_support.hpp"

namespace fs = std::filesystem;
using namespace recgrid;

namespace {

const plugin::Registry& shipped_and_test_plugins() {
  static const plugin::Registry registry({test::binary_dir() + "/plugins", test::binary_dir() + "/test_plugins"});
  return registry;
}

// Every declared option at its default, then `overrides` (as a resolved configuration holds them).
nlohmann::json resolved_options(const plugin::LoadedPlugin& p, const nlohmann::json& overrides = {}) {
  return nlohmann::json::parse(test::options_json(p, overrides));
}

std::string gap(const std::string& base, const nlohmann::json& base_options, const std::string& enhancer,
                const nlohmann::json& enhancer_options) {
  const plugin::Registry& r = shipped_and_test_plugins();
  const plugin::LoadedPlugin& b = r.get(base, RG_KIND_BASE_MODEL);
  const plugin::LoadedPlugin& e = r.get(enhancer, RG_KIND_ENHANCER);
  return plugin::encoding_gap(b, resolved_options(b, base_options), e, resolved_options(e, enhancer_options), r);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The names a declaration stands for at the given option values ("layer.<l>" -> layer.0 .. layer.L).
std::vector<std::string> expanded(const rg_tensor_spec& g, const nlohmann::json& options) {
  const std::string name = g.name;
  const size_t at = name.find("<l>");
  if (at == std::string::npos) return {name};
  const int64_t last = g.layers ? options.at(g.layers).get<int64_t>() : 0;
  std::vector<std::string> names;
  for (int64_t l = g.first_layer; l <= last; ++l) names.push_back(name.substr(0, at) + std::to_string(l) + name.substr(at + 3));
  return names;
}

}  // namespace

TEST(PluginEncoding, ShippedBaseModelsGiveWhatTheyDeclare) {
  int checked = 0;
  for (const plugin::LoadedPlugin* p : shipped_and_test_plugins().plugins()) {
    if (!p->is_base_model()) continue;
    ASSERT_TRUE(p->declares_encoding()) << p->name();
    if (p->is_fitted()) {
      EXPECT_TRUE(p->gives().empty()) << p->name() << ": a fitted model gives enhancers nothing";
      continue;
    }
    for (int64_t layers : {1, 2}) {
      test::HostContext host(test::tiny_dataset());
      auto model = host.create_base(*p, {{"layers", layers}});
      const NamedTensors enc = model->encode(RG_MODE_TRAIN, nullptr);
      const NamedTensors params = model->parameters();
      const nlohmann::json options = resolved_options(*p, {{"layers", layers}});
      for (const rg_tensor_spec& g : p->gives()) {
        for (const std::string& name : expanded(g, options))
          EXPECT_TRUE(enc.contains(name)) << p->name() << " (layers " << layers << ") declares " << name;
        if (!g.parameter) continue;  // an output that is a parameter is that very tensor
        ASSERT_TRUE(params.contains(g.parameter)) << p->name() << ": " << g.name << " = " << g.parameter;
        EXPECT_TRUE(enc.at(g.name).is_same(params.at(g.parameter))) << p->name() << ": " << g.name;
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 5);  // LightGCN, SGL, SimGCL, DCCF, BIGCF
}

TEST(PluginEncoding, AMissingTensorNamesThePairTheTensorAndWhatToChange) {
  // encoding_probe reads "{view}user" (view1. by default) and layer.2 on: LightGCN has no views.
  const std::string msg = gap("lightgcn", {}, "encoding_probe", {});
  EXPECT_TRUE(contains(msg, "base model 'lightgcn' x enhancer 'encoding_probe'")) << msg;
  EXPECT_TRUE(contains(msg, "needs 'view1.user'")) << msg;
  EXPECT_TRUE(contains(msg, "base models that give it: sgl, simgcl")) << msg;
  EXPECT_TRUE(contains(msg, "enhancer.encoding_probe.view (now 'view1.')")) << msg;
  EXPECT_FALSE(contains(msg, "layer.<l>'")) << "LightGCN's 3 layers reach layer 2: " << msg;
  EXPECT_EQ(gap("sgl", {}, "encoding_probe", {}), "");
  EXPECT_EQ(gap("lightgcn", {}, "encoding_probe", {{"view", ""}}), "");  // "{view}user" = "user"
}

TEST(PluginEncoding, LayerPatternsAreMatchedAgainstTheConfiguredLayers) {
  EXPECT_EQ(gap("lightgcn", {{"layers", 2}}, "encoding_probe", {{"view", ""}}), "");
  const std::string msg = gap("lightgcn", {{"layers", 1}}, "encoding_probe", {{"view", ""}});
  EXPECT_TRUE(contains(msg, "needs 'layer.<l>' for l = 2..L")) << msg;
  EXPECT_TRUE(contains(msg, "layer.<l> (l = 0..1)")) << msg;
  EXPECT_TRUE(contains(msg, "set model.layers to 2 or more")) << msg;
  // IRLLRec builds R on E^1.. of the view it is told: SGL gives view2.layer.1..L, LightGCN none.
  EXPECT_EQ(gap("sgl", {}, "irllrec", {{"intent_view", "view2."}}), "");
  const std::string view = gap("lightgcn", {}, "irllrec", {{"intent_view", "view2."}});
  EXPECT_TRUE(contains(view, "needs 'view2.layer.<l>' for l = 1..L")) << view;
  EXPECT_TRUE(contains(view, "enhancer.irllrec.intent_view (now 'view2.')")) << view;
}

TEST(PluginEncoding, APluginBuiltBeforeTheDeclarationsPairsUnchecked) {
  // Its descriptor ends before `gives` / `needs` (and holds a nameless need beyond its size, unread).
  const plugin::Registry& r = shipped_and_test_plugins();
  EXPECT_FALSE(r.get("older_descriptor", RG_KIND_ENHANCER).declares_encoding());
  EXPECT_TRUE(r.get("older_descriptor", RG_KIND_ENHANCER).needs().empty());
  EXPECT_EQ(gap("lightgcn", {}, "older_descriptor", {}), "");
}

TEST(PluginEncoding, TheLoaderRefusesAnEncodingDeclaredWrongly) {
  try {
    plugin::load_plugin(test::bad_plugin_path("misdeclared_encoding_enhancer"));
    FAIL() << "loaded";
  } catch (const plugin::PluginError& e) {
    EXPECT_TRUE(contains(e.what(), "names {no_such_option}, which is not a string option of the plugin")) << e.what();
  }
}

TEST(PluginEncoding, AGridWithAMismatchedPairFailsBeforeAnyCellStarts) {
  const std::string dir = ::testing::TempDir() + "/encoding_pairs";
  fs::create_directories(dir + "/enhancers");
  std::ofstream(dir + "/enhancers/encoding_probe.yaml") << "enhancers: [encoding_probe]\n";  // the preset the axis names
  const std::string file = dir + "/grid.yaml";
  std::ofstream(file) << "grid:\n  name: pairs\n  datasets: [planted]\n  models: [lightgcn, sgl]\n"
                         "  enhancers: [none, encoding_probe]\n  seeds: [1, 2]\n"
                         "dataset:\n  synthetic: {users: 60, items: 50, interactions_per_user: 5}\ntrain: {epochs: 1}\n";
  grid::GridSpec spec = grid::load_grid(file, {});
  try {
    grid::check_cell_pairs(spec, shipped_and_test_plugins());
    FAIL() << "the grid resolved";
  } catch (const config::ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(contains(msg, "cell planted-lightgcn-encoding_probe-s1: base model 'lightgcn' x enhancer 'encoding_probe'")) << msg;
    EXPECT_TRUE(contains(msg, "needs 'view1.user'")) << msg;
    EXPECT_FALSE(contains(msg, "-s2:")) << "a pair's message once, not once per seed: " << msg;
    EXPECT_FALSE(contains(msg, "base model 'sgl'")) << msg;
  }
  // Through `recgrid run`: refused before a cell folder is made.
  const std::string out = ::testing::TempDir() + "/encoding_pairs_out";
  fs::remove_all(out);
  const test::CliResult r =
      test::run_cli("run " + file + " --out " + out + " --plugin-dir " + test::binary_dir() + "/test_plugins --no-progress");
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "base model 'lightgcn' x enhancer 'encoding_probe'")) << r.output;
  EXPECT_FALSE(fs::exists(out + "/cells")) << r.output;
}

TEST(PluginEncoding, EveryPairOfTheShippedGridsAndExperimentsPasses) {
  const plugin::Registry registry({test::binary_dir() + "/plugins"});
  int grids = 0, experiments = 0;
  for (const auto& e : fs::directory_iterator(test::source_dir() + "/configs/grids")) {
    if (e.path().extension() != ".yaml") continue;
    grid::GridSpec spec = grid::load_grid(e.path().string(), {});
    grid::drop_fitted_with_enhancers(spec, registry);
    EXPECT_NO_THROW(grid::check_cell_pairs(spec, registry)) << e.path();
    ++grids;
  }
  for (const auto& e : fs::directory_iterator(test::source_dir() + "/configs/experiments")) {
    if (e.path().extension() != ".yaml") continue;
    config::Config cfg = config::load_layers(e.path().string(), {});
    const config::RunConfig run = config::resolve(cfg, registry.schema_lookup()).run;
    EXPECT_NO_THROW(plugin::check_encoding_pairs(run, registry)) << e.path();
    ++experiments;
  }
  EXPECT_GE(grids, 2);
  EXPECT_GE(experiments, 10);
}

TEST(PluginEncoding, EveryShippedBaseModelServesEveryShippedEnhancerAtItsDefaults) {
  const plugin::Registry registry({test::binary_dir() + "/plugins"});
  int pairs = 0;
  for (const plugin::LoadedPlugin* b : registry.plugins()) {
    if (!b->is_base_model() || b->is_fitted()) continue;
    for (const plugin::LoadedPlugin* e : registry.plugins()) {
      if (e->is_base_model()) continue;
      EXPECT_EQ(plugin::encoding_gap(*b, resolved_options(*b), *e, resolved_options(*e), registry), "");
      ++pairs;
    }
  }
  EXPECT_EQ(pairs, 25);
}
