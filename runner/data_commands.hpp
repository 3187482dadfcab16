// The data commands of the runner: `recgrid data import` (docs/YOUR_DATA.md).
#pragma once

#include <string>
#include <vector>

namespace recgrid {

int cmd_data(const std::vector<std::string>& args);

}  // namespace recgrid
