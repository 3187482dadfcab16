// A signal handler installed for a scope: the previous handlers come back when it ends. The
// training loop (SIGTERM, SIGUSR1: stop at the end of a step) and the grid scheduler (SIGINT,
// SIGTERM: stop the cells) each set a flag from their handler.
#pragma once

#include <csignal>
#include <initializer_list>
#include <vector>

namespace recgrid {

class SignalGuard {
 public:
  SignalGuard(std::initializer_list<int> signals, void (*handler)(int)) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    for (int sig : signals) {
      saved_.push_back({sig, {}});
      ::sigaction(sig, &sa, &saved_.back().old);
    }
  }
  ~SignalGuard() {
    for (const Saved& s : saved_) ::sigaction(s.sig, &s.old, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  struct Saved {
    int sig;
    struct sigaction old;
  };
  std::vector<Saved> saved_;
};

}  // namespace recgrid
