// A gzip file written in pieces and put in place atomically (an AtomicFile underneath: a killed
// process leaves the previous file or none, never half of one). The per-user results files use it.
#pragma once

#include <memory>
#include <string>

#include "util/files.hpp"

namespace recgrid {

class GzipAtomicWriter {
 public:
  explicit GzipAtomicWriter(std::string path, int level = 6);
  ~GzipAtomicWriter();
  GzipAtomicWriter(const GzipAtomicWriter&) = delete;
  GzipAtomicWriter& operator=(const GzipAtomicWriter&) = delete;

  void write(const std::string& text);
  // Finishes the gzip stream and renames the file into place.
  void commit();

 private:
  void deflate_into_file(const char* data, size_t size, int flush);

  AtomicFile file_;
  struct Stream;
  std::unique_ptr<Stream> stream_;
  bool finished_ = false;
};

}  // namespace recgrid
