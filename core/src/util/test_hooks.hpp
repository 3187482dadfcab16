// The environment variables that tests and developers set to reach inside a run, declared in one
// place: each one's name, what it does and who sets it. Production code reads them only through these
// accessors; a run that sets none behaves as if they did not exist. docs/RELIABILITY.md ("Test hooks")
// lists them for readers of the docs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace recgrid::test_hooks {

// RECGRID_SIGNAL_AT=EPOCH:STEP: a training run sends itself SIGTERM after that step of that epoch, so
// a test stops it inside an epoch at a known place instead of racing it. Set by
// Runner.AStopSignalCheckpointsTheStepAndResumeGivesTheSameNumbers,
// LearningCheck.TheUntrainedEvaluationIsRecordedAcrossAStopInsideEpochZero and
// GridCli.ACellStoppedByASignalIsInterruptedNotFailedAndResumes. Read once per process; {-1, -1}
// when unset or not EPOCH:STEP.
std::pair<int64_t, int64_t> signal_at_step();

// RECGRID_ABORT_AFTER_EPOCH=N: a training run exits with status 75 at once (no unwinding, as a crash)
// after epoch N's evaluation and checkpoint are written. Set by
// Runner.SameSeedSameNumbersAndResumeAfterACrash and Reliability.ADamagedCheckpointIsExplained.
// -1 when unset.
int64_t abort_after_epoch();

// RECGRID_TRACE=FILE: a Chrome trace of the operators of the second training epoch of a run, for
// developers (docs/PERFORMANCE.md). None when unset.
std::optional<std::string> trace_file();

// RECGRID_GRAD_NORMS=FILE: every training step appends the gradient norm of each loss term (over all
// parameters and over the ID tables) to FILE, for developers (train/grad_norms.hpp,
// docs/RELIABILITY.md). Read once per process; empty when unset.
const std::string& grad_norms_file();

// RECGRID_TEST_DATA_CHECKSUMS=FILE: a SHA256SUMS-style file that replaces the published checksums of
// `recgrid data get`, so the tests fetch small fixture files from a local server. Set by the DataGet
// tests (tests/test_fetch.cpp). Empty when unset.
std::string test_data_checksums_file();

}  // namespace recgrid::test_hooks
