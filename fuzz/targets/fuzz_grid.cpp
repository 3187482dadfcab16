// Grid files: axes, sweeps, exclude / overrides rules, common layers, cell expansion and --only
// selections, a search block's rungs and draws. Seeds: configs/grids/.
#include <algorithm>

#include "fuzz_support.hpp"
#include "grid/grid_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recgrid;
  const std::string path = fuzz::write_scratch("grid.yaml", data, size);
  fuzz::expect_clean([&] {
    const grid::GridSpec spec = grid::load_grid(path, {});
    grid::select_cells(spec, {"seed=2023", "model=lightgcn"});
    if (spec.search.enabled) {  // its rungs and the first trials' draws
      const std::vector<int> rungs = spec.search.rungs();
      for (size_t k = 0; k < rungs.size(); ++k) spec.search.trials_at_rung(k);
      for (int t = 0; t < std::min(spec.search.trials, 4); ++t) spec.search.values_of(t);
    }
  });
  return 0;
}
