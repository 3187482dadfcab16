// Configuration layering, validation messages and defaults (no plugins loaded: a fake schema).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "config/config.hpp"
#include "config/host_keys.hpp"
#include "recgrid/option_range.hpp"
#include "config/run_config.hpp"
#include "test_support.hpp"

using namespace recgrid::config;
namespace fs = std::filesystem;

namespace {

// A configs/ tree in a temp folder.
struct ConfigTree {
  fs::path root;
  ConfigTree() {
    // One folder per test: ctest runs tests as parallel processes.
    root = fs::path(::testing::TempDir()) / ("cfgtree_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root);
    fs::create_directories(root / "datasets");
    fs::create_directories(root / "models");
    fs::create_directories(root / "experiments");
    write("datasets/toy.yaml", "dataset:\n  name: toy\n  path: toy_dir\n  format: tsv\ntrain:\n  epochs: 11\n");
    write("models/fake.yaml",
          "model:\n  name: fake\n  depth: 2\ntrain:\n  epochs: 12\n  lr: 0.5\nfor_dataset:\n  toy:\n    model:\n      depth: 4\n");
  }
  std::string write(const std::string& rel, const std::string& text) const {
    std::ofstream(root / rel) << text;
    return (root / rel).string();
  }
};

std::vector<rg_option_spec> fake_schema(const std::string& name, rg_plugin_kind kind) {
  static const std::vector<rg_option_spec> model = {{"depth", "int", "1", ""}, {"rate", "float", "0.25", ""}};
  static const std::vector<rg_option_spec> enh = {{"weight", "float", "0.01", ""}, {"mode", "string", "\"on\"", ""}};
  if (kind == RG_KIND_BASE_MODEL && (name == "fake" || name == "lightgcn")) return model;
  if (kind == RG_KIND_ENHANCER && name == "boost") return enh;
  throw std::runtime_error("no plugin named '" + name + "'");
}

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Config, LayersInOrder) {
  ConfigTree t;
  const std::string exp =
      t.write("experiments/e.yaml", "extends:\n  dataset: toy\n  model: fake\ntrain:\n  epochs: 13\n");
  Config c = load_layers(exp, {"train.lr=0.125"});
  const YAML::Node r = validate(c, fake_schema);
  EXPECT_EQ(r["train"]["epochs"].as<int>(), 13);         // experiment > model > dataset
  EXPECT_EQ(r["train"]["lr"].as<double>(), 0.125);       // --set > model file
  EXPECT_EQ(r["model"]["depth"].as<int>(), 4);           // model file's for_dataset block
  EXPECT_EQ(r["model"]["rate"].as<double>(), 0.25);      // plugin default filled in
  EXPECT_EQ(r["train"]["batch_size"].as<int>(), 4096);   // built-in default
  EXPECT_EQ(c.origin("train.epochs").file, exp);
  EXPECT_EQ(c.origin("train.epochs").line, 5);
  EXPECT_EQ(c.origin("train.lr").file, "--set train.lr");
  const RunConfig run = to_run_config(r);
  EXPECT_EQ(run.model.options["depth"], 4);
  EXPECT_EQ(run.dataset.format, "tsv");
  EXPECT_EQ(fs::path(run.dataset.path).filename(), "toy_dir");
}

// A copy is a value of its own (YAML::Node copies share their tree).
TEST(Config, ACopyChangesWithoutChangingItsOriginal) {
  Config original;
  original.set("train.seed=7");
  Config copy = original;
  copy.set("train.seed=1");
  copy.set("train.epochs=60");
  EXPECT_EQ(original.root()["train"]["seed"].as<int>(), 7);
  EXPECT_EQ(original.root()["train"]["epochs"].as<int>(), 3000);
  Config assigned;
  assigned = original;
  assigned.set("train.seed=2");
  EXPECT_EQ(original.root()["train"]["seed"].as<int>(), 7);
  EXPECT_EQ(copy.root()["train"]["seed"].as<int>(), 1);
  EXPECT_EQ(assigned.root()["train"]["epochs"].as<int>(), 3000);
}

TEST(Config, UnknownKeyNamesFileLineAndClosestKey) {
  ConfigTree t;
  const std::string exp = t.write("experiments/typo.yaml", "model:\n  name: fake\ntrain:\n  lr_rate: 0.1\n");
  Config c = load_layers(exp, {});
  const std::string msg = config_error([&] { validate(c, fake_schema); });
  EXPECT_NE(msg.find(exp + ":4: unknown key 'train.lr_rate'; did you mean 'train.lr'?"), std::string::npos) << msg;
}

TEST(Config, UnknownPluginOptionSuggestsTheOption) {
  Config c = load_layers("", {"model.name=fake", "model.dept=3"});
  const std::string msg = config_error([&] { validate(c, fake_schema); });
  EXPECT_NE(msg.find("unknown key 'model.dept'; did you mean 'model.depth'?"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--set model.dept"), std::string::npos) << msg;
}

TEST(Config, WrongTypeIsAnError) {
  ConfigTree t;
  const std::string exp = t.write("experiments/type.yaml", "model:\n  name: fake\n  depth: deep\n");
  Config c = load_layers(exp, {});
  const std::string msg = config_error([&] { validate(c, fake_schema); });
  EXPECT_NE(msg.find(exp + ":3: 'model.depth' expects int, found 'deep'"), std::string::npos) << msg;
  Config c2 = load_layers("", {"model.name=fake", "train.topk=[5, x]"});
  EXPECT_NE(config_error([&] { validate(c2, fake_schema); }).find("'train.topk' expects int_list"), std::string::npos);
}

TEST(Config, EnhancerOptionsValidatedAndDefaulted) {
  Config c = load_layers("", {"model.name=fake", "enhancers=[boost]", "enhancer.boost.weight=2"});
  const YAML::Node r = validate(c, fake_schema);
  EXPECT_EQ(r["enhancer"]["boost"]["weight"].as<double>(), 2.0);
  EXPECT_EQ(r["enhancer"]["boost"]["mode"].as<std::string>(), "on");
  Config bad = load_layers("", {"model.name=fake", "enhancers=[boost]", "enhancer.other.weight=1"});
  EXPECT_NE(config_error([&] { validate(bad, fake_schema); }).find("not listed in 'enhancers'"), std::string::npos);
  Config missing = load_layers("", {"model.name=fake", "enhancers=[nope]"});
  EXPECT_NE(config_error([&] { validate(missing, fake_schema); }).find("no plugin named 'nope'"), std::string::npos);
}

TEST(Config, BadYamlAndMissingFiles) {
  ConfigTree t;
  const std::string exp = t.write("experiments/broken.yaml", "train: [1, 2\n");
  EXPECT_NE(config_error([&] { load_layers(exp, {}); }).find(exp + ":2"), std::string::npos);
  const std::string ext = t.write("experiments/ext.yaml", "extends:\n  dataset: nosuch\n");
  EXPECT_NE(config_error([&] { load_layers(ext, {}); }).find("no dataset config named 'nosuch'"), std::string::npos);
  EXPECT_NE(config_error([&] { load_layers("", {"novalue"}); }).find("expected KEY=VALUE"), std::string::npos);
}

TEST(Config, EditDistance) {
  EXPECT_EQ(edit_distance("lr_rate", "lr"), 5u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

// Enhancer presets: parents first, then the preset, its for_model.<model> block, and that block's
// for_dataset.<dataset> block; the experiment and --set still win. Checked on the shipped presets.
TEST(Config, EnhancerPresetsLayerByModelAndDataset) {
  ConfigTree t;
  const std::string configs = std::string(RECGRID_SOURCE_DIR) + "/configs";
  const std::string exp = t.write("experiments/p.yaml", "extends:\n  dataset: " + configs + "/datasets/amazon.yaml\n  model: " +
                                                            configs + "/models/sgl.yaml\n  enhancers: " + configs +
                                                            "/enhancers/irllrec-ref.yaml\n");
  Config c = load_layers(exp, {"enhancer.irllrec.chunk=512"});
  const YAML::Node r = c.root();
  EXPECT_EQ(r["enhancers"][0].as<std::string>(), "rlmrec_con");
  EXPECT_EQ(r["enhancers"][1].as<std::string>(), "irllrec");
  const YAML::Node irl = r["enhancer"]["irllrec"], con = r["enhancer"]["rlmrec_con"];
  EXPECT_EQ(irl["intent_view"].as<std::string>(), "view2.");               // irllrec-ref for_model.sgl
  EXPECT_EQ(irl["intent_propagation"].as<std::string>(), "embeddings");    // irllrec-ref top level over irllrec's
  EXPECT_EQ(irl["pair_weight"].as<double>(), 1.0e-3);                      // irllrec for_model.sgl.for_dataset.amazon
  EXPECT_EQ(irl["translation_weight"].as<double>(), 0.0);                  // REF: no translation on SGL
  EXPECT_EQ(irl["chunk"].as<int>(), 512);                                  // --set
  EXPECT_EQ(con["kd_temperature"].as<double>(), 0.5);                      // rlmrec_con for_model.sgl.for_dataset.amazon
  EXPECT_EQ(r["model"]["cl_weight"].as<double>(), 0.1);
  EXPECT_EQ(r["train"]["reg_weight"].as<double>(), 1.0e-5);
  EXPECT_NE(c.origin("enhancer.irllrec.pair_weight").file.find("irllrec.yaml"), std::string::npos);

  const std::string bad = t.write("experiments/bad.yaml", "extends:\n  enhancer: irllrec\n");
  const std::string msg = config_error([&] { load_layers(bad, {}); });
  EXPECT_NE(msg.find("unknown key 'extends.enhancer'; did you mean 'extends.enhancers'?"), std::string::npos) << msg;
}

// --set extends.KEY chooses the presets from the command line: one experiment file, every stack.
TEST(Config, PresetsCanBeChosenFromTheCommandLine) {
  ConfigTree t;
  fs::create_directories(t.root / "enhancers");
  t.write("enhancers/boost.yaml", "enhancers: [boost]\nenhancer:\n  boost:\n    weight: 0.5\n");
  t.write("enhancers/boost-strong.yaml", "extends: boost\nenhancer:\n  boost:\n    weight: 2.0\n");
  const std::string exp = t.write("experiments/e.yaml", "extends:\n  dataset: toy\n  model: fake\n  enhancers: boost\n");
  EXPECT_EQ(load_layers(exp, {}).root()["enhancer"]["boost"]["weight"].as<double>(), 0.5);
  // Another preset than the file names; then none at all.
  Config strong = load_layers(exp, {"extends.enhancers=boost-strong"});
  EXPECT_EQ(strong.root()["enhancer"]["boost"]["weight"].as<double>(), 2.0);
  EXPECT_EQ(strong.root()["model"]["depth"].as<int>(), 4);  // the file's dataset and model stay
  Config none = load_layers(exp, {"extends.enhancers=none"});
  EXPECT_EQ(none.root()["enhancers"].size(), 0u);
  // A stack, and the dataset and model too.
  Config stack = load_layers(exp, {"extends.enhancers=[boost, boost-strong]", "extends.model=fake"});
  EXPECT_EQ(stack.root()["enhancers"].size(), 1u);  // both presets name the one enhancer
  EXPECT_EQ(stack.root()["enhancer"]["boost"]["weight"].as<double>(), 2.0);
  // Mistakes name the --set.
  std::string msg = config_error([&] { load_layers(exp, {"extends.enhancer=boost"}); });
  EXPECT_NE(msg.find("--set extends.enhancer: unknown key 'extends.enhancer'; did you mean 'extends.enhancers'?"),
            std::string::npos) << msg;
  msg = config_error([&] { load_layers(exp, {"extends.enhancers=missing"}); });
  EXPECT_NE(msg.find("--set extends.enhancers: extends.enhancer: no enhancer config named 'missing'"), std::string::npos)
      << msg;
}

// An experiment named without a folder ("e.yaml", run from its folder) finds its presets like any
// other: this threw "cannot make absolute path" once.
TEST(Config, AnExperimentInTheWorkingDirectoryFindsItsPresets) {
  ConfigTree t;
  t.write("e.yaml", "extends: {dataset: toy, model: fake}\n");
  const fs::path before = fs::current_path();
  fs::current_path(t.root);
  Config c = load_layers("e.yaml", {});
  fs::current_path(before);
  EXPECT_EQ(c.root()["model"]["depth"].as<int>(), 4);
  EXPECT_EQ(c.root()["train"]["epochs"].as<int>(), 12);  // the model file over the dataset file
}

TEST(Config, TextReduceDimIsOffByDefaultAndNotNegative) {
  Config c = load_layers("", {"model.name=fake"});
  EXPECT_EQ(to_run_config(validate(c, fake_schema)).text.reduce_dim, 0);
  Config on = load_layers("", {"model.name=fake", "text.reduce_dim=256"});
  EXPECT_EQ(to_run_config(validate(on, fake_schema)).text.reduce_dim, 256);
  ConfigTree t;
  const std::string exp = t.write("experiments/reduce.yaml", "model:\n  name: fake\ntext:\n  reduce_dim: -4\n");
  Config bad = load_layers(exp, {});
  const std::string msg = config_error([&] { validate(bad, fake_schema); });
  EXPECT_NE(msg.find(exp + ":4: 'text.reduce_dim' must be in [0, inf), found -4"), std::string::npos) << msg;
}

TEST(Config, ScalarsBecomeJsonOfTheirYamlType) {
  const nlohmann::json j = recgrid::config::to_json(YAML::Load("{i: 3, f: 1.0e-3, half: .5, b: true, n: ~, s: abc, q: '7'}"));
  EXPECT_TRUE(j["i"].is_number_integer());
  EXPECT_DOUBLE_EQ(j["f"].get<double>(), 1e-3);
  EXPECT_DOUBLE_EQ(j["half"].get<double>(), 0.5);  // a float the integer parse cannot start on
  EXPECT_EQ(j["b"], true);
  EXPECT_TRUE(j["n"].is_null());
  EXPECT_EQ(j["s"], "abc");
  EXPECT_EQ(j["q"], "7");  // quoted: a string
}

// The host keys are declared once (config/host_keys.cpp); the defaults file is that table printed.
TEST(HostKeys, TheDefaultsFileIsTheTablePrinted) {
  std::ifstream in(recgrid::test::source_dir() + "/configs/defaults.yaml");
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(file, host_defaults_yaml())
      << "configs/defaults.yaml differs from the key table: regenerate it with\n"
         "  build/bin/recgrid run --help-config --yaml > configs/defaults.yaml";
}

TEST(HostKeys, EveryKeyHasOneDeclarationThatValidationAndTheRunConfigUse) {
  std::set<std::string> seen;
  for (const HostKey& k : host_keys()) {
    EXPECT_TRUE(seen.insert(k.key).second) << "declared twice: " << k.key;
    EXPECT_GT(std::string(k.help).size(), 2u) << k.key << " has no help";
    if (*k.range) EXPECT_NO_THROW(recgrid::OptionRange::parse(k.range)) << k.key;
  }
  // A changed value reaches its RunConfig field through the table.
  Config cfg;
  for (const char* set : {"train.lr=0.25", "train.patience=9", "train.topk=[20, 50]", "text.reduce_dim=16",
                          "dataset.n_users=7", "train.device=cuda:1", "model.name=fake", "name=probe"})
    cfg.set(set);
  const RunConfig run = to_run_config(validate(cfg, fake_schema));
  EXPECT_EQ(run.train.lr, 0.25);
  EXPECT_EQ(run.train.patience, 9);
  EXPECT_EQ(run.train.topk, (std::vector<int>{20, 50}));
  EXPECT_EQ(run.text.reduce_dim, 16);
  EXPECT_EQ(run.dataset.n_users, 7);
  EXPECT_EQ(run.train.device, "cuda:1");
  EXPECT_EQ(run.model.name, "fake");
  EXPECT_EQ(run.name, "probe");
  // Defaults come from the same table.
  EXPECT_EQ(run.train.batch_size, 4096);
  EXPECT_EQ(run.dataset.format, "synthetic");
}

TEST(HostKeys, HelpConfigListsEveryKeyWithItsRange) {
  const recgrid::test::CliResult r = recgrid::test::run_cli("run --help-config");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("train.lr (float, default 0.001, in (0, inf))"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dataset.format (string, default synthetic, in {synthetic, sslrec, tsv})"), std::string::npos);
  for (const HostKey& k : host_keys())
    if (std::string(k.type) != "section") EXPECT_NE(r.output.find(std::string("  ") + k.key + " ("), std::string::npos) << k.key;
}
