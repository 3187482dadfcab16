// Human-readable numbers for progress lines.
#pragma once

#include <cstdio>
#include <string>

namespace recgrid {

// "42 s", "17 min", "2.5 h".
inline std::string format_duration(double seconds) {
  char buf[32];
  if (seconds < 90) std::snprintf(buf, sizeof buf, "%.0f s", seconds);
  else if (seconds < 5400) std::snprintf(buf, sizeof buf, "%.0f min", seconds / 60);
  else std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
  return buf;
}

}  // namespace recgrid
