#include "grid/cell_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "util/files.hpp"
#include "util/format.hpp"

namespace recgrid::grid {

namespace {

std::string holder_note() {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + " pid " + std::to_string(::getpid()) + " since " + utc_now() + "\n";
}

}  // namespace

std::unique_ptr<CellLock> CellLock::try_acquire(const std::string& cell_dir) {
  std::filesystem::create_directories(cell_dir);
  const std::string path = cell_dir + "/lock";
  // Close-on-exec: only the child that runs this cell keeps a copy (grid_runner.cpp clears the flag
  // in that child), not the children of other cells.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(path + ": cannot open lock file: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return nullptr;
    throw std::runtime_error(path + ": flock failed: " + std::strerror(err) +
                             " (the grid folder must be on a file system with working locks)");
  }
  const std::string note = holder_note();
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const ssize_t n = ::pwrite(fd, note.data(), note.size(), 0);
  }
  return std::unique_ptr<CellLock>(new CellLock(fd));
}

CellLock::~CellLock() { ::close(fd_); }  // closing drops the flock (unless a child still holds a copy)

std::string CellLock::last_holder(const std::string& cell_dir) {
  const auto lines = read_lines(cell_dir + "/lock");
  return lines.empty() ? "" : lines.front();
}

}  // namespace recgrid::grid
