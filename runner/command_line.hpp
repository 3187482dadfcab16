// The parsing every runner command shares: store the options, answer --help with the option list,
// then check required options (so --help works without them).
#pragma once

#include <boost/program_options.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace recgrid {

// "out,o": how Boost.Program_options declares an option with a one-letter form.
inline std::string with_letter(const char* name, char letter) { return std::string(name) + "," + letter; }

// The parsed options, or nothing when --help was asked for (the help is printed).
inline std::optional<boost::program_options::variables_map> parse_command(
    const std::vector<std::string>& args, const boost::program_options::options_description& visible,
    const boost::program_options::options_description& hidden = {},
    const boost::program_options::positional_options_description& positional = {}) {
  namespace po = boost::program_options;
  po::options_description all;
  all.add(visible).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << visible << "\n";
    return std::nullopt;
  }
  po::notify(vm);
  return vm;
}

}  // namespace recgrid
