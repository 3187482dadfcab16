// `recgrid` as a child process the test can kill: the grid, search and Slurm tests start runs in the
// background, send them signals and wait for them.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace recgrid::test {

// Starts `recgrid ARGS...` with its output (stdout and stderr) in `log`; returns the pid.
inline pid_t start_recgrid(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> full = {binary_dir() + "/bin/recgrid"};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// The child's exit status, or minus the signal that killed it.
inline int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace recgrid::test
