// The independent random streams of a run (derive_seed(seed, stream, step), util/random.hpp): what
// each draw of a run depends on, so a resumed run, an export or a benchmark draws what the run drew.
#pragma once

#include <cstdint>

namespace recgrid::train {

enum Stream : uint64_t { kSampling = 1, kTorch = 2, kEvalTorch = 3 };

// The step of kEvalTorch for the final evaluation on validation, after loading best.pt (export uses
// it too); the final test evaluation's; the untrained model's evaluation before epoch 0.
constexpr uint64_t kFinalValidStream = 1000000001ULL;
constexpr uint64_t kFinalTestStream = 1000000002ULL;
constexpr uint64_t kUntrainedValidStream = 1000000003ULL;

}  // namespace recgrid::train
