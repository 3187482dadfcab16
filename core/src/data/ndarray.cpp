#include "data/ndarray.hpp"

#include <cstring>
#include <functional>

namespace recgrid::data {

DType DType::parse(const std::string& text) {
  std::string t = text;
  DType d;
  if (!t.empty() && (t[0] == '<' || t[0] == '>' || t[0] == '|' || t[0] == '=')) {
    d.little = t[0] != '>';
    t = t.substr(1);
  }
  if (t.size() < 2) throw std::invalid_argument("unsupported dtype '" + text + "'");
  d.kind = t[0];
  try {
    d.itemsize = std::stoi(t.substr(1));
  } catch (const std::exception&) {
    throw std::invalid_argument("unsupported dtype '" + text + "'");
  }
  const bool ok = (d.kind == 'f' && (d.itemsize == 4 || d.itemsize == 8)) ||
                  ((d.kind == 'i' || d.kind == 'u') &&
                   (d.itemsize == 1 || d.itemsize == 2 || d.itemsize == 4 || d.itemsize == 8)) ||
                  (d.kind == 'b' && d.itemsize == 1);
  if (!ok) throw std::invalid_argument("unsupported dtype '" + text + "' (numeric int/uint/float/bool only)");
  return d;
}

std::string DType::str() const {
  return std::string(itemsize == 1 ? "|" : (little ? "<" : ">")) + kind + std::to_string(itemsize);
}

int64_t NdArray::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

void NdArray::check_size(const std::string& what) const {
  const int64_t expected = numel() * dtype.itemsize;
  if (static_cast<int64_t>(bytes.size()) != expected)
    throw FormatError(what + ": array data has " + std::to_string(bytes.size()) + " bytes, expected " +
                      std::to_string(expected) + " for shape and dtype " + dtype.str());
}

namespace {

// Reads element k of the raw buffer as T, honouring the stored byte order.
template <class T>
T load(const std::string& bytes, int64_t k, bool little) {
  unsigned char buf[sizeof(T)];
  std::memcpy(buf, bytes.data() + k * sizeof(T), sizeof(T));
  if (!little)
    for (size_t a = 0, b = sizeof(T) - 1; a < b; ++a, --b) std::swap(buf[a], buf[b]);
  T v;
  std::memcpy(&v, buf, sizeof(T));
  return v;
}

// Visits every element in C order, converted through `Out`.
template <class Out>
std::vector<Out> convert(const NdArray& a) {
  const int64_t n = a.numel();
  std::vector<Out> flat(n);
  auto get = [&](int64_t k) -> Out {
    switch (a.dtype.kind) {
      case 'f': return a.dtype.itemsize == 4 ? static_cast<Out>(load<float>(a.bytes, k, a.dtype.little))
                                             : static_cast<Out>(load<double>(a.bytes, k, a.dtype.little));
      case 'b': return static_cast<Out>(load<uint8_t>(a.bytes, k, true) != 0);
      case 'i':
        switch (a.dtype.itemsize) {
          case 1: return static_cast<Out>(load<int8_t>(a.bytes, k, a.dtype.little));
          case 2: return static_cast<Out>(load<int16_t>(a.bytes, k, a.dtype.little));
          case 4: return static_cast<Out>(load<int32_t>(a.bytes, k, a.dtype.little));
          default: return static_cast<Out>(load<int64_t>(a.bytes, k, a.dtype.little));
        }
      default:
        switch (a.dtype.itemsize) {
          case 1: return static_cast<Out>(load<uint8_t>(a.bytes, k, a.dtype.little));
          case 2: return static_cast<Out>(load<uint16_t>(a.bytes, k, a.dtype.little));
          case 4: return static_cast<Out>(load<uint32_t>(a.bytes, k, a.dtype.little));
          default: return static_cast<Out>(load<uint64_t>(a.bytes, k, a.dtype.little));
        }
    }
  };
  if (!a.fortran_order || a.shape.size() < 2) {
    for (int64_t k = 0; k < n; ++k) flat[k] = get(k);
    return flat;
  }
  // Fortran order: the first index varies fastest in storage. Map each C-order position to it.
  const size_t nd = a.shape.size();
  std::vector<int64_t> fstride(nd, 1);
  for (size_t d = 1; d < nd; ++d) fstride[d] = fstride[d - 1] * a.shape[d - 1];
  std::vector<int64_t> idx(nd, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (size_t d = 0; d < nd; ++d) src += idx[d] * fstride[d];
    flat[k] = get(src);
    for (size_t d = nd; d-- > 0;) {  // advance the C-order multi-index
      if (++idx[d] < a.shape[d]) break;
      idx[d] = 0;
    }
  }
  return flat;
}

}  // namespace

std::vector<double> NdArray::to_double() const { return convert<double>(*this); }
std::vector<int64_t> NdArray::to_int64() const {
  if (dtype.kind == 'f') throw FormatError("expected an integer array, found dtype " + dtype.str());
  return convert<int64_t>(*this);
}
std::vector<float> NdArray::to_float() const { return convert<float>(*this); }

FloatTable to_float_table(const NdArray& array, const std::string& source) {
  if (array.shape.size() != 2)
    throw FormatError(source + ": expected a 2-D array, found " + std::to_string(array.shape.size()) + " dimensions");
  if (array.dtype.kind != 'f' && array.dtype.kind != 'i' && array.dtype.kind != 'u')
    throw FormatError(source + ": expected a numeric array, found dtype " + array.dtype.str());
  array.check_size(source);
  FloatTable t;
  t.rows = array.shape[0];
  t.cols = array.shape[1];
  t.values = array.to_float();
  return t;
}

}  // namespace recgrid::data
