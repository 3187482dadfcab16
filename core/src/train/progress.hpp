// A one-line progress display on a terminal (stderr); silent when stderr is not a TTY.
#pragma once

#include <chrono>
#include <string>

#include "util/status_line.hpp"

namespace recgrid::train {

class Progress {
 public:
  explicit Progress(bool enabled);
  // Redraws at most ~10 times a second.
  void update(int64_t epoch, int64_t max_epochs, int64_t step, int64_t steps, double loss, const std::string& best);
  void clear();  // erase the line before other output
  bool enabled() const { return line_.tty(); }

 private:
  StatusLine line_;
  std::chrono::steady_clock::time_point last_;
};

// True when stderr is a terminal.
bool stderr_is_tty();

}  // namespace recgrid::train
