// End to end through the `recgrid` executable on the small real dataset: run folder contents,
// determinism, resume after a crash, and user-facing errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "data/npy.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Result = recgrid::test::CliResult;
using recgrid::test::run_cli;

// A quick LightGCN run on the scientific TSV data.
std::string quick(const std::string& out, int epochs, const std::string& extra = "") {
  return recgrid::test::source_dir() + "/configs/quickstart.yaml --no-progress --out " + out +
         " --set dataset.root=" + recgrid::test::fixture_data() + " --set train.epochs=" + std::to_string(epochs) +
         " " + extra;
}

std::string fresh_dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/runner_" + name;
  fs::remove_all(d);
  return d;
}

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> lines;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

}  // namespace

TEST(Runner, WritesTheRunFolder) {
  const std::string out = fresh_dir("folder");
  const Result r = run_cli("run " + quick(out, 7));
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"config.yaml", "log.txt", "metrics.jsonl", "results.json", "best.pt", "checkpoint.pt"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  const auto lines = read_jsonl(out + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 3u);  // epochs 0, 3, 6 (test_step 3)
  EXPECT_EQ(lines[2]["epoch"], 6);
  EXPECT_TRUE(lines[0]["loss"].contains("lightgcn.bpr"));
  const json res = read_json(out + "/results.json");
  EXPECT_EQ(res["epochs_run"], 7);
  EXPECT_EQ(res["stopped_by"], "max_epochs");
  const int best = res["best_epoch"];
  EXPECT_TRUE(best == 0 || best == 3 || best == 6);
  for (const char* split : {"valid", "test"}) {
    const json& m = res[split];
    EXPECT_LE(m["recall@5"].get<double>(), m["recall@10"].get<double>());
    EXPECT_LE(m["recall@10"].get<double>(), m["recall@20"].get<double>());
    EXPECT_GT(m["recall@20"].get<double>(), 0.0);
    EXPECT_LT(m["ndcg@20"].get<double>(), 1.0);
  }
  // The best validation line in metrics.jsonl is the validation reported in results.json.
  EXPECT_DOUBLE_EQ(lines[best / 3]["valid"]["recall@20"].get<double>(), res["valid"]["recall@20"].get<double>());
  // The resolved configuration holds the plugin defaults and the --set values.
  const std::string cfg = recgrid::read_text_for_test(out + "/config.yaml");
  EXPECT_NE(cfg.find("keep_rate: 0.8"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("epochs: 7"), std::string::npos) << cfg;
}

// SIGTERM (Slurm's preemption, `scancel --signal=TERM`) during training: the run stops at the end of
// its step with exit status 4 and a checkpoint of that point; --resume then gives the numbers of the
// uninterrupted run, losses and validation of every evaluation included.
TEST(Runner, AStopSignalCheckpointsTheStepAndResumeGivesTheSameNumbers) {
  const std::string a = fresh_dir("sig_a"), b = fresh_dir("sig_b"), c = fresh_dir("sig_c");
  const std::string extra = "--set train.batch_size=128 --set train.test_step=2 --set train.patience=100";
  ASSERT_EQ(run_cli("run " + quick(a, 8, extra)).code, 0);
  // At a known place: the run signals itself after step 5 of epoch 3 (an unevaluated epoch).
  const Result stopped = run_cli("run " + quick(c, 8, extra), "RECGRID_SIGNAL_AT=3:5");
  ASSERT_EQ(stopped.code, 4) << stopped.output;
  EXPECT_NE(stopped.output.find("stopped by signal 15 before epoch 3, step 6"), std::string::npos) << stopped.output;
  const Result went_on = run_cli("run " + quick(c, 8, extra + " --resume"));
  ASSERT_EQ(went_on.code, 0) << went_on.output;
  EXPECT_NE(went_on.output.find("resumed inside epoch 3 at step 6"), std::string::npos) << went_on.output;
  // And from outside at a moment the test does not choose: SIGTERM once the first evaluation is written.
  // Started in the background; SIGTERM once the first evaluation is written, i.e. while it trains on.
  const std::string script = recgrid::test::binary_dir() + "/bin/recgrid run " + quick(b, 8, extra) + " > " + b + ".out 2>&1 & pid=$!; "
                             "while [ ! -s " + b + "/metrics.jsonl ]; do sleep 0.02; done; kill -TERM $pid; wait $pid; "
                             "echo $? > " + b + ".code";
  ASSERT_EQ(std::system(("bash -c '" + script + "'").c_str()), 0);
  std::ifstream code_file(b + ".code");
  int code = -1;
  code_file >> code;
  std::ifstream out_file(b + ".out");
  const std::string out((std::istreambuf_iterator<char>(out_file)), std::istreambuf_iterator<char>());
  ASSERT_EQ(code, 4) << out;
  EXPECT_NE(out.find("stopped by signal 15"), std::string::npos) << out;
  EXPECT_NE(out.find("--resume to continue"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(b + "/results.json"));
  const Result resumed = run_cli("run " + quick(b, 8, extra + " --resume"));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed "), std::string::npos) << resumed.output;
  const json ra = read_json(a + "/results.json");
  const auto la = read_jsonl(a + "/metrics.jsonl");
  for (const std::string& run : {c, b}) {
    SCOPED_TRACE(run);
    const json r = read_json(run + "/results.json");
    EXPECT_EQ(ra["test"], r["test"]);
    EXPECT_EQ(ra["best_epoch"], r["best_epoch"]);
    const auto l = read_jsonl(run + "/metrics.jsonl");
    ASSERT_EQ(la.size(), l.size());
    for (size_t k = 0; k < la.size(); ++k) {
      EXPECT_EQ(la[k]["loss"], l[k]["loss"]) << "epoch " << la[k]["epoch"];
      EXPECT_EQ(la[k]["valid"], l[k]["valid"]) << "epoch " << la[k]["epoch"];
    }
  }
}

TEST(Runner, SameSeedSameNumbersAndResumeAfterACrash) {
  const std::string a = fresh_dir("det_a"), b = fresh_dir("det_b"), c = fresh_dir("crash");
  ASSERT_EQ(run_cli("run " + quick(a, 13)).code, 0);
  ASSERT_EQ(run_cli("run " + quick(b, 13)).code, 0);
  // Killed right after the epoch-6 checkpoint, then resumed.
  const Result crashed = run_cli("run " + quick(c, 13), "RECGRID_ABORT_AFTER_EPOCH=6");
  ASSERT_EQ(crashed.code, 75) << crashed.output;
  EXPECT_FALSE(fs::exists(c + "/results.json"));
  const Result again = run_cli("run " + quick(c, 13));
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.output.find("pass --resume"), std::string::npos) << again.output;
  // The thread count may differ on resume (a grid gives a cell whatever share of the cores it has).
  const Result resumed = run_cli("run " + quick(c, 13, "--resume --set train.threads=1"));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed after epoch 6"), std::string::npos) << resumed.output;
  // Resuming a finished run changes nothing and says so, on the terminal and in the run's log.txt.
  const Result finished = run_cli("run " + quick(c, 13, "--resume"));
  ASSERT_EQ(finished.code, 0) << finished.output;
  EXPECT_NE(finished.output.find("already finished"), std::string::npos) << finished.output;
  std::ifstream log_file(c + "/log.txt");
  const std::string log((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("already finished; its results are unchanged"), std::string::npos) << log;

  // Resuming with another configuration is refused, naming the first differing line.
  const Result other = run_cli("run " + quick(c, 13, "--resume --set train.lr=0.002"));
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.output.find("First difference:"), std::string::npos) << other.output;
  EXPECT_NE(other.output.find("now '  lr: 0.002'"), std::string::npos) << other.output;

  const json ra = read_json(a + "/results.json"), rb = read_json(b + "/results.json"), rc = read_json(c + "/results.json");
  EXPECT_EQ(ra["test"], rb["test"]);
  EXPECT_EQ(ra["valid"], rb["valid"]);
  EXPECT_EQ(ra["test"], rc["test"]);
  EXPECT_EQ(ra["best_epoch"], rc["best_epoch"]);
  const auto la = read_jsonl(a + "/metrics.jsonl"), lc = read_jsonl(c + "/metrics.jsonl");
  ASSERT_EQ(la.size(), lc.size());
  for (size_t k = 0; k < la.size(); ++k) {
    EXPECT_EQ(la[k]["epoch"], lc[k]["epoch"]);
    EXPECT_EQ(la[k]["loss"], lc[k]["loss"]);
    EXPECT_EQ(la[k]["valid"], lc[k]["valid"]);
  }
}

// The heap on transparent huge pages (util/allocator.hpp: at 100x the sparse product's gathers miss
// the TLB on 4 KiB pages), as the kernel's mode allows, and off with RECGRID_HUGE_PAGES=0.
TEST(Runner, TheHeapIsOnHugePagesWhenTheKernelGivesThemOnRequest) {
  std::string mode;
  std::getline(std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled"), mode);
  if (mode.find("[never]") != std::string::npos || mode.empty()) GTEST_SKIP() << "no transparent huge pages: " << mode;
  const std::string bench = "bench --steps 1 --set dataset.synthetic.users=300 --set dataset.synthetic.items=200";
  const auto huge_mib = [&](const std::string& env) {
    const Result r = run_cli(bench, env);
    EXPECT_EQ(r.code, 0) << r.output;
    const size_t json_start = r.output.find('{');
    return json_start == std::string::npos ? -1.0 : json::parse(r.output.substr(json_start)).value("huge_pages_mib", -1.0);
  };
  EXPECT_GT(huge_mib(""), 0.0);
  EXPECT_GT(huge_mib("GLIBC_TUNABLES=glibc.malloc.check=0"), 0.0);  // added to the user's tunables
  if (mode.find("[madvise]") != std::string::npos) {  // asked for, not given by default: off means off
    EXPECT_EQ(huge_mib("RECGRID_HUGE_PAGES=0"), 0.0);
    EXPECT_EQ(huge_mib("GLIBC_TUNABLES=glibc.malloc.hugetlb=0"), 0.0);  // the user's own choice is kept
  }
}

TEST(Runner, EarlyStoppingRestoresTheBestEpoch) {
  const std::string out = fresh_dir("early");
  // patience 1: stop at the first validation that does not improve.
  const Result r = run_cli("run " + quick(out, 400, "--set train.patience=1 --set train.test_step=1 --set train.lr=0.05"));
  ASSERT_EQ(r.code, 0) << r.output;
  const json res = read_json(out + "/results.json");
  EXPECT_EQ(res["stopped_by"], "early_stopping");
  const auto lines = read_jsonl(out + "/metrics.jsonl");
  EXPECT_EQ(res["best_epoch"], lines[lines.size() - 2]["epoch"]);
  EXPECT_LE(lines.back()["valid"]["recall@20"].get<double>(), res["valid"]["recall@20"].get<double>());
}

TEST(Runner, UserErrorsAreClear) {
  const std::string out = fresh_dir("errors");
  Result r = run_cli("run " + quick(out, 1, "--set train.lr_rate=1"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("unknown key 'train.lr_rate'; did you mean 'train.lr'?"), std::string::npos) << r.output;
  r = run_cli("run " + quick(out, 1, "--set model.name=nosuch"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("no base model plugin named 'nosuch'"), std::string::npos) << r.output;
  r = run_cli("run " + quick(out, 1, "--set dataset.path=missing_dataset"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("missing_dataset/train.tsv: cannot open file"), std::string::npos) << r.output;
}

TEST(Runner, PluginsListsKindVersionAndOptions) {
  const Result r = run_cli("plugins");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("lightgcn 1.0.0 (base model)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("keep_rate (float, default 0.8, in (0, 1])"), std::string::npos) << r.output;
  // Both sides of a pair's encoding: what a base model gives, what an enhancer needs (abi.h rg_tensor_spec).
  EXPECT_NE(r.output.find("gives enhancers:\n      user: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("      layer.<l> (l = 0..layers): "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("      view2.layer.<l> (l = 1..layers): "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("      intent.user = parameter user_intents: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("needs from the base model:\n      final: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("      {intent_view}layer.<l> (l = 1..L): "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("gives enhancers (none):"), std::string::npos) << "a fitted model\n" << r.output;
}

// Plugin folders add to the search path; the installed (here: the build tree's) plugins stay found.
TEST(Runner, PluginFoldersAddToTheDefaultsInSearchOrder) {
  const std::string extra = recgrid::test::binary_dir() + "/test_plugins";
  for (const std::string& way : {"--plugin-dir " + extra, std::string()}) {
    const Result r = run_cli("plugins " + way, way.empty() ? "RECGRID_PLUGIN_PATH=" + extra : "");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("probe 0.0.1 (enhancer)"), std::string::npos) << way << "\n" << r.output;
    EXPECT_NE(r.output.find("lightgcn 1.0.0 (base model)"), std::string::npos) << way << "\n" << r.output;
    EXPECT_NE(r.output.find("irllrec"), std::string::npos) << way << "\n" << r.output;
  }
  // The first folder of the path wins a name; naming a default folder again changes nothing.
  const Result twice = run_cli("plugins --plugin-dir " + recgrid::test::binary_dir() + "/plugins");
  ASSERT_EQ(twice.code, 0) << twice.output;
  EXPECT_EQ(twice.output.find("already taken"), std::string::npos) << twice.output;
}

// Each plugin README's option table is the declaration printed (scripts/update-option-tables.sh).
TEST(PluginReadmes, OptionTablesMatchTheDeclarations) {
  int checked = 0;
  for (const auto& kind : fs::directory_iterator(recgrid::test::source_dir() + "/plugins")) {
    if (!kind.is_directory()) continue;
    for (const auto& folder : fs::directory_iterator(kind.path())) {
      const std::string name = folder.path().filename().string();
      const Result table = run_cli("plugins --markdown " + name);
      ASSERT_EQ(table.code, 0) << name << ": " << table.output;
      std::ifstream in(folder.path() / "README.md");
      const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_NE(readme.find(table.output), std::string::npos)
          << folder.path() << "/README.md: its option table differs from the declaration in the code; run "
          << "bash scripts/update-option-tables.sh\nexpected:\n" << table.output;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 15);  // five base models, five enhancers, five baselines
}

TEST(Runner, EnhancerTextInputsComeFromTheDatasetConfig) {
  const std::string out = fresh_dir("text");
  const std::string table = ::testing::TempDir() + "/scientific_items.npy";
  const int64_t items = recgrid::test::load_tsv_scientific().n_items;
  recgrid::data::FloatTable t{items, 4, std::vector<float>(static_cast<size_t>(items) * 4, 0.25f)};  // rows sum to 1
  recgrid::data::write_table_npy(table, t);
  const std::string plugins = " --plugin-dir " + recgrid::test::binary_dir() + "/plugins --plugin-dir " +
                              recgrid::test::binary_dir() + "/test_plugins";
  Result r = run_cli("run " + quick(out, 1, "--set enhancers=[text_probe] --set dataset.text.profile_item=" + table) + plugins);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto lines = read_jsonl(out + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_DOUBLE_EQ(lines[0]["loss"]["text_probe.text"].get<double>(), 1.0);
  // Without the file: a clear error naming the key to set.
  r = run_cli("run " + quick(fresh_dir("text_missing"), 1, "--set enhancers=[text_probe]") + plugins);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("set dataset.text.profile_item"), std::string::npos) << r.output;
}

TEST(Runner, SynthWritesADatasetThatTrains) {
  const std::string data = fresh_dir("synth_data"), out = fresh_dir("synth_run");
  Result r = run_cli("synth --out " + data + " --users 300 --items 200 --intents 4 --profile-dim 8 --intent-dim 12");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"train.tsv", "valid.tsv", "test.tsv", "profile_user.npy", "profile_item.npy", "intent_user.npy",
                        "intent_item.npy", "settings.json"})
    EXPECT_TRUE(fs::exists(data + "/" + f)) << f;
  r = run_cli("run --no-progress --out " + out + " --set dataset.format=tsv --set dataset.path=" + data +
              " --set train.epochs=4 --set train.test_step=1");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_GT(read_json(out + "/results.json")["test"]["recall@20"].get<double>(), 0.0);
  r = run_cli("synth --out " + data + " --noise 2");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("noise = 2: must be in [0, 1]"), std::string::npos) << r.output;
}

// Issue 4's pairing check: every base model x {rlmrec_con, irllrec (paper), irllrec-ref = [rlmrec_con,
// irllrec]} from the shipped presets trains, evaluates, and logs each enhancer term, finite.
TEST(Runner, EveryBaseModelTrainsWithEveryTextEnhancerPreset) {
  const std::string data = fresh_dir("preset_data");
  ASSERT_EQ(run_cli("synth --out " + data + " --users 150 --items 120 --intents 4 --profile-dim 12 --intent-dim 20").code, 0);
  const std::string configs = std::string(RECGRID_SOURCE_DIR) + "/configs";
  for (const char* model : {"lightgcn", "sgl", "simgcl", "dccf", "bigcf"})
    for (const char* preset : {"rlmrec_con", "irllrec", "irllrec-ref"}) {
      const std::string cell = std::string(model) + "+" + preset;
      SCOPED_TRACE(cell);
      const std::string out = fresh_dir("preset_" + cell);
      {
        std::ofstream f(out + ".yaml");
        f << "extends: {model: " << configs << "/models/" << model << ".yaml, enhancers: " << configs << "/enhancers/"
          << preset << ".yaml}\n"
          << "dataset: {format: tsv, path: " << data << ", text: {profile_user: profile_user.npy, profile_item: "
          << "profile_item.npy, intent_user: intent_user.npy, intent_item: intent_item.npy}}\n"
          << "train: {epochs: 2, test_step: 1, batch_size: 512}\n";
      }
      const Result r = run_cli("run " + out + ".yaml --no-progress --out " + out);
      ASSERT_EQ(r.code, 0) << r.output;
      const auto lines = read_jsonl(out + "/metrics.jsonl");
      ASSERT_EQ(lines.size(), 2u);
      std::vector<std::string> want;
      if (std::string(preset) != "irllrec") want.push_back("rlmrec_con.kd");
      if (std::string(preset) != "rlmrec_con") want.push_back("irllrec.pair");
      const bool full = std::string(preset) == "irllrec" || std::string(model) == "lightgcn";  // REF: LightGCN only
      if (std::string(preset) != "rlmrec_con" && full) {
        want.push_back("irllrec.tran");
        want.push_back("irllrec.itm");
      }
      for (const std::string& term : want) {
        ASSERT_TRUE(lines[1]["loss"].contains(term)) << term << " missing: " << lines[1]["loss"].dump();
        const double v = lines[1]["loss"][term].get<double>();
        EXPECT_TRUE(std::isfinite(v) && v > 0) << term << " = " << v;
      }
      const size_t base_terms = std::string(model) == "lightgcn" ? 2 : std::string(model) == "bigcf" ? 4 : 3;
      EXPECT_EQ(lines[1]["loss"].size(), want.size() + base_terms + 1) << lines[1]["loss"].dump();  // + bpr, reg, cl, cen, total
    }
}

TEST(Runner, EveryBaseModelTrainsWithRlmrecCon) {
  const std::string data = fresh_dir("pair_data");
  ASSERT_EQ(run_cli("synth --out " + data + " --users 200 --items 150 --intents 4 --profile-dim 12").code, 0);
  for (const char* model : {"lightgcn", "sgl", "simgcl", "dccf", "bigcf"}) {
    SCOPED_TRACE(model);
    const std::string out = fresh_dir(std::string("pair_") + model);
    const Result r = run_cli("run --no-progress --out " + out + " --set dataset.format=tsv --set dataset.path=" + data +
                             " --set model.name=" + model + " --set train.epochs=2 --set train.test_step=1" +
                             " --set enhancers=[rlmrec_con] --set dataset.text.profile_user=profile_user.npy" +
                             " --set dataset.text.profile_item=profile_item.npy");
    ASSERT_EQ(r.code, 0) << r.output;
    const auto lines = read_jsonl(out + "/metrics.jsonl");
    ASSERT_EQ(lines.size(), 2u);
    const double kd = lines[1]["loss"]["rlmrec_con.kd"].get<double>();
    EXPECT_TRUE(std::isfinite(kd) && kd > 0) << kd;
  }
}

TEST(Runner, TextReduceDimTrainsOnPrincipalComponents) {
  // The built-in planted dataset, small, with 20-wide intent tables; IRLLRec's towers then read 6.
  const std::string base = "--no-progress --set model.name=lightgcn --set enhancers=[irllrec] "
                           "--set dataset.synthetic.users=120 --set dataset.synthetic.items=100 "
                           "--set dataset.synthetic.intent_dim=20 --set train.epochs=1 --set train.batch_size=256";
  auto trainable = [](const std::string& log) {
    const size_t at = log.find(" trainable values");
    EXPECT_NE(at, std::string::npos) << log;
    const size_t from = log.rfind(' ', at - 1) + 1;
    return std::stoll(log.substr(from, at - from));
  };
  const std::string full = fresh_dir("reduce_full"), reduced = fresh_dir("reduce_6");
  const Result a = run_cli("run " + base + " --out " + full);
  ASSERT_EQ(a.code, 0) << a.output;
  const Result b = run_cli("run " + base + " --set text.reduce_dim=6 --out " + reduced);
  ASSERT_EQ(b.code, 0) << b.output;
  EXPECT_NE(b.output.find("intent_user: PCA 20 -> 6 columns"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("intent_item: PCA 20 -> 6 columns"), std::string::npos) << b.output;
  EXPECT_EQ(a.output.find("PCA"), std::string::npos);
  // Each text tower's first layer shrinks from 20 inputs to 6: fewer trainable values.
  EXPECT_LT(trainable(b.output), trainable(a.output));
}
