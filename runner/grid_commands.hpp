// The grid commands of the runner: `recgrid run GRID.yaml` (here, or on Slurm with --executor slurm),
// `recgrid status GRID_DIR` and `recgrid cancel GRID_DIR`. docs/GRIDS.md, docs/CLUSTER.md.
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

#include "plugin/loader.hpp"

namespace recgrid {

// The options `recgrid run` takes for a grid file (shown by `recgrid run --help`).
boost::program_options::options_description grid_run_options();
boost::program_options::options_description slurm_run_options();

// `recgrid run GRID.yaml`: every cell of this shard, finished ones skipped, interrupted ones resumed;
// or, with --executor slurm, the unfinished cells submitted as a Slurm job array.
int run_grid_file(const std::string& file, const std::vector<std::string>& sets,
                  const boost::program_options::variables_map& vm, const plugin::Registry& registry);

int cmd_status(const std::vector<std::string>& args);
int cmd_cancel(const std::vector<std::string>& args);

}  // namespace recgrid
