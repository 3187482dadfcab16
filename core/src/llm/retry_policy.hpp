// When and how long to wait before asking a server again.
//
//   retryable: no response (connection refused, timeout), 408, 409, 429 and 5xx
//   delay(attempt) = min(max_delay, base_delay * 2^attempt) * U(0.5, 1.0)   (exponential backoff
//                    with jitter, so many workers do not retry in lockstep)
//   a Retry-After header wins when it asks for longer (never less than the server asked)
#pragma once

#include <cstdint>
#include <random>

#include "llm/http_client.hpp"

namespace recgrid::llm {

struct RetryPolicy {
  int max_attempts = 6;        // including the first
  double base_delay_s = 1.0;
  double max_delay_s = 60.0;

  static bool retryable(const HttpResponse& r) {
    return r.status == 0 || r.status == 408 || r.status == 409 || r.status == 429 || r.status >= 500;
  }
  // Seconds to wait after failed attempt number `attempt` (0-based).
  double delay_s(int attempt, const HttpResponse& r, std::mt19937_64& rng) const {
    double d = base_delay_s;
    for (int k = 0; k < attempt && d < max_delay_s; ++k) d *= 2;
    if (d > max_delay_s) d = max_delay_s;
    d *= std::uniform_real_distribution<double>(0.5, 1.0)(rng);
    return r.retry_after_s > d ? r.retry_after_s : d;
  }
};

}  // namespace recgrid::llm
