// Grid files: axes, sweeps, exclude / overrides rules, common layers, cell expansion and --only
// selections. Seeds: configs/grids/.
#include "fuzz_support.hpp"
#include "grid/grid_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recgrid;
  const std::string path = fuzz::write_scratch("grid.yaml", data, size);
  fuzz::expect_clean([&] {
    const grid::GridSpec spec = grid::load_grid(path, {});
    grid::select_cells(spec, {"seed=2023", "model=lightgcn"});
  });
  return 0;
}
