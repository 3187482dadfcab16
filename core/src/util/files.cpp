#include "util/files.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace recgrid {

std::string describe_write_error(int err) {
  std::string text = std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) text += ": free some space or choose another --out";
  if (err == EFBIG) text += ": the file-size limit (ulimit -f) is too small for it";
  return text;
}

namespace {

// Writes all of data (short writes continue, EINTR retries); 0, or the errno of the failure (ENOSPC
// for a write that wrote nothing).
int write_all(int fd, const char* data, size_t size) {
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : ENOSPC;
    done += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());  // concurrent writers never share one
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot create " + tmp_, errno);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {  // never committed: the previous file stays
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFile::fail(const std::string& what, int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  throw std::runtime_error(path_ + ": " + what + " (" + describe_write_error(err) + "); the previous " + path_ +
                           ", if any, is unchanged");
}

void AtomicFile::write(const void* data, size_t size) {
  if (fd_ < 0) throw std::logic_error(path_ + ": write after commit or failure");
  if (const int err = write_all(fd_, static_cast<const char*>(data), size)) fail("cannot write", err);
}

void AtomicFile::commit() {
  if (fd_ < 0) throw std::logic_error(path_ + ": commit after commit or failure");
  // Delayed allocation can report a full disk only at fsync or close: both are checked.
  if (::fsync(fd_) != 0) fail("cannot flush to disk", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    throw std::runtime_error(path_ + ": cannot write (" + describe_write_error(err) + "); the previous file is unchanged");
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    throw std::runtime_error(path_ + ": cannot put " + tmp_ + " in place (" + std::strerror(err) + ")");
  }
}

void append_line_whole(int fd, const std::string& path, const std::string& line) {
  const off_t before = ::lseek(fd, 0, SEEK_END);
  int err = write_all(fd, line.data(), line.size());  // one write normally; a short write continues the line
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (err == 0) return;
  // Cut the torn line off; if even that fails, the reader drops a torn last line.
  if (before >= 0 && ::ftruncate(fd, before) != 0) {
  }
  throw std::runtime_error(path + ": cannot append (" + describe_write_error(err) +
                           "); the lines written before are unchanged");
}

void append_line_whole(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(path + ": cannot open for appending (" + describe_write_error(errno) + ")");
  try {
    append_line_whole(fd, path, line);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void write_file_atomic(const std::string& path, const std::string& text) {
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

double peak_rss_mib() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace recgrid
