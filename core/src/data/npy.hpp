// NumPy .npy files (format versions 1.0, 2.0 and 3.0): read any numeric array, write float32 tables.
#pragma once

#include <string>

#include "data/ndarray.hpp"

namespace recgrid::data {

NdArray read_npy(const std::string& path);
NdArray parse_npy(const std::string& bytes, const std::string& source);
FloatTable read_table_npy(const std::string& path);

// Writes a C-ordered array (version 1.0 header). Written to `path.tmp` and renamed: atomic.
void write_npy(const std::string& path, const NdArray& array);
void write_table_npy(const std::string& path, const FloatTable& table);

// Reads a float table from .npy or from a pickled numpy array, chosen by the file's magic bytes.
FloatTable read_table(const std::string& path);

}  // namespace recgrid::data
