#include "grid/cell_pairs.hpp"

#include <set>
#include <string>

#include "config/config.hpp"
#include "plugin/encoding_pairs.hpp"

namespace recgrid::grid {

void check_cell_pairs(const GridSpec& spec, const plugin::Registry& registry) {
  std::set<std::string> seen;  // a pair's message once, though many cells (seeds, sweeps) share it
  std::string failures;
  for (const CellSpec& cell : spec.cells) {
    config::Config cfg = cell.config;
    const config::RunConfig run = config::resolve(cfg, registry.schema_lookup()).run;
    try {
      plugin::check_encoding_pairs(run, registry);
    } catch (const config::ConfigError& e) {
      if (seen.insert(e.what()).second) failures += "\n  cell " + cell.id + ": " + e.what();
    }
  }
  if (!failures.empty())
    throw config::ConfigError(spec.file + ": no cell started: a base model does not give what an enhancer it is paired "
                              "with needs" + failures);
}

}  // namespace recgrid::grid
