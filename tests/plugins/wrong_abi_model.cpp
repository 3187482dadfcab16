// Test-only: a base model built with RECGRID_ABI_VERSION=99; the host must refuse to load it.
#include <ATen/ATen.h>

#include "recgrid/sdk.hpp"

namespace {

class WrongAbiModel final : public recgrid::BaseModel {
 public:
  static recgrid::PluginSpec spec() { return {"wrong_abi", "0.0.1", "built for another ABI version", {}}; }
  WrongAbiModel(const recgrid::Context&, const recgrid::Options&) {}
  at::Tensor layer0() override { return at::zeros({1, 1}); }
  recgrid::NamedTensors encode(recgrid::Mode, const at::Tensor&) override { return {}; }
  recgrid::NamedTensors loss(const recgrid::Batch&, const recgrid::NamedTensors&) override { return {}; }
};

}  // namespace

RECGRID_EXPORT_PLUGIN(WrongAbiModel)
