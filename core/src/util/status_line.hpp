// One line at the bottom of a terminal that is redrawn in place (\r + erase), with event lines
// printed above it: the training progress bar, the grid's status line and the LLM generation line.
// On a stream that is not a terminal nothing is redrawn; events are plain lines.
#pragma once

#include <iostream>
#include <string>

namespace recgrid {

class StatusLine {
 public:
  explicit StatusLine(bool tty, std::ostream& out = std::cerr) : tty_(tty), out_(out) {}
  bool tty() const { return tty_; }
  // Replaces the status line (terminals only).
  void draw(const std::string& text) {
    if (!tty_) return;
    out_ << "\r\033[K" << text << std::flush;
    drawn_ = true;
  }
  // A line that stays: the status line is erased first (and drawn again by the next draw()).
  void event(const std::string& text) {
    clear();
    out_ << text << std::endl;
  }
  void clear() {
    if (drawn_) out_ << "\r\033[K" << std::flush;
    drawn_ = false;
  }
  bool drawn() const { return drawn_; }

 private:
  bool tty_;
  std::ostream& out_;
  bool drawn_ = false;
};

}  // namespace recgrid
