// Runs a program (no shell: arguments pass as they are) and returns its exit status and output.
// For the scheduler's commands (sbatch, squeue, scancel): short-lived, small outputs.
#pragma once

#include <string>
#include <vector>

namespace recgrid {

struct CommandResult {
  int exit_status = -1;  // the program's exit status; 127 when it could not be started
  std::string output;    // its standard output
  std::string errors;    // its standard error
};

// Runs argv[0] (looked up on PATH) with the rest as arguments and waits for it.
CommandResult run_command(const std::vector<std::string>& argv);

// True when `name` is an executable on PATH.
bool on_path(const std::string& name);

}  // namespace recgrid
