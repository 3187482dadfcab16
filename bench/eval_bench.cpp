// Full-rank evaluation throughput (scores per second) at a given catalogue size, tiled vs one tile of
// every item (how the evaluator scored before), next to the rate of the matrix products alone on the
// same shapes (what this machine's sgemm reaches: the ceiling). Random 64-wide embeddings, 10
// training items per user masked. Not a test: it times, it does not assert.
//   build/bin/recgrid_eval_bench USERS ITEMS [EVAL_USERS] [BATCH] [TILES...]
// e.g. 10x amazon: recgrid_eval_bench 110000 93320 20480 1024 0 93320 256 2048 8192
// (tile 0 = the evaluator's default; EVAL_USERS users are scored, the rate does not depend on it).
// Last, the default tile once more as a run's final evaluation: every eval.* metric, the groups and the
// per-user file (written to a temporary folder), against the plain pass just before it.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "eval/evaluator.hpp"
#include "eval/final_evaluation.hpp"
#include "util/files.hpp"
#include "util/random.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// eval_users users with 10 training items and 1 test item each; the other users have none.
recgrid::data::Dataset random_dataset(int64_t users, int64_t items, int64_t eval_users) {
  recgrid::data::Dataset ds;
  ds.n_users = users, ds.n_items = items;
  std::mt19937_64 rng(1);
  for (int64_t u = 0; u < eval_users; ++u) {
    for (int k = 0; k < 10; ++k) ds.train.user.push_back(u), ds.train.item.push_back(recgrid::uniform_below(rng, items));
    ds.test.user.push_back(u), ds.test.item.push_back(recgrid::uniform_below(rng, items));
  }
  return ds;
}

// The products alone: BATCH x 64 by 64 x TILE into a reused buffer, over every tile and batch.
double sgemm_rate(const at::Tensor& u, const at::Tensor& v, int64_t eval_users, int64_t batch, int64_t tile) {
  const int64_t items = v.size(0);
  at::Tensor out = at::empty({batch, tile});
  const auto t0 = Clock::now();
  for (int64_t s = 0; s < eval_users; s += batch) {
    const int64_t b = std::min(batch, eval_users - s);
    for (int64_t lo = 0; lo < items; lo += tile) {
      const int64_t n = std::min(tile, items - lo);
      at::Tensor o = out.narrow(0, 0, b).narrow(1, 0, n);
      at::mm_out(o, u.narrow(0, s, b), v.narrow(0, lo, n).t());
    }
  }
  return static_cast<double>(eval_users) * static_cast<double>(items) / seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t users = argc > 1 ? std::atoll(argv[1]) : 11000, items = argc > 2 ? std::atoll(argv[2]) : 9332;
  const int64_t eval_users = std::min<int64_t>(users, argc > 3 ? std::atoll(argv[3]) : users);
  const int64_t batch = argc > 4 ? std::atoll(argv[4]) : 1024;
  std::vector<int64_t> tiles;
  for (int a = 5; a < argc; ++a) tiles.push_back(std::atoll(argv[a]));
  if (tiles.empty()) tiles = {0, items};
  at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  at::manual_seed(1);
  const at::Tensor u = at::randn({users, 64}), v = at::randn({items, 64});
  const recgrid::data::Dataset ds = random_dataset(users, items, eval_users);
  std::printf("%lld users x %lld items, %lld evaluated, batch %lld, %d threads, peak RSS before: %.0f MiB\n",
              static_cast<long long>(users), static_cast<long long>(items), static_cast<long long>(eval_users),
              static_cast<long long>(batch), at::get_num_threads(), recgrid::peak_rss_mib());
  std::printf("%10s %14s %14s %10s %12s\n", "tile", "eval G/s", "sgemm G/s", "ratio", "peak MiB");
  for (int64_t tile : tiles) {
    const recgrid::eval::Evaluator ev(ds, ds.test, {20}, batch, tile);
    const auto t0 = Clock::now();
    ev.run([&] { return recgrid::eval::Embeddings{u, v}; });
    const double eval_rate = static_cast<double>(eval_users) * static_cast<double>(items) / seconds_since(t0);
    const int64_t shape = tile > 0 ? std::min(tile, items)
                                   : std::clamp<int64_t>(recgrid::eval::Evaluator::kTileBytes / (4 * std::min<int64_t>(batch, recgrid::eval::Evaluator::kTileRows)), 256, items);
    const double gemm = sgemm_rate(u, v, eval_users, std::min<int64_t>(batch, recgrid::eval::Evaluator::kTileRows), shape);
    std::printf("%10lld %14.3f %14.3f %10.2f %12.0f\n", static_cast<long long>(shape), eval_rate / 1e9, gemm / 1e9,
                gemm / eval_rate, recgrid::peak_rss_mib());
  }
  const recgrid::eval::Evaluator ev(ds, ds.test, {5, 10, 20}, batch);
  const auto encode = [&] { return recgrid::eval::Embeddings{u, v}; };
  auto t0 = Clock::now();
  ev.run(encode);
  const double plain_s = seconds_since(t0);
  const std::string file = (std::filesystem::temp_directory_path() / "eval_bench_per_user.tsv.gz").string();
  t0 = Clock::now();
  recgrid::eval::evaluate_with_analysis(ev, ds, {{"coverage", "gini", "novelty", "arp"}, 4, 0.2, file}, encode);
  const double final_s = seconds_since(t0);
  std::remove(file.c_str());
  std::printf("K 5, 10, 20, default tile: plain pass %.3f s, final evaluation (eval.* metrics, groups, per-user file) "
              "%.3f s, ratio %.3f\n", plain_s, final_s, final_s / plain_s);
  return 0;
}
