// Test-only enhancer that declares what it reads from the base encoding and reads nothing else: the
// rows "{view}user" (option `view`, default view1.: SGL's and SimGCL's first view, which LightGCN does
// not give) and the layers from 2 on (a base model configured with one layer lacks them). The host
// must refuse its pairs with a base model that lacks them before any training, naming pair and tensor.
// Built with RECGRID_TEST_MISDECLARED, it names an option it does not declare: the loader refuses it.
#include <ATen/ATen.h>

#include "recgrid/sdk.hpp"

namespace {

class EncodingProbe final : public recgrid::Enhancer {
 public:
  struct Options {
    std::string view;
    template <class D>
    void declare(D& d) {
      d(view, "view", "view1.", "", "prefix of the user rows it reads");
    }
  };

  static recgrid::PluginSpec spec() {
    recgrid::PluginSpec s{"encoding_probe", "0.0.1", "test-only enhancer with declared needs", recgrid::declared_options<Options>()};
#ifdef RECGRID_TEST_MISDECLARED
    s.name = "misdeclared_encoding";
    s.needs = {recgrid::encoding_tensor("{no_such_option}user", "names an option the plugin lacks")};
#else
    s.needs = {recgrid::encoding_tensor("{view}user", "the user rows of the chosen view"),
               recgrid::encoding_layers("layer.<l>", 2, "the layers from 2 on")};
#endif
    return s;
  }

  EncodingProbe(const recgrid::Context&, const Options& o) : view_(o.view) {}

  recgrid::NamedTensors loss(const recgrid::Batch&, const recgrid::NamedTensors& enc) override {
    recgrid::NamedTensors out;
    out.add("read", enc.at(view_ + "user").sum() * 0.0 + enc.at("layer.2").sum() * 0.0);
    return out;
  }

 private:
  std::string view_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(EncodingProbe)
