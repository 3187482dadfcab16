// What a user who lost a day to a bad value would want (issue 13): option ranges checked before
// anything loads, no LibTorch stack on the screen, divergence stopped and recorded, runs that never
// learned flagged, failed writes that keep the previous file, damaged run folders explained.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <torch/optim/adam.h>
#include <torch/serialize/input-archive.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "recgrid/option_range.hpp"
#include "data/npy.hpp"
#include "grid/results_store.hpp"
#include "llm/answer_cache.hpp"
#include "test_support.hpp"
#include "train/checkpoint.hpp"
#include "util/files.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using recgrid::OptionRange;

namespace {

using Result = recgrid::test::CliResult;
using recgrid::test::run_cli;

std::string fresh_dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/reliability_" + name;
  fs::remove_all(d);
  return d;
}

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

std::string slurp(const std::string& path) { return recgrid::read_text_for_test(path); }

// The built-in planted data, small: a run takes a second or two.
const char* const kSmall =
    " --no-progress --set dataset.synthetic.users=400 --set dataset.synthetic.items=300"
    " --set dataset.synthetic.intents=8";

std::string with_probe() {
  return " --plugin-dir " + recgrid::test::binary_dir() + "/plugins --plugin-dir " + recgrid::test::binary_dir() +
         "/test_plugins --set enhancers=[probe]";
}

// Lowers this process's file-size limit for the scope (SIGXFSZ ignored, so a write past the limit
// fails with EFBIG instead of killing the test); ctest runs every test in its own process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = bytes;
    EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &lowered), 0);
  }
  ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &saved_); }

 private:
  rlimit saved_{};
};

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ranges

TEST(OptionRange, IntervalsHonourTheirOpenAndClosedEnds) {
  const OptionRange keep = OptionRange::parse("(0, 1]");
  EXPECT_EQ(keep.check("1"), "");
  EXPECT_EQ(keep.check("0.5"), "");
  EXPECT_EQ(keep.check("0"), "must be in (0, 1]");
  EXPECT_EQ(keep.check("1.0001"), "must be in (0, 1]");
  const OptionRange positive = OptionRange::parse("[1, inf)");
  EXPECT_EQ(positive.check("1"), "");
  EXPECT_EQ(positive.check("1e300"), "");
  EXPECT_NE(positive.check("0"), "");
  EXPECT_NE(positive.check("-3"), "");
  EXPECT_NE(positive.check("nan"), "");
  EXPECT_NE(positive.check("abc"), "");
  EXPECT_TRUE(OptionRange::parse("").empty());
  EXPECT_EQ(OptionRange::parse("").check("anything"), "");
}

TEST(OptionRange, ChoicesAcceptOnlyTheirWords) {
  const OptionRange fusion = OptionRange::parse("{add, concat}");
  EXPECT_EQ(fusion.check("add"), "");
  EXPECT_EQ(fusion.check("concat"), "");
  EXPECT_EQ(fusion.check("Add"), "must be one of {add, concat}");
  EXPECT_NE(fusion.check(""), "");
}

TEST(OptionRange, MalformedDeclarationsAreRefused) {
  for (const char* bad : {"[1, 0]", "0, 1", "[a, 1]", "{}", "[1 2]", "(0, 1"})
    EXPECT_THROW(OptionRange::parse(bad), std::invalid_argument) << bad;
}

TEST(Reliability, OutOfRangeHostKeyIsOneConfigurationError) {
  const Result r = run_cli("run --set train.lr=-1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--set train.lr: 'train.lr' must be in (0, inf), found -1"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("frame #"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(Reliability, OutOfRangeInAFileNamesTheFileAndLine) {
  const std::string dir = fresh_dir("range_file");
  fs::create_directories(dir);
  std::ofstream(dir + "/x.yaml") << "name: x\ntrain:\n  epochs: 3\n  batch_size: 0\n";
  const Result r = run_cli("run " + dir + "/x.yaml");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(dir + "/x.yaml:4: 'train.batch_size' must be in [1, inf), found 0"), std::string::npos)
      << r.output;
}

TEST(Reliability, PluginOptionsAreCheckedAgainstTheirDeclaredRanges) {
  Result r = run_cli("run --set model.keep_rate=1.5");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("'model.keep_rate' must be in (0, 1], found 1.5"), std::string::npos) << r.output;
  r = run_cli("run --set enhancers=[kar] --set enhancer.kar.fusion=sum");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("'enhancer.kar.fusion' must be one of {add, concat}, found sum"), std::string::npos) << r.output;
  r = run_cli("run --set enhancers=[irllrec] --set enhancer.irllrec.pair_temperature=0");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("'enhancer.irllrec.pair_temperature' must be in (0, inf)"), std::string::npos) << r.output;
}

// Every command, given bad arguments, fails with a sentence and never with a C++ stack.
TEST(Reliability, BadArgumentsNeverShowAStack) {
  const std::string dir = fresh_dir("bad_args");
  fs::create_directories(dir);
  std::ofstream(dir + "/not_yaml.yaml") << "train: [unclosed\n";
  std::ofstream(dir + "/grid.yaml") << "grid:\n  models: [lightgcn]\n  seeds: [x]\n";
  // A valid grid that trains for a second, should an option check be missing.
  std::ofstream(dir + "/ok_grid.yaml") << "grid:\n  name: ok\n  models: [lightgcn]\n"
                                          "dataset: {synthetic: {users: 100, items: 100, intents: 4}}\ntrain: {epochs: 1}\n";
  const std::vector<std::string> commands = {
      "run --set train.lr=-1",          "run --set train.lr=abc",          "run --set train.device=cuda",
      "run --set train.device=gpu",     "run --set train.batch_size=0",    "run --set train.topk=[5,10]",
      "run --set model.layers=0",       "run --set model.name=nope",       "run --set enhancers=[nope]",
      "run --set train.patience=-2",    "run --set text.reduce_dim=-1",    "run --set dataset.format=csv",
      "run --set dataset.synthetic.noise=2", "run " + dir + "/missing.yaml", "run " + dir + "/not_yaml.yaml",
      "run " + dir + "/grid.yaml",      "run --set",                       "run " + dir + "/ok_grid.yaml --jobs 0 --out " + dir + "/g",
      "run " + dir + "/ok_grid.yaml --threads-per-cell -3 --out " + dir + "/g",
      "run " + dir + "/ok_grid.yaml --shard 3/2 --out " + dir + "/g",
      "report " + dir + "/nothing",     "status " + dir + "/nothing",      "status",
      "plugins --bogus",                "synth",                           "synth --out " + dir + "/s --users -5",
      "synth --out " + dir + "/s --noise 3", "text build --data " + dir + "/nothing", "text check",
      "intents generate",               "embed",                           "nonsense",
  };
  for (const std::string& c : commands) {
    const Result plain = run_cli(c, "RECGRID_DATA_ROOT=" + dir);
    EXPECT_NE(plain.code, 0) << c << "\n" << plain.output;
    EXPECT_FALSE(plain.output.empty()) << c;
    EXPECT_EQ(plain.output.find("frame #"), std::string::npos) << c << "\n" << plain.output;
    EXPECT_EQ(plain.output.find("terminate called"), std::string::npos) << c << "\n" << plain.output;
    EXPECT_EQ(plain.output.find("Exception raised from"), std::string::npos) << c << "\n" << plain.output;
  }
}

TEST(Reliability, CudaOnACpuBuildSaysWhatToChange) {
  const Result r = run_cli("run --out " + fresh_dir("cuda") + " --set train.device=cuda");
  if (r.code == 0) GTEST_SKIP() << "this LibTorch has CUDA";
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("no CUDA support: set train.device=cpu"), std::string::npos) << r.output;
}

// ---------------------------------------------------------------------------------------------
// Divergence

TEST(Reliability, HugeLearningRateStopsAsDiverged) {
  const std::string out = fresh_dir("huge_lr");
  const Result r = run_cli("run --out " + out + kSmall + " --set train.lr=1e12 --set train.epochs=20");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("training diverged at epoch"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("frame #"), std::string::npos) << r.output;
  const json res = read_json(out + "/results.json");
  EXPECT_EQ(res["status"], "diverged");
  EXPECT_NE(res["error"].get<std::string>().find("lightgcn.bpr"), std::string::npos) << res.dump();
  // Resuming it does not pretend it finished.
  const Result again = run_cli("run --out " + out + kSmall + " --set train.lr=1e12 --set train.epochs=20 --resume");
  EXPECT_EQ(again.code, 3) << again.output;
  EXPECT_NE(again.output.find("--force"), std::string::npos) << again.output;
}

// NaN at epoch 3 (one step per epoch): the run stops there, names the term, and checkpoint.pt and
// best.pt are those of the evaluation of epoch 2.
TEST(Reliability, NanLossStopsTheRunAndKeepsTheLastGoodFiles) {
  const std::string out = fresh_dir("nan_loss");
  const Result r = run_cli("run --out " + out + kSmall + with_probe() +
                           " --set enhancer.probe.nan_at_step=3 --set train.batch_size=100000 --set train.test_step=1"
                           " --set train.epochs=10");
  EXPECT_EQ(r.code, 3) << r.output;
  const json res = read_json(out + "/results.json");
  EXPECT_EQ(res["status"], "diverged");
  const std::string error = res["error"];
  EXPECT_NE(error.find("epoch 3, step 0"), std::string::npos) << error;
  EXPECT_NE(error.find("probe.probe"), std::string::npos) << error;
  EXPECT_NE(error.find("non-finite"), std::string::npos) << error;
  EXPECT_EQ(res["last_good_epoch"], 2);
  torch::serialize::InputArchive checkpoint;
  checkpoint.load_from(out + "/checkpoint.pt");
  at::Tensor epoch;
  checkpoint.read("state.epoch", epoch, true);
  EXPECT_EQ(epoch.item<double>(), 2.0);
  torch::serialize::InputArchive best;
  EXPECT_NO_THROW(best.load_from(out + "/best.pt"));
  EXPECT_EQ(recgrid::read_lines(out + "/metrics.jsonl").size(), 3u);
}

TEST(Reliability, NanGradientStopsTheRun) {
  const std::string out = fresh_dir("nan_grad");
  const Result r = run_cli("run --out " + out + kSmall + with_probe() +
                           " --set enhancer.probe.nan_at_step=1 --set enhancer.probe.nan_in=gradient"
                           " --set train.batch_size=100000 --set train.test_step=1 --set train.epochs=10");
  EXPECT_EQ(r.code, 3) << r.output;
  const json res = read_json(out + "/results.json");
  EXPECT_EQ(res["status"], "diverged");
  EXPECT_NE(res["error"].get<std::string>().find("epoch 1, step 0: the gradient of"), std::string::npos) << res.dump();
}

// ---------------------------------------------------------------------------------------------
// Runs that never learned

TEST(Reliability, ARunThatNeverLearnsIsFlagged) {
  const std::string out = fresh_dir("no_learning");
  const Result r = run_cli("run --out " + out + kSmall + " --set train.lr=1e-9 --set train.patience=2 --set train.test_step=1");
  EXPECT_EQ(r.code, 0) << r.output;
  const json res = read_json(out + "/results.json");
  EXPECT_EQ(res["status"], "no_learning");
  const std::string reasons = res["no_learning"].dump();
  EXPECT_NE(reasons.find("lightgcn.bpr stayed at its starting value"), std::string::npos) << reasons;
  EXPECT_NE(r.output.find("this run did not learn"), std::string::npos) << r.output;
  // The same data with the usual learning rate learns.
  const std::string ok = fresh_dir("learns");
  ASSERT_EQ(run_cli("run --out " + ok + kSmall + " --set train.epochs=12").code, 0);
  EXPECT_EQ(read_json(ok + "/results.json")["status"], "ok");
}

TEST(Reliability, MinEpochsKeepsEarlyEvaluationsOutOfPatience) {
  const std::string out = fresh_dir("min_epochs");
  const Result r = run_cli("run --out " + out + kSmall +
                           " --set train.lr=1e-9 --set train.patience=1 --set train.test_step=1 --set train.min_epochs=6");
  ASSERT_EQ(r.code, 0) << r.output;
  // Patience 1 stops at the first evaluation without improvement at or after epoch 6, not before.
  EXPECT_GE(read_json(out + "/results.json")["epochs_run"].get<int>(), 7);
}

// ---------------------------------------------------------------------------------------------
// Failed writes keep the previous file

TEST(Reliability, AFailedAtomicWriteKeepsThePreviousFile) {
  const std::string dir = fresh_dir("atomic");
  fs::create_directories(dir);
  const std::string path = dir + "/results.json";
  recgrid::write_file_atomic(path, "old content\n");
  {
    FileSizeLimit limit(4096);
    try {
      recgrid::write_file_atomic(path, std::string(100000, 'x'));
      ADD_FAILURE() << "the write past the limit succeeded";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path + ": cannot write (File too large"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(slurp(path), "old content\n");
  EXPECT_EQ(files_in(dir), 1u);  // no temporary file left behind
}

TEST(Reliability, AFailedCheckpointWriteKeepsThePreviousCheckpoint) {
  const std::string dir = fresh_dir("checkpoint");
  fs::create_directories(dir);
  recgrid::NamedTensors params;
  params.add("w", at::ones({250000}).set_requires_grad(true));  // 1 MB
  torch::optim::Adam adam(std::vector<at::Tensor>{params.at("w")}, torch::optim::AdamOptions(0.1));
  const std::string ckpt = dir + "/checkpoint.pt", best = dir + "/best.pt";
  recgrid::train::LoopState state;
  state.epoch = 4;
  recgrid::train::save_checkpoint(ckpt, params, {}, adam, state);
  recgrid::train::save_tensors(best, params, {});
  const std::string ckpt_before = slurp(ckpt), best_before = slurp(best);
  {
    c10::NoGradGuard no_grad;
    params.at("w").fill_(7);
  }
  state.epoch = 5;
  {
    FileSizeLimit limit(200000);
    EXPECT_THROW(recgrid::train::save_checkpoint(ckpt, params, {}, adam, state), std::runtime_error);
    try {
      recgrid::train::save_tensors(best, params, {});
      ADD_FAILURE() << "the write past the limit succeeded";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(best + ": cannot write"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(slurp(ckpt), ckpt_before);
  EXPECT_EQ(slurp(best), best_before);
  EXPECT_EQ(files_in(dir), 2u);
  // ... and it still loads: the old values come back.
  recgrid::train::load_tensors(best, params, {});
  EXPECT_EQ(params.at("w").sum().item<float>(), 250000.0f);
}

TEST(Reliability, AFailedAppendLeavesTheAnswerCacheAndMetricsWhole) {
  const std::string dir = fresh_dir("append");
  fs::create_directories(dir);
  const std::string cache_path = dir + "/answers.jsonl";
  {
    recgrid::llm::AnswerCache cache(cache_path);
    cache.append("a", json{{"answer", "first"}});
  }
  const std::string before = slurp(cache_path);
  {
    recgrid::llm::AnswerCache cache(cache_path);
    FileSizeLimit limit(before.size() + 20);
    try {
      cache.append("b", json{{"answer", std::string(500, 'y')}});
      ADD_FAILURE() << "the append past the limit succeeded";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(cache_path + ": cannot append (File too large"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(slurp(cache_path), before);
  recgrid::llm::AnswerCache reopened(cache_path);
  EXPECT_EQ(reopened.size(), 1u);
  EXPECT_EQ(reopened.repaired_bytes(), 0u);

  const std::string metrics = dir + "/metrics.jsonl";
  recgrid::append_line_whole(metrics, "{\"epoch\": 0}\n");
  {
    FileSizeLimit limit(30);
    EXPECT_THROW(recgrid::append_line_whole(metrics, "{\"epoch\": 3, \"valid\": {\"recall@20\": 0.1}}\n"), std::runtime_error);
  }
  EXPECT_EQ(slurp(metrics), "{\"epoch\": 0}\n");
}

TEST(Reliability, AFailedTableOrRecordWriteKeepsThePreviousOne) {
  const std::string dir = fresh_dir("table");
  fs::create_directories(dir + "/cell");
  recgrid::data::FloatTable small{2, 2, {1, 2, 3, 4}};
  recgrid::data::write_table_npy(dir + "/profile_item.npy", small);
  const std::string table_before = slurp(dir + "/profile_item.npy");
  recgrid::grid::CellInfo cell;
  cell.id = "c";
  cell.dir = dir + "/cell";
  recgrid::grid::write_record(cell, json{{"cell", "c"}});
  const std::string record_before = slurp(cell.dir + "/record.json");
  {
    FileSizeLimit limit(1024);
    recgrid::data::FloatTable big{100, 100, std::vector<float>(10000, 0.5f)};
    EXPECT_THROW(recgrid::data::write_table_npy(dir + "/profile_item.npy", big), std::runtime_error);
    EXPECT_THROW(recgrid::grid::write_record(cell, json{{"cell", "c"}, {"pad", std::string(5000, 'z')}}),
                 std::runtime_error);
  }
  EXPECT_EQ(slurp(dir + "/profile_item.npy"), table_before);
  EXPECT_EQ(slurp(cell.dir + "/record.json"), record_before);
}

// ---------------------------------------------------------------------------------------------
// Damaged run folders

TEST(Reliability, ADamagedCheckpointIsExplained) {
  const std::string out = fresh_dir("damaged");
  const std::string run = "run --out " + out + kSmall + " --set train.epochs=20 --set train.test_step=1";
  ASSERT_EQ(run_cli(run, "RECGRID_ABORT_AFTER_EPOCH=2").code, 75);
  const std::string whole = slurp(out + "/checkpoint.pt");
  for (const std::string& damaged : {whole.substr(0, whole.size() / 2), std::string("not a checkpoint at all")}) {
    std::ofstream(out + "/checkpoint.pt", std::ios::binary | std::ios::trunc) << damaged;
    const Result r = run_cli(run + " --resume");
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_NE(r.output.find(out + "/checkpoint.pt: not a complete RecGrid checkpoint"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--force"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("frame #"), std::string::npos) << r.output;
  }
  const Result changed = run_cli(run + " --resume --set train.lr=0.002");
  EXPECT_EQ(changed.code, 1) << changed.output;
  EXPECT_NE(changed.output.find("config.yaml differs"), std::string::npos) << changed.output;
  EXPECT_NE(changed.output.find("--force"), std::string::npos) << changed.output;
  const Result forced = run_cli(run + " --force");
  EXPECT_EQ(forced.code, 0) << forced.output;
}

// ---------------------------------------------------------------------------------------------
// Grids: a diverged cell is recorded and not retried blindly; a cell that never learned is flagged
// in its record, in `recgrid status` and in the report, and left out of the means.

TEST(Reliability, AGridRecordsDivergedAndNonLearningCellsAsSuch) {
  const std::string dir = fresh_dir("grid");
  fs::create_directories(dir);
  const std::string grid = dir + "/grid.yaml";
  std::ofstream(grid) << "grid:\n  name: flags\n  datasets: [planted]\n  models: [lightgcn]\n"
                         "  sweep: {train.lr: [1.0e-9, 1.0e+12, 1.0e-3]}\n"
                         "dataset: {synthetic: {users: 400, items: 300, intents: 8}}\n"
                         "train: {epochs: 30, test_step: 1, patience: 2}\n";
  const std::string out = dir + "/out";
  Result r = run_cli("run " + grid + " --out " + out + " --no-progress");
  EXPECT_EQ(r.code, 3) << r.output;  // a diverged cell: the grid says so in its exit status
  EXPECT_NE(r.output.find("DIVERGED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("NO LEARNING"), std::string::npos) << r.output;
  std::map<std::string, std::string> status_of;
  for (const std::string& line : recgrid::read_lines(out + "/results.jsonl")) {
    const json record = json::parse(line);
    status_of[record["axes"]["train.lr"].get<std::string>()] = record.value("status", std::string("?"));
  }
  ASSERT_EQ(status_of.size(), 3u);
  EXPECT_EQ(status_of["1.0e-9"], "no_learning");
  EXPECT_EQ(status_of["1.0e+12"], "diverged");
  EXPECT_EQ(status_of["1.0e-3"], "ok");

  const Result status = run_cli("status " + out);
  EXPECT_NE(status.output.find("3 done (2 flagged: not results)"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("diverged planted-lightgcn-lr=1.0e+12"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("no_learning planted-lightgcn-lr=1.0e-9"), std::string::npos) << status.output;

  ASSERT_EQ(run_cli("report " + out).code, 0);
  const std::string report = slurp(out + "/report.md");
  EXPECT_NE(report.find("– †1"), std::string::npos) << report;  // no mean from a flagged seed
  EXPECT_NE(report.find("## Runs that are not results"), std::string::npos) << report;
  EXPECT_NE(report.find("| no_learning |"), std::string::npos) << report;
  EXPECT_NE(report.find("| diverged |"), std::string::npos) << report;

  // A rerun does not retry the diverged cell (nor the others).
  r = run_cli("run " + grid + " --out " + out + " --no-progress");
  EXPECT_NE(r.output.find("3 already finished, 0 to run"), std::string::npos) << r.output;
}
