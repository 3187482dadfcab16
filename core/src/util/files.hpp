// File helpers for run folders: atomic writes (a killed process, a full disk or a file-size limit
// leaves the old file or the new one, never half of one) and small readers.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace recgrid {

// A file written in pieces to `path.tmp.<pid>` and put in place by commit() (write-out, fsync,
// rename). Any failure throws "<path>: cannot write (<cause>)" and removes the temporary file;
// `path` keeps its previous content until a commit succeeds. Not committed = never replaces `path`.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void commit();
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  std::string path_, tmp_;
  int fd_ = -1;
};

// Appends one whole line (ending in '\n') to the file open as `fd` (O_APPEND) and fsyncs it. On a failed
// write the file is cut back to its previous length, so it never ends in half a line, and the error
// names `path` and the cause.
void append_line_whole(int fd, const std::string& path, const std::string& line);
// The same for a file by name (created if missing).
void append_line_whole(const std::string& path, const std::string& line);

// Writes `text` to `path` through an AtomicFile.
void write_file_atomic(const std::string& path, const std::string& text);
// The whole file, byte for byte; nothing when it cannot be opened.
std::optional<std::string> read_whole_file(const std::string& path);
// The same, where a file that cannot be opened throws Error("<path>: cannot open file"): the data
// readers (npy, pickle) throw their FormatError, the rest std::runtime_error.
template <class Error = std::runtime_error>
std::string read_text(const std::string& path) {
  std::optional<std::string> bytes = read_whole_file(path);
  if (!bytes) throw Error(path + ": cannot open file");
  return std::move(*bytes);
}
std::vector<std::string> read_lines(const std::string& path);  // empty if the file does not exist
// "No space left on device" etc. for an errno value, with a hint for the two a user can fix.
std::string describe_write_error(int err);
// Peak resident memory of this process so far, in MiB.
double peak_rss_mib();

}  // namespace recgrid
