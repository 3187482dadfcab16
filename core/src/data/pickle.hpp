// A safe reader for the Python pickles the SSLRec/RLMRec ecosystem ships (ALGORITHMS.md §1.1, §5).
//
// It is a small pickle machine that knows only the opcodes and the handful of classes these
// files use: scipy COO matrices, numpy arrays (`_reconstruct` + BUILD, `_frombuffer`), numpy
// dtypes, `_codecs.encode` (protocol 2 byte strings) and plain containers. It never imports or
// calls anything: an unknown global or opcode is a FormatError naming the file, the byte offset
// and what was expected.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/ndarray.hpp"

namespace recgrid::data {

struct PickleValue;
using PickleValuePtr = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Class, Object, Array, DType };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;                   // Str (UTF-8), Bytes, Class/Object: "module.name"
  std::vector<PickleValuePtr> items;  // Tuple, List; Dict: key, value, key, value, ...
  PickleValuePtr state;               // Object: its BUILD state
  NdArray array;                      // Array
  DType dtype;                        // DType

  // Dict lookup by string key; nullptr if absent (or not a dict).
  PickleValuePtr get(const std::string& key) const;
};

// Parses a whole pickle. Throws FormatError.
PickleValuePtr load_pickle(const std::string& path);
PickleValuePtr parse_pickle(const std::string& bytes, const std::string& source);

// A scipy.sparse COO matrix as stored in SSLRec's trn/val/tst_mat.pkl.
struct CooMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> row, col;
  std::vector<double> data;
};
CooMatrix read_coo_pickle(const std::string& path);

// A pickled 2-D numpy array (RLMRec's usr_emb_np.pkl form) as float32.
FloatTable read_table_pickle(const std::string& path);

}  // namespace recgrid::data
