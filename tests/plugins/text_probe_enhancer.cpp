// Test-only enhancer that declares a text input: its loss is the mean, over the batch's positive
// items, of the row sums of the item table it was given (so a test can check what arrived).
#include <ATen/ATen.h>

#include "recgrid/sdk.hpp"

namespace {

class TextProbe final : public recgrid::Enhancer {
 public:
  static recgrid::PluginSpec spec() {
    return {"text_probe",
            "0.0.1",
            "test-only enhancer reading an item embedding table",
            {},
            {{"profile_item", RG_ROWS_ITEMS, 0, "item profile embeddings"}}};
  }
  TextProbe(const recgrid::Context& ctx, const recgrid::Options&) : table_(ctx.inputs.at("profile_item")) {}
  recgrid::NamedTensors loss(const recgrid::Batch& b, const recgrid::NamedTensors&) override {
    recgrid::NamedTensors out;
    out.add("text", table_.index_select(0, b.pos).sum(1).mean());
    return out;
  }

 private:
  at::Tensor table_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(TextProbe)
