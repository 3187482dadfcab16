// The first line of a LibTorch error: its message without the C++ stack LibTorch appends. What a
// user is shown (the runner's last-resort handler, a damaged checkpoint's message).
#pragma once

#include <c10/util/Exception.h>

#include <string>

namespace recgrid {

inline std::string torch_error_first_line(const c10::Error& e) {
  const std::string text = e.what_without_backtrace();
  return text.substr(0, text.find('\n'));
}

}  // namespace recgrid
