// The text commands of the runner: `recgrid text build|check`, `recgrid intents generate`,
// `recgrid embed` (docs/TEXT.md).
#pragma once

#include <string>
#include <vector>

namespace recgrid {

int cmd_text(const std::vector<std::string>& args);
int cmd_intents(const std::vector<std::string>& args);
int cmd_embed(const std::vector<std::string>& args);

}  // namespace recgrid
