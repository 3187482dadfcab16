// Host side of the plugin boundary: load a library, check its descriptor, call it safely.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "recgrid/abi.h"
#include "recgrid/tensor_list.hpp"

namespace recgrid::plugin {

// A refused library or a failed plugin call; the message names the plugin (or file) and the call.
class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadedPlugin {
  std::string path;
  const rg_plugin_info* info = nullptr;
  std::string name() const { return info->name; }
  bool is_base_model() const { return info->kind == RG_KIND_BASE_MODEL; }
  // A base model fitted in one call (abi.h rg_fitted_model_api), not trained by the SGD loop.
  bool is_fitted() const { return fitted_api() != nullptr; }
  // The descriptor's `fitted` calls, or NULL (also for a plugin built before the field was appended).
  const rg_fitted_model_api* fitted_api() const;
  // Whether the descriptor has `gives` / `needs` (a plugin built before they were appended has not:
  // its pairs are not checked), and the lists (empty then).
  bool declares_encoding() const;
  std::vector<rg_tensor_spec> gives() const;
  std::vector<rg_tensor_spec> needs() const;
};

// Loads `path` (once; libraries stay loaded for the life of the process) and checks the ABI version,
// descriptor size, LibTorch major.minor and C++ ABI flag. Throws PluginError on any mismatch.
const LoadedPlugin& load_plugin(const std::string& path);

// The plugin folders, in search order (the first plugin of a name wins): the `given` ones
// (--plugin-dir), then $RECGRID_PLUGIN_PATH (':'-separated), then the build tree's `<exe>/../plugins`
// and the installed `<exe>/../lib/recgrid/plugins`, each folder once. Adding a folder never hides the
// installed plugins: an out-of-tree base model pairs with the installed enhancers.
std::vector<std::string> plugin_search_path(const std::vector<std::string>& given);

class Registry {
 public:
  // Loads every *.so in `dirs`; a library that is refused is recorded in `problems()`, not fatal.
  explicit Registry(const std::vector<std::string>& dirs);
  const LoadedPlugin& get(const std::string& name, rg_plugin_kind kind) const;
  // The options a plugin declares (what config::validate checks a configuration against).
  std::vector<rg_option_spec> options_of(const std::string& name, rg_plugin_kind kind) const {
    const LoadedPlugin& p = get(name, kind);
    return std::vector<rg_option_spec>(p.info->options, p.info->options + p.info->n_options);
  }
  // options_of as a function (config::SchemaLookup) for validating configurations.
  std::function<std::vector<rg_option_spec>(const std::string&, rg_plugin_kind)> schema_lookup() const {
    return [this](const std::string& name, rg_plugin_kind kind) { return options_of(name, kind); };
  }
  const std::vector<const LoadedPlugin*>& plugins() const { return plugins_; }
  const std::vector<std::string>& problems() const { return problems_; }
  std::string where() const;

 private:
  std::vector<std::string> dirs_;
  std::vector<const LoadedPlugin*> plugins_;
  std::vector<std::string> problems_;
};

const char* kind_name(int32_t kind);

// One plugin object. Every call checks the status and turns a failure into a PluginError
// "plugin 'NAME' failed in CALL: MESSAGE"; the instance stays usable afterwards.
class Instance {
 public:
  Instance(const LoadedPlugin& plugin, const rg_context& context, const std::string& options_json);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  const LoadedPlugin& plugin() const { return plugin_; }
  const std::string& name() const { return name_; }

  NamedTensors parameters();
  NamedTensors buffers();
  // Base model calls.
  at::Tensor layer0();
  NamedTensors encode(rg_mode mode, const at::Tensor* e0);
  NamedTensors loss(const NamedTensors& batch, const NamedTensors& encoding);
  // Enhancer calls.
  at::Tensor transform_inputs(rg_mode mode, const at::Tensor& e0);
  NamedTensors enhancer_loss(const NamedTensors& batch, const NamedTensors& encoding);
  void after_step();
  // The plugin's text-side embeddings (export); empty when it has none or predates the call.
  NamedTensors text_side();
  // Fitted model calls: fit() returns "sweep.loss" [S] when the fit is iterative (else nothing);
  // score() the [B x (item_end - item_begin)] scores of `users`.
  NamedTensors fit();
  at::Tensor score(const at::Tensor& users, int64_t item_begin, int64_t item_end);

 private:
  void check(rg_status status, const char* call) const;
  const rg_base_model_api& base(const char* call) const;
  const rg_enhancer_api& enhancer(const char* call) const;
  const rg_fitted_model_api& fitted(const char* call) const;

  const LoadedPlugin& plugin_;
  std::string name_;
  rg_instance handle_ = nullptr;
};

}  // namespace recgrid::plugin
