// Test-only: a valid base model whose descriptor claims another LibTorch minor version (or, built
// with RECGRID_TEST_FLIP_CXX11_ABI, the other C++ ABI flag); the host must refuse both.
#include <ATen/ATen.h>

#include "recgrid/sdk.hpp"

namespace {

class MismatchedBuild final : public recgrid::BaseModel {
 public:
  static recgrid::PluginSpec spec() { return {"mismatched", "0.0.1", "claims another build", {}}; }
  MismatchedBuild(const recgrid::Context&, const recgrid::Options&) {}
  at::Tensor layer0() override { return at::zeros({1, 1}); }
  recgrid::NamedTensors encode(recgrid::Mode, const at::Tensor&) override { return {}; }
  recgrid::NamedTensors loss(const recgrid::Batch&, const recgrid::NamedTensors&) override { return {}; }
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const rg_plugin_info* recgrid_plugin_info() {
  static rg_plugin_info info = [] {
    rg_plugin_info i = *recgrid::detail::describe<MismatchedBuild>();
#ifdef RECGRID_TEST_FLIP_CXX11_ABI
    i.cxx11_abi = 1 - i.cxx11_abi;
#else
    i.torch_minor += 1;
#endif
    return i;
  }();
  return &info;
}
