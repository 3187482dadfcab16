#include "util/line_reader.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <cstdint>
#include <stdexcept>

namespace recgrid {

namespace {
// 1 MiB reads: the 10M-line import spends its time parsing, not in read calls, at this size. A file
// smaller than that gets 64 KiB: three 1 MiB buffers per small file made the TSV fuzz target ~100x
// slower (page faults for fresh large blocks on every execution).
constexpr unsigned kBlock = 1u << 20, kSmallBlock = 1u << 16;

unsigned block_for(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && st.st_size < static_cast<off_t>(kBlock) ? kSmallBlock : kBlock;
}
}  // namespace

LineReader::LineReader(const std::string& path)
    : file_(gzopen(path.c_str(), "rb")), path_(path), block_(block_for(path)) {
  if (!file_) throw std::runtime_error(path + ": cannot open");
  gzbuffer(static_cast<gzFile>(file_), block_);
}

LineReader::~LineReader() { gzclose(static_cast<gzFile>(file_)); }

bool LineReader::refill() {
  if (eof_) return false;
  buffer_.erase(0, pos_);
  pos_ = 0;
  const size_t kept = buffer_.size();
  buffer_.resize(kept + block_);
  const int got = gzread(static_cast<gzFile>(file_), buffer_.data() + kept, block_);
  int code = Z_OK;
  const char* why = gzerror(static_cast<gzFile>(file_), &code);
  // A truncated stream ends like a complete one (0 bytes) but leaves Z_BUF_ERROR behind.
  if (got < 0 || (got == 0 && code != Z_OK)) {
    throw std::runtime_error(path_ + ": cannot read (" + std::string(why ? why : "?") +
                             "): a damaged or truncated gzip file?");
  }
  buffer_.resize(kept + static_cast<size_t>(got));
  if (got == 0) eof_ = true;
  return got > 0;
}

bool LineReader::next(std::string& line) {
  for (;;) {
    const size_t end = buffer_.find('\n', pos_);
    if (end != std::string::npos) {
      line.assign(buffer_, pos_, end - pos_);
      pos_ = end + 1;
      break;
    }
    if (!refill()) {
      if (pos_ >= buffer_.size()) return false;
      line.assign(buffer_, pos_, std::string::npos);  // a last line without "\n"
      pos_ = buffer_.size();
      break;
    }
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  ++line_no_;
  return true;
}

}  // namespace recgrid
