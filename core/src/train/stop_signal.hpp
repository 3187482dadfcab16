// The stop signal of a training run: SIGTERM, or SIGUSR1 (what `sbatch --signal=USR1@120` sends ahead
// of a time limit). The handler only records it; the epoch loop stops at the end of the current step
// (resumable_stop.hpp) and run_training throws Interrupted (trainer.hpp).
#pragma once

#include <csignal>

namespace recgrid::train {

// Forgets a signal of an earlier run in this process.
void clear_stop_signal();

// The stop signal received since (0: none).
int stop_signal();

// The handler that records it (installed with a SignalGuard for SIGTERM and SIGUSR1).
extern "C" void on_training_stop(int sig);

}  // namespace recgrid::train
