#include "train/stop_signal.hpp"

namespace recgrid::train {

namespace {
volatile std::sig_atomic_t g_training_stop = 0;
}  // namespace

void clear_stop_signal() { g_training_stop = 0; }

int stop_signal() { return static_cast<int>(g_training_stop); }

extern "C" void on_training_stop(int sig) { g_training_stop = sig; }

}  // namespace recgrid::train
