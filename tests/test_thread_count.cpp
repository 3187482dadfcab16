// Same numbers whatever the thread count: the streamed contrastive ops give bit-identical values and
// gradients at 1 and 2 threads, and so do whole runs (their losses and metrics). A cell resumed with
// another --threads-per-cell continues the same run, and the thread count is not in a cell's hash.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "recgrid/ops.hpp"
#include "recgrid/row_layer.hpp"
#include "test_support.hpp"

using namespace recgrid;

namespace {

// The value and the gradients of `loss(q, k)` with `threads` threads, on fixed inputs.
std::vector<at::Tensor> value_and_grads(int threads, const std::function<at::Tensor(at::Tensor, at::Tensor)>& loss,
                                        int64_t rows, int64_t keys) {
  const int before = at::get_num_threads();
  at::set_num_threads(threads);
  at::manual_seed(29);
  const at::Tensor q = at::randn({rows, 16}).requires_grad_(true);
  const at::Tensor k = at::randn({keys, 16}).requires_grad_(true);
  const at::Tensor value = loss(q, k);
  const auto g = torch::autograd::grad({value}, {q, k});
  at::set_num_threads(before);
  return {value.detach(), g[0], g[1]};
}

void expect_same_bits(const std::function<at::Tensor(at::Tensor, at::Tensor)>& loss, int64_t rows, int64_t keys) {
  const auto one = value_and_grads(1, loss, rows, keys), two = value_and_grads(2, loss, rows, keys);
  const char* what[] = {"value", "query gradient", "key gradient"};
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(at::equal(one[i], two[i])) << what[i];
}

}  // namespace

// 1000 query rows: 16 blocks of the single sweep and 4 of the backward's tiles, split differently
// between 1 and 2 threads; 3000 keys in chunks of 512 (an uneven last chunk).
TEST(ThreadCount, StreamedSumsAreTheSameAtOneAndTwoThreads) {
  const at::Tensor ones = at::ones({1000});
  {
    SCOPED_TRACE("single sweep (weighted_logsumexp_similarity_sum, bound < 30)");
    expect_same_bits([&](at::Tensor q, at::Tensor k) {
      return ops::weighted_logsumexp_similarity_sum(ops::unit_rows(q), ops::unit_rows(k), 5.0, ones, {}, 512);
    }, 1000, 3000);
  }
  {
    SCOPED_TRACE("folded backward (logsumexp_similarity, bound < 30)");
    expect_same_bits([](at::Tensor q, at::Tensor k) {
      return ops::logsumexp_similarity(ops::unit_rows(q), ops::unit_rows(k), 5.0, 512).sum();
    }, 1000, 3000);
  }
  {
    SCOPED_TRACE("shifted backward (logsumexp_similarity, bound >= 30)");
    expect_same_bits([](at::Tensor q, at::Tensor k) { return ops::logsumexp_similarity(q, k, 0.5, 512).sum(); },
                     1000, 3000);
  }
  {
    SCOPED_TRACE("NCE_B (one sweep)");
    expect_same_bits([](at::Tensor q, at::Tensor k) { return ops::nce_b(q, k.narrow(0, 0, 1000), 0.2, 512); }, 1000,
                     3000);
  }
}

// A layer on every row of a long table: its value and its gradients (x^T g sums over 30,000 rows,
// where at::mm rounds differently at 1 and 2 threads with OpenBLAS) are the same bits at 1 and 2
// threads, and equal at::addmm's up to rounding.
TEST(ThreadCount, RowLayerGradientsAreTheSameAtOneAndTwoThreadsAndMatchAddmm) {
  const auto grads = [](int threads, bool reference) {
    const int before = at::get_num_threads();
    at::set_num_threads(threads);
    at::manual_seed(7);
    // 1001 inputs and 400 outputs: both above OpenBLAS's inner block (256-384), with a last stretch
    // its threaded and single-thread drivers cut differently (the forward's and dx's inner dimension).
    const at::Tensor x = at::randn({30000, 1001}).requires_grad_(true);
    const at::Tensor w = at::randn({1001, 400}).requires_grad_(true), b = at::randn({400}).requires_grad_(true);
    const at::Tensor weight = at::randn({30000, 400});
    const at::Tensor y = reference ? at::addmm(b, x, w) : ops::rows_addmm(b, x, w);
    const auto g = torch::autograd::grad({(y * weight).sum()}, {x, w, b});
    at::set_num_threads(before);
    return std::vector<at::Tensor>{y.detach(), g[0], g[1], g[2]};
  };
  const auto one = grads(1, false), two = grads(2, false), plain = grads(1, true);
  const char* what[] = {"value", "x gradient", "w gradient", "bias gradient"};
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_TRUE(at::equal(one[i], two[i])) << what[i];
    EXPECT_TRUE(at::allclose(one[i], plain[i], 1e-4, 1e-3)) << what[i] << " vs at::addmm";
  }
  const at::Tensor x = at::randn({300, 64}), w = at::randn({64, 8});
  EXPECT_TRUE(at::equal(ops::rows_mm(x, w), at::mm(x, w)));
}

namespace {

namespace fs = std::filesystem;

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A 2-epoch run of MODEL (+ ENHANCERS) on the built-in planted default: its metrics.jsonl lines (times
// removed) and the trained user and item embeddings (`recgrid export`), which depend on every
// parameter the run trained (text towers, experts and intent prototypes included).
struct PlantedRun {
  std::vector<nlohmann::json> lines;
  std::string user_embeddings, item_embeddings;
};

PlantedRun planted_run(const std::string& model, const std::string& enhancers, int threads) {
  const std::string out = ::testing::TempDir() + "/threads_" + model + "_" + enhancers + "_" + std::to_string(threads);
  fs::remove_all(out);
  const test::CliResult r = test::run_cli("run --no-progress --out " + out + " --set extends.model=" + model +
                                          " --set extends.enhancers=" + enhancers +
                                          " --set train.epochs=2 --set train.test_step=1 --set train.threads=" +
                                          std::to_string(threads));
  EXPECT_EQ(r.code, 0) << r.output;
  const test::CliResult x = test::run_cli("export " + out + " --out " + out + "/export");
  EXPECT_EQ(x.code, 0) << x.output;
  PlantedRun run{{}, file_bytes(out + "/export/user_embeddings.npy"), file_bytes(out + "/export/item_embeddings.npy")};
  std::ifstream f(out + "/metrics.jsonl");
  for (std::string line; std::getline(f, line);) {
    if (line.empty()) continue;
    nlohmann::json m = nlohmann::json::parse(line);
    m.erase("train_time_s");
    m.erase("eval_time_s");
    if (m.contains("untrained")) m["untrained"].erase("eval_time_s");
    run.lines.push_back(m);
  }
  return run;
}

void expect_same_run_at_one_and_two_threads(const std::string& model, const std::string& enhancers) {
  SCOPED_TRACE(model + " + " + enhancers);
  const PlantedRun one = planted_run(model, enhancers, 1), two = planted_run(model, enhancers, 2);
  ASSERT_GE(one.lines.size(), 2u);
  ASSERT_EQ(one.lines.size(), two.lines.size());
  for (size_t i = 0; i < one.lines.size(); ++i) EXPECT_EQ(one.lines[i].dump(), two.lines[i].dump()) << "metrics.jsonl line " << i;
  ASSERT_FALSE(one.user_embeddings.empty());
  EXPECT_TRUE(one.user_embeddings == two.user_embeddings) << "trained user embeddings differ";
  EXPECT_TRUE(one.item_embeddings == two.item_embeddings) << "trained item embeddings differ";
}

}  // namespace

// The case: DCCF's losses differed in the 8th digit after epoch 0 (0.4767198860645294 at one
// thread, 0.47671987613042194 at two). Dumped JSON keeps 17 significant digits: equal text is equal bits.
// Equal metrics did not mean equal parameters: DCCF's and BIGCF's intent prototypes and every
// enhancer's layers (gradients x^T g summed over thousands of rows by BLAS, split by thread) differed
// in the last bits while the top-20 lists did not; the exported embeddings compare them.
TEST(ThreadCount, PlantedRunsGiveTheSameLossesAndMetricsAtOneAndTwoThreads) {
  for (const std::string model : {"dccf", "bigcf", "lightgcn"}) expect_same_run_at_one_and_two_threads(model, "none");
}

TEST(ThreadCount, EnhancedRunsGiveTheSameParametersAtOneAndTwoThreads) {
  for (const std::string enhancer : {"irllrec", "kar", "rlmrec_con", "rlmrec_gen", "alpharec"})
    expect_same_run_at_one_and_two_threads("lightgcn", enhancer);
}
