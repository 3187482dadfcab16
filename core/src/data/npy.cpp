#include "data/npy.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "data/pickle.hpp"
#include "util/files.hpp"

namespace recgrid::data {

namespace {

const char kMagic[] = "\x93NUMPY";

// Finds `'key': value` in the header dict literal; returns the value text.
std::string header_field(const std::string& header, const std::string& key, const std::string& source) {
  const std::regex re("'" + key + "'\\s*:\\s*('[^']*'|True|False|\\([^)]*\\))");
  std::smatch m;
  if (!std::regex_search(header, m, re)) throw FormatError(source + ": .npy header has no '" + key + "' entry");
  return m[1].str();
}

}  // namespace

NdArray parse_npy(const std::string& bytes, const std::string& source) {
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0)
    throw FormatError(source + ": byte 0: expected the .npy magic \\x93NUMPY");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw FormatError(source + ": byte 8: file ends inside the .npy preamble");
    header_len = 0;
    for (int k = 0; k < 4; ++k) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + k])) << (8 * k);
    offset = 12;
  } else {
    throw FormatError(source + ": byte 6: unsupported .npy format version " + std::to_string(major));
  }
  if (offset + header_len > bytes.size())
    throw FormatError(source + ": byte " + std::to_string(offset) + ": file ends inside the .npy header");
  const std::string header = bytes.substr(offset, header_len);
  NdArray a;
  std::string descr = header_field(header, "descr", source);
  try {
    a.dtype = DType::parse(descr.substr(1, descr.size() - 2));
  } catch (const std::invalid_argument& e) {
    throw FormatError(source + ": byte " + std::to_string(offset) + ": " + e.what());
  }
  a.fortran_order = header_field(header, "fortran_order", source) == "True";
  const std::string shape = header_field(header, "shape", source);
  std::stringstream ss(shape.substr(1, shape.size() - 2));
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.find_first_not_of(" \t") == std::string::npos) continue;
    try {
      a.shape.push_back(std::stoll(part));
    } catch (const std::exception&) {
      throw FormatError(source + ": byte " + std::to_string(offset) + ": bad shape " + shape);
    }
  }
  a.bytes = bytes.substr(offset + header_len);
  a.check_size(source);
  return a;
}

NdArray read_npy(const std::string& path) { return parse_npy(read_text<FormatError>(path), path); }

FloatTable read_table_npy(const std::string& path) { return to_float_table(read_npy(path), path); }

namespace {

// The .npy header for a C-order array: magic, version 1.0, length, the dict padded to 64 bytes.
void write_npy_header(AtomicFile& f, const std::string& descr, bool fortran_order, const std::vector<int64_t>& dims) {
  std::string shape = "(";
  for (size_t d = 0; d < dims.size(); ++d) shape += (d ? ", " : "") + std::to_string(dims[d]);
  shape += dims.size() == 1 ? ",)" : ")";  // numpy writes 1-tuples as (n,)
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran_order ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  // Pad with spaces so that magic + len + header + '\n' is a multiple of 64 bytes.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  f.write(kMagic, 6);
  const char version[2] = {1, 0};
  f.write(version, 2);
  const uint16_t n = static_cast<uint16_t>(header.size());
  const char len[2] = {static_cast<char>(n & 0xFF), static_cast<char>(n >> 8)};
  f.write(len, 2);
  f.write(header.data(), header.size());
}

}  // namespace

void write_npy(const std::string& path, const NdArray& array) {
  array.check_size(path);
  AtomicFile f(path);  // a failed write (disk full, size limit) keeps the previous table
  write_npy_header(f, array.dtype.str(), array.fortran_order, array.shape);
  f.write(array.bytes.data(), array.bytes.size());
  f.commit();
}

// Straight from the table's floats (a 1.1 M x 128 table is 563 MB: no copy of it).
void write_table_npy(const std::string& path, const FloatTable& table) {
  AtomicFile f(path);
  write_npy_header(f, "<f4", false, {table.rows, table.cols});
  f.write(table.values.data(), table.values.size() * sizeof(float));
  f.commit();
}

FloatTable read_table(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw FormatError(path + ": cannot open file");
  char head[6] = {0};
  f.read(head, 6);
  if (f.gcount() == 6 && std::memcmp(head, kMagic, 6) == 0) return read_table_npy(path);
  return read_table_pickle(path);
}

}  // namespace recgrid::data
