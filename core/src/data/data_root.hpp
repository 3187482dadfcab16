// Where relative dataset paths start (the host key dataset.root). Left at its default, the root is
// $RECGRID_DATA_ROOT when set, else ../shared/data when that folder exists (the layout the project
// is developed in), else the user's data folder, where `recgrid data get` writes: so an experiment
// file runs after `recgrid data get NAME` with no edit.
#pragma once

#include <string>

namespace recgrid::data {

// The default of dataset.root, as written in the host-key table.
inline constexpr const char* kDefaultDataRoot = "../shared/data";

// $XDG_DATA_HOME/recgrid/data, else $HOME/.local/share/recgrid/data (the XDG base-directory rule).
std::string user_data_dir();

// `configured` is dataset.root as resolved from the configuration; any other value than the
// default is used as it is.
std::string resolve_data_root(const std::string& configured);

}  // namespace recgrid::data
