// Test-only: a valid enhancer whose descriptor is the size it had before `text_side` was appended
// within ABI 2 (the host must load it and never read the missing field), or, built with
// RECGRID_TEST_BIGGER_DESCRIPTOR, larger than the host's (a newer ABI 2 the host cannot know: refused).
#include <ATen/ATen.h>

#include <cstddef>
#include <cstdlib>

#include "recgrid/sdk.hpp"

namespace {

class OlderDescriptor final : public recgrid::Enhancer {
 public:
  static recgrid::PluginSpec spec() { return {"older_descriptor", "0.0.1", "a descriptor without text_side", {}}; }
  OlderDescriptor(const recgrid::Context&, const recgrid::Options&) {}
};

rg_status never_called(rg_instance, rg_tensor_list*) { std::abort(); }

}  // namespace

extern "C" __attribute__((visibility("default"))) const rg_plugin_info* recgrid_plugin_info() {
  static rg_plugin_info info = [] {
    rg_plugin_info i = *recgrid::detail::describe<OlderDescriptor>();
#ifdef RECGRID_TEST_BIGGER_DESCRIPTOR
    i.struct_size = sizeof(rg_plugin_info) + 8;
#else
    i.struct_size = offsetof(rg_plugin_info, text_side);
    i.text_side = &never_called;  // beyond struct_size: a host that read it would abort here
    static const rg_fitted_model_api garbage{nullptr, nullptr};
    i.fitted = &garbage;  // beyond struct_size too: a host that read it would take this for a fitted model
    i.n_needs = 1;        // and a need without a name, which the loader would refuse if it read it
    static const rg_tensor_spec nameless{};
    i.needs = &nameless;
#endif
    return i;
  }();
  return &info;
}
