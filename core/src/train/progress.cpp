#include "train/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace recgrid::train {

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(bool enabled) : line_(enabled) {}

void Progress::update(int64_t epoch, int64_t max_epochs, int64_t step, int64_t steps, double loss,
                      const std::string& best) {
  if (!line_.tty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (line_.drawn() && step != steps && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  constexpr int kWidth = 20;
  const int filled = steps > 0 ? static_cast<int>(kWidth * step / steps) : kWidth;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, ' ');
  char text[256];
  std::snprintf(text, sizeof text, "epoch %lld/%lld [%s] %lld/%lld  loss %.4f  %s", static_cast<long long>(epoch),
                static_cast<long long>(max_epochs), bar.c_str(), static_cast<long long>(step),
                static_cast<long long>(steps), loss, best.c_str());
  line_.draw(text);
}

void Progress::clear() { line_.clear(); }

}  // namespace recgrid::train
