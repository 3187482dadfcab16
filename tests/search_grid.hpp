// The tiny search grid of the search tests (test_search.cpp, and on Slurm in test_slurm.cpp): 2 rows
// (LightGCN, + RLMRec-Con) x 2 seeds on tiny planted data, each row tuned by successive halving: 4
// trials at 1 epoch, the best 2 at 2, the best at 4.
#pragma once

namespace recgrid::test {

inline const char* const kSearchGrid = R"(grid:
  name: search-test
  datasets: [planted]
  models: [lightgcn]
  enhancers: [none, rlmrec_con]
  seeds: [1, 2]
dataset:
  synthetic: {users: 300, items: 250, interactions_per_user: 8}
train: {epochs: 4, test_step: 1, batch_size: 256, patience: 100}
search:
  method: halving
  trials: 4
  epochs: 4
  min_epochs: 1
  reduction: 2
  seed: 5
  space:
    train.lr: {log_uniform: [1.0e-4, 1.0e-2]}
    enhancer.rlmrec_con.kd_weight: {log_uniform: [1.0e-3, 1.0]}
)";

}  // namespace recgrid::test
