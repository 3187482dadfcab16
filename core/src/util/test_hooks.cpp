#include "util/test_hooks.hpp"

#include <cstdio>
#include <cstdlib>

namespace recgrid::test_hooks {

namespace {

// The variable's value; empty when it is unset or set to nothing.
std::string value_of(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::pair<int64_t, int64_t> signal_at_step() {
  static const std::pair<int64_t, int64_t> at = [] {
    const char* v = std::getenv("RECGRID_SIGNAL_AT");
    long long e = -1, st = -1;
    if (v && std::sscanf(v, "%lld:%lld", &e, &st) != 2) e = st = -1;
    return std::pair<int64_t, int64_t>{e, st};
  }();
  return at;
}

int64_t abort_after_epoch() {
  const char* v = std::getenv("RECGRID_ABORT_AFTER_EPOCH");
  return v ? std::atoll(v) : -1;
}

std::optional<std::string> trace_file() {
  const char* v = std::getenv("RECGRID_TRACE");
  if (!v) return std::nullopt;
  return std::string(v);
}

const std::string& grad_norms_file() {
  static const std::string path = value_of("RECGRID_GRAD_NORMS");
  return path;
}

std::string test_data_checksums_file() { return value_of("RECGRID_TEST_DATA_CHECKSUMS"); }

}  // namespace recgrid::test_hooks
