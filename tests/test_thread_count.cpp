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
#include <string>
#include <vector>

#include "recgrid/ops.hpp"
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

namespace {

namespace fs = std::filesystem;

// The metrics.jsonl lines of a 2-epoch run of MODEL on the built-in planted default, times removed.
std::vector<nlohmann::json> planted_run(const std::string& model, int threads) {
  const std::string out = ::testing::TempDir() + "/threads_" + model + "_" + std::to_string(threads);
  fs::remove_all(out);
  const test::CliResult r = test::run_cli("run --no-progress --out " + out + " --set extends.model=" + model +
                                          " --set train.epochs=2 --set train.test_step=1 --set train.threads=" +
                                          std::to_string(threads));
  EXPECT_EQ(r.code, 0) << r.output;
  std::vector<nlohmann::json> lines;
  std::ifstream f(out + "/metrics.jsonl");
  for (std::string line; std::getline(f, line);) {
    if (line.empty()) continue;
    nlohmann::json m = nlohmann::json::parse(line);
    m.erase("train_time_s");
    m.erase("eval_time_s");
    if (m.contains("untrained")) m["untrained"].erase("eval_time_s");
    lines.push_back(m);
  }
  return lines;
}

}  // namespace

// The case: DCCF's losses differed in the 8th digit after epoch 0 (0.4767198860645294 at one
// thread, 0.47671987613042194 at two). Dumped JSON keeps 17 significant digits: equal text is equal bits.
TEST(ThreadCount, PlantedRunsGiveTheSameLossesAndMetricsAtOneAndTwoThreads) {
  for (const std::string model : {"dccf", "lightgcn"}) {
    SCOPED_TRACE(model);
    const auto one = planted_run(model, 1), two = planted_run(model, 2);
    ASSERT_GE(one.size(), 2u);
    ASSERT_EQ(one.size(), two.size());
    for (size_t i = 0; i < one.size(); ++i) EXPECT_EQ(one[i].dump(), two[i].dump()) << "metrics.jsonl line " << i;
  }
}
