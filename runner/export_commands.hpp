// `recgrid export RUN_DIR` and `recgrid recommend RUN_DIR --user ID`: embeddings and top-K lists of a
// trained run, with the dataset's original ids and item titles.
#pragma once

#include <string>
#include <vector>

namespace recgrid {

int cmd_export(const std::vector<std::string>& args);
int cmd_recommend(const std::vector<std::string>& args);

}  // namespace recgrid
