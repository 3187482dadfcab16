// Micro-benchmark of the streamed log-sum-exp (recgrid::ops::logsumexp_similarity), forward and
// backward, on unit-length rows: the kernel under every all-nodes / all-users InfoNCE.
// and of the single-sweep weighted sum under the InfoNCE losses (ops::weighted_logsumexp_similarity_sum):
//   build/bin/recgrid_lse_bench ROWS KEYS [DIM] [INV_TAU] [CHUNK] [REPEATS] [lse|weighted]
// e.g. amazon's translation term: recgrid_lse_bench 20332 20332 32 1 1024 5
//      RLMRec-Con's user term:      recgrid_lse_bench 3400 11000 32 5 2048 7 weighted
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "recgrid/ops.hpp"

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 20332, keys = argc > 2 ? std::atoll(argv[2]) : 20332;
  const int64_t dim = argc > 3 ? std::atoll(argv[3]) : 32;
  const double inv_tau = argc > 4 ? std::atof(argv[4]) : 1.0;
  const int64_t chunk = argc > 5 ? std::atoll(argv[5]) : 1024;
  const int repeats = argc > 6 ? std::atoi(argv[6]) : 5;
  const bool weighted = argc > 7 && std::string(argv[7]) == "weighted";
  at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  at::manual_seed(1);
  const at::Tensor q0 = at::randn({rows, dim}), k0 = at::randn({keys, dim});
  std::vector<double> fwd, bwd;
  for (int r = 0; r < repeats; ++r) {
    const at::Tensor q = (q0 / q0.norm(2, 1, true)).requires_grad_(true);
    const at::Tensor k = (k0 / k0.norm(2, 1, true)).requires_grad_(true);
    const auto t0 = std::chrono::steady_clock::now();
    const at::Tensor loss = weighted ? recgrid::ops::weighted_logsumexp_similarity_sum(q, k, inv_tau, at::ones({rows}), {}, chunk)
                                     : recgrid::ops::logsumexp_similarity(q, k, inv_tau, chunk).sum();
    const auto t1 = std::chrono::steady_clock::now();
    loss.backward();
    const auto t2 = std::chrono::steady_clock::now();
    fwd.push_back(std::chrono::duration<double>(t1 - t0).count());
    bwd.push_back(std::chrono::duration<double>(t2 - t1).count());
  }
  std::sort(fwd.begin(), fwd.end());
  std::sort(bwd.begin(), bwd.end());
  const double sims = static_cast<double>(rows) * static_cast<double>(keys);
  std::printf("%s %lld x %lld (d %lld, chunk %lld, %d threads): forward %.3f s, backward %.3f s (medians of %d); "
              "%.0f M similarities/s forward+backward\n",
              weighted ? "weighted sum" : "lse", static_cast<long long>(rows), static_cast<long long>(keys), static_cast<long long>(dim),
              static_cast<long long>(chunk), at::get_num_threads(), fwd[fwd.size() / 2], bwd[bwd.size() / 2], repeats,
              sims / (fwd[fwd.size() / 2] + bwd[bwd.size() / 2]) / 1e6);
  return 0;
}
