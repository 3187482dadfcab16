// The data commands of the runner: `recgrid data import` (docs/YOUR_DATA.md) and `recgrid data get`
// (the paper's datasets, checksum-checked: README, "The data sets").
#pragma once

#include <string>
#include <vector>

namespace recgrid {

int cmd_data(const std::vector<std::string>& args);

}  // namespace recgrid
