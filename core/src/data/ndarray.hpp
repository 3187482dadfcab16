// A numeric n-d array as numpy stores it (dtype, shape, order, raw bytes), decoded without numpy.
// Shared by the pickle reader and the .npy reader/writer.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace recgrid::data {

// A bad or unsupported input file. The message names the file and, where it applies, the byte offset.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DType {
  char kind = 0;      // 'i' signed int, 'u' unsigned int, 'f' float, 'b' bool
  int itemsize = 0;   // bytes per element
  bool little = true; // byte order of the stored data
  // Parses numpy type strings such as "<f4", "i4", "|b1", "=f8". Throws std::invalid_argument.
  static DType parse(const std::string& text);
  std::string str() const;  // "<f4" form
};

struct NdArray {
  DType dtype;
  std::vector<int64_t> shape;
  bool fortran_order = false;
  std::string bytes;  // raw element data, size = numel * itemsize

  int64_t numel() const;
  // Elements converted to double / int64, in C (row-major) order whatever the storage order.
  std::vector<double> to_double() const;
  std::vector<int64_t> to_int64() const;
  std::vector<float> to_float() const;
  // Throws FormatError naming `what` if the byte count does not match shape x itemsize.
  void check_size(const std::string& what) const;
};

// A dense float32 table, row-major: embedding files become this.
struct FloatTable {
  int64_t rows = 0, cols = 0;
  std::vector<float> values;
};

// A 2-D numeric array -> FloatTable; anything else is a FormatError naming `source`.
FloatTable to_float_table(const NdArray& array, const std::string& source);

}  // namespace recgrid::data
