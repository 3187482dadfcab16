// TSV splits: the input is cut at "\n--\n" into train.tsv, valid.tsv and test.tsv of one folder,
// then loaded and checked as a dataset (ids, duplicates, splits that share interactions).
#include "data/dataset.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recgrid;
  const std::string text = fuzz::as_text(data, size);
  std::string parts[3];
  size_t start = 0;
  for (int k = 0; k < 3; ++k) {
    const size_t cut = k < 2 ? text.find("\n--\n", start) : std::string::npos;
    parts[k] = text.substr(start, cut == std::string::npos ? std::string::npos : cut - start + 1);
    start = cut == std::string::npos ? text.size() : cut + 4;
  }
  const char* names[3] = {"train.tsv", "valid.tsv", "test.tsv"};
  for (int k = 0; k < 3; ++k)
    fuzz::write_scratch(names[k], reinterpret_cast<const uint8_t*>(parts[k].data()), parts[k].size());
  fuzz::expect_clean([&] { data::load_tsv(fuzz::scratch_dir()); });
  return 0;
}
