// Lines of a text file, gzip-compressed or not (zlib reads an uncompressed file as it is), in large
// blocks: `recgrid data import` reads 10-million-line files through it.
#pragma once

#include <cstdint>
#include <string>

namespace recgrid {

class LineReader {
 public:
  explicit LineReader(const std::string& path);  // throws "PATH: cannot open"
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its "\n" (nor a "\r" before it); false at the end of the file.
  bool next(std::string& line);
  // 1-based number of the line `next` returned last.
  uint64_t line_number() const { return line_no_; }

 private:
  bool refill();

  void* file_;  // gzFile
  std::string path_, buffer_;
  size_t pos_ = 0;
  bool eof_ = false;
  uint64_t line_no_ = 0;
  unsigned block_;  // bytes a read asks for (1 MiB; 64 KiB for a small file)
};

}  // namespace recgrid
