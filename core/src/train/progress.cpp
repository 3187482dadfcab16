#include "train/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace recgrid::train {

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(bool enabled) : enabled_(enabled) {}

void Progress::update(int64_t epoch, int64_t max_epochs, int64_t step, int64_t steps, double loss,
                      const std::string& best) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && step != steps && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  constexpr int kWidth = 20;
  const int filled = steps > 0 ? static_cast<int>(kWidth * step / steps) : kWidth;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld  loss %.4f  %s", static_cast<long long>(epoch),
               static_cast<long long>(max_epochs), bar.c_str(), static_cast<long long>(step),
               static_cast<long long>(steps), loss, best.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::clear() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace recgrid::train
