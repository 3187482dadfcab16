// The .npy reader (header dictionary, dtype, shape, Fortran order) and the float-table conversion.
// Seeds: tests/fixtures/npy (written by numpy).
#include "data/npy.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recgrid;
  fuzz::expect_clean([&] { data::parse_npy(fuzz::as_text(data, size), "fuzz"); });
  const std::string path = fuzz::write_scratch("input.npy", data, size);
  fuzz::expect_clean([&] { data::read_table(path); });
  return 0;
}
