// Human-readable numbers for progress lines.
#pragma once

#include <cstdio>
#include <ctime>
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

// The current UTC time, ISO 8601 ("2026-11-26T04:00:00Z") unless another strftime format is given.
inline std::string utc_now(const char* format = "%Y-%m-%dT%H:%M:%SZ") {
  char buf[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(buf, sizeof buf, format, std::gmtime(&now));
  return buf;
}

}  // namespace recgrid
