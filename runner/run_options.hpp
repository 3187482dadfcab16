// The options of `recgrid run`, and its parser: what a user types and what a grid starts its children
// with (grid/child_run_command.hpp, whose option names these are) go through the same description.
#pragma once

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <vector>

namespace recgrid {

// Every option of `recgrid run`: one experiment's, a grid file's and --executor slurm's.
boost::program_options::options_description run_options();

// Parses a command whose one positional argument is the experiment file (CONFIG); nothing when --help
// was asked for (the help is printed).
std::optional<boost::program_options::variables_map> parse_with_config(
    const std::vector<std::string>& args, const boost::program_options::options_description& desc);

}  // namespace recgrid
