// The native pickle reader: any byte string is parsed or refused with a FormatError; the COO and
// table readers on top of it likewise. Seeds: tests/fixtures/pickle (written by Python).
#include "data/pickle.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recgrid;
  fuzz::expect_clean([&] { data::parse_pickle(fuzz::as_text(data, size), "fuzz"); });
  const std::string path = fuzz::write_scratch("input.pkl", data, size);
  fuzz::expect_clean([&] { data::read_coo_pickle(path); });
  fuzz::expect_clean([&] { data::read_table_pickle(path); });
  return 0;
}
