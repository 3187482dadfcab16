// "Only one process runs this cell": an exclusive flock(2) on CELL/lock.
//
// Why flock and not "create the file if absent": a lock file left by a process that died (SIGKILL,
// power loss, a Slurm job cancelled) would block the cell forever or need a guess about staleness.
// The kernel drops a flock when the last descriptor holding it closes, so a dead holder's lock is
// free at once (stale-lock recovery without timeouts). The file itself stays and records, for
// people, who held it last (host, pid, time). On NFS, Linux maps flock to NFS byte-range locks,
// which the server releases when the holder's lease expires.
//
// The descriptor is inherited by the cell's child process (see grid_runner.cpp), so the lock lives
// as long as either the grid process or the training process does.
#pragma once

#include <memory>
#include <string>

namespace recgrid::grid {

class CellLock {
 public:
  // The lock, or nullptr if another process holds it. Creates the folder and the file if needed.
  static std::unique_ptr<CellLock> try_acquire(const std::string& cell_dir);
  ~CellLock();  // releases
  CellLock(const CellLock&) = delete;
  CellLock& operator=(const CellLock&) = delete;

  int fd() const { return fd_; }
  // What the file says about its last holder ("host pid 1234 since 2026-11-26T04:00:00Z"), or "".
  static std::string last_holder(const std::string& cell_dir);

 private:
  explicit CellLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace recgrid::grid
