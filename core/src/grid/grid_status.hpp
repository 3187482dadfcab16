// `recgrid status OUT`: what a grid folder holds right now, seen from any process or machine that
// shares it: cells done / running (with their epoch) / failed / interrupted / left, and a rough ETA;
// for a grid submitted to Slurm, each waiting or running cell with its task and its Slurm state.
#pragma once

#include <string>

namespace recgrid::grid {

// The status as text, one line per running or failed cell after a summary line.
std::string grid_status(const std::string& out_dir);

}  // namespace recgrid::grid
