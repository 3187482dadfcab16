// RecGrid plugin SDK: write a plugin as ordinary C++.
//
//   class MyModel : public recgrid::BaseModel {
//    public:
//     static recgrid::PluginSpec spec();                       // name, version, options
//     MyModel(const recgrid::Context& ctx, const recgrid::Options& opts);
//     at::Tensor layer0() override;
//     recgrid::NamedTensors encode(recgrid::Mode, const at::Tensor& e0) override;
//     recgrid::NamedTensors loss(const recgrid::Batch&, const recgrid::NamedTensors&) override;
//   };
//   RECGRID_EXPORT_PLUGIN(MyModel)
//
// The macro builds the C descriptor of abi.h, turns every exception into a status code plus
// last_error() text, and exports the single entry point. Build the plugin with recgrid_add_plugin(),
// which links it with recgrid_sdk alone (hidden visibility: the entry point is the only export).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/util/Exception.h>
#include <torch/csrc/api/include/torch/version.h>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "recgrid/abi.h"
#include "recgrid/graph.hpp"
#include "recgrid/option_range.hpp"
#include "recgrid/sample_keys.hpp"
#include "recgrid/tensor_list.hpp"

namespace recgrid {

enum class Mode { Train = RG_MODE_TRAIN, Eval = RG_MODE_EVAL };

// Resolved option values of one plugin instance (every declared option is present).
class Options {
 public:
  explicit Options(nlohmann::json values) : values_(std::move(values)) {}
  template <class T>
  T get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::invalid_argument("option '" + name + "' was not declared");
    return it->get<T>();
  }
  const nlohmann::json& json() const { return values_; }

 private:
  nlohmann::json values_;
};

struct Context {
  int64_t n_users = 0;
  int64_t n_items = 0;
  c10::Device device = c10::Device(c10::kCPU);
  uint64_t seed = 0;
  Graph graph;
  at::Tensor train_user, train_item;  // [T] int64
  NamedTensors inputs;                // declared text tables, by name
  NamedTensors base_parameters;       // enhancers: the base model's parameters, by name
  int64_t base_embedding_size = 0;    // enhancers: the width d of the base model's layer 0 (E0 is V x d)
  std::vector<rg_tensor_spec> base_gives;  // enhancers: what the base model declares it gives (abi.h)
  int64_t n_nodes() const { return n_users + n_items; }
};

// The base model's parameter that it declares it gives as `output` (rg_tensor_spec.parameter, e.g.
// DCCF's "intent.user" is its "user_intents"), or an undefined tensor when it gives no such output.
inline at::Tensor base_parameter_given_as(const Context& ctx, const std::string& output) {
  for (const rg_tensor_spec& g : ctx.base_gives)
    if (g.name && output == g.name && g.parameter && ctx.base_parameters.contains(g.parameter))
      return ctx.base_parameters.at(g.parameter);
  return at::Tensor();
}

// The base model's embedding width d, for an enhancer sizing its towers by it.
inline int64_t base_embedding_size(const Context& ctx, const std::string& plugin) {
  if (ctx.base_embedding_size <= 0)
    throw std::invalid_argument(plugin + ": the host gave no base embedding size (create the base model first)");
  return ctx.base_embedding_size;
}

struct Batch {
  at::Tensor users, pos, neg;  // [B] int64 each
};

// ---- Typed options, declared once (the DMLC-parameter / torch `Options` idea) ---------------------
//
// A plugin's options are a struct with one field per option and a declare() that gives each its
// name, default, range (config/option_range notation, "" = any) and help, in that one line:
//
//   struct Options {
//     int64_t layers;
//     double keep_rate;
//     template <class D>
//     void declare(D& d) {
//       d(layers, "layers", 3, "[1, inf)", "number of propagation layers L");
//       d(keep_rate, "keep_rate", 0.8, "(0, 1]", "training edge keep probability");
//     }
//   };
//   static recgrid::PluginSpec spec() { return {"name", "1.0.0", "what it is", recgrid::declared_options<Options>()}; }
//   MyModel(const recgrid::Context& ctx, const Options& o);   // RECGRID_EXPORT_PLUGIN passes it typed
//
// The option table the host validates against (spec()), the typed values a plugin reads, `recgrid
// plugins` and the README tables (`recgrid plugins --markdown NAME`) all come from declare().
// Field types: int64_t ("int"), double ("float"), bool, std::string, SampleKeys ("int" or auto,
// sample_keys.hpp).

namespace detail {

template <class T>
constexpr const char* option_type_name() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_same_v<T, SampleKeys>) return "int";  // or a word its range lists
  else if constexpr (std::is_same_v<T, std::string>) return "string";
  else if constexpr (std::is_integral_v<T>) return "int";
  else if constexpr (std::is_floating_point_v<T>) return "float";
  else static_assert(sizeof(T) == 0, "an option field is int64_t, double, bool or std::string");
}

// The default as JSON text. A number may be given as text ("1e-5") to keep its spelling: the
// resolved configuration, and so a grid cell's hash, holds the text as written.
template <class T, class V>
std::string default_text(const char* name, const V& value) {
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && std::is_convertible_v<V, const char*>) {
    const std::string text = value;
    if (nlohmann::json::accept(text) && nlohmann::json::parse(text).is_number()) return text;
    throw std::invalid_argument(std::string("option '") + name + "': default '" + text + "' is not a number");
  } else {
    return nlohmann::json(T(value)).dump();
  }
}

// Collects the rg_option_spec rows; owns the default texts they point to.
struct OptionDescriber {
  std::vector<rg_option_spec> rows;
  std::vector<std::unique_ptr<std::string>> texts;
  template <class T, class V>
  void operator()(T&, const char* name, const V& default_value, const char* range, const char* help) {
    texts.push_back(std::make_unique<std::string>(default_text<T>(name, default_value)));
    rows.push_back({name, option_type_name<T>(), texts.back()->c_str(), help, range});
  }
};

// Fills each field from the resolved option values (the host filled in every default) and checks
// it against its range - again, for an instance created without the host (a test, another tool).
struct OptionReader {
  const nlohmann::json& values;
  template <class T, class V>
  void operator()(T& field, const char* name, const V&, const char* range, const char*) const {
    const auto it = values.find(name);
    if (it == values.end()) throw std::invalid_argument(std::string("option '") + name + "' has no value");
    field = it->get<T>();
    const std::string text = it->is_string() ? it->template get<std::string>() : it->dump();
    if (const std::string why = OptionRange::parse(range).check(text); !why.empty())
      throw std::invalid_argument(std::string("option '") + name + "' " + why + ", found " + text);
  }
};

}  // namespace detail

// The option table of an options struct, for PluginSpec::options (built once, kept for the process).
template <class O>
const std::vector<rg_option_spec>& declared_options() {
  static const detail::OptionDescriber described = [] {
    detail::OptionDescriber d;
    O{}.declare(d);
    return d;
  }();
  return described.rows;
}

// The typed options from resolved values (what RECGRID_EXPORT_PLUGIN hands a typed constructor).
template <class O>
O read_options(const nlohmann::json& values) {
  O o{};
  detail::OptionReader r{values};
  o.declare(r);
  return o;
}

// ---- The training encoding, declared (abi.h rg_tensor_spec) -------------------------------------
//
// A base model lists what its encode(Train) returns in PluginSpec::gives, an enhancer what its loss
// reads in PluginSpec::needs; the host checks every pair of a configuration before training:
//
//   gives: recgrid::standard_encoding("layers", {recgrid::encoding_parameter("intent.user", "user_intents", "C_u")})
//   needs: {recgrid::encoding_tensor("user", "..."), recgrid::encoding_layers("{intent_view}layer.<l>", 1, "...")}

// One tensor (`name` may hold "{option}" in an enhancer's need).
inline rg_tensor_spec encoding_tensor(const char* name, const char* help) { return {name, nullptr, 0, nullptr, help}; }

// A per-layer family ("layer.<l>"): l = first_layer .. L. A base model names the int option holding L;
// an enhancer's need leaves it out (the base model's L counts).
inline rg_tensor_spec encoding_layers(const char* name, int32_t first_layer, const char* help,
                                      const char* layers_option = nullptr) {
  return {name, layers_option, first_layer, nullptr, help};
}

// A base model's output that is its parameter `parameter` as it is (intent prototypes).
inline rg_tensor_spec encoding_parameter(const char* name, const char* parameter, const char* help) {
  return {name, nullptr, 0, parameter, help};
}

// The intent prototypes C_u, C_i [d x K] a base model lends enhancers (DCCF, BIGCF): its parameters
// `user_parameter` / `item_parameter`, given as "intent.user" / "intent.item" (IRLLRec borrows them).
inline std::vector<rg_tensor_spec> intent_prototypes(const char* user_parameter, const char* item_parameter) {
  return {encoding_parameter("intent.user", user_parameter, "user intent prototypes C_u [d x K]"),
          encoding_parameter("intent.item", item_parameter, "item intent prototypes C_i [d x K]")};
}

// What every SGD base model's encode(Train) returns (abi.h rg_base_model_api): "user", "item", "final"
// and "layer.<l>", l = 0..L with L its int option `layers_option`; then the model's `extras`.
inline std::vector<rg_tensor_spec> standard_encoding(const char* layers_option, const std::vector<rg_tensor_spec>& extras = {}) {
  std::vector<rg_tensor_spec> gives{
      encoding_tensor("user", "final user embeddings [M x d] (BPR, scoring)"),
      encoding_tensor("item", "final item embeddings [N x d]"),
      encoding_tensor("final", "the same rows as one node tensor [V x d], users first"),
      encoding_layers("layer.<l>", 0, "per-layer node embeddings [V x d], layer 0 = E0", layers_option)};
  gives.insert(gives.end(), extras.begin(), extras.end());
  return gives;
}

// What a plugin declares about itself.
struct PluginSpec {
  std::string name;
  std::string version;
  std::string description;
  std::vector<rg_option_spec> options;  // {name, type, default_json, help}
  std::vector<rg_input_spec> inputs = {};  // enhancers only (may be left out of a base model's spec)
  uint64_t flags = 0;
  std::vector<rg_tensor_spec> gives = {};  // base models: the training encoding (standard_encoding + extras)
  std::vector<rg_tensor_spec> needs = {};  // enhancers: what the loss reads from the base encoding
};

// Parameters and buffers, registered by name (the C++-frontend `register_parameter` idea).
class Module {
 public:
  virtual ~Module() = default;
  const NamedTensors& parameters() const { return parameters_; }
  const NamedTensors& buffers() const { return buffers_; }

 protected:
  at::Tensor register_parameter(std::string name, at::Tensor value) {
    value.set_requires_grad(true);
    parameters_.add(std::move(name), value);
    return value;
  }
  at::Tensor register_buffer(std::string name, at::Tensor value) {
    buffers_.add(std::move(name), value);
    return value;
  }
  // Registers a sub-block's tensors as parameters "<prefix>.<its names>" (torch's register_module).
  // A block is any struct with register_as(prefix, reg): TextMlp, KAR's HybridExperts.
  template <class Block>
  void register_module(const std::string& prefix, Block& block) {
    block.register_as(prefix, [this](std::string n, at::Tensor t) { return register_parameter(std::move(n), t); });
  }

 private:
  NamedTensors parameters_, buffers_;
};

class BaseModel : public Module {
 public:
  static constexpr rg_plugin_kind kind = RG_KIND_BASE_MODEL;
  // Layer-0 node embeddings [V x d] (users first).
  virtual at::Tensor layer0() = 0;
  // "user", "item", "layer.0".."layer.L" and extras, from layer-0 embeddings e0.
  virtual NamedTensors encode(Mode mode, const at::Tensor& e0) = 0;
  // Named, weighted loss terms of the model for one batch.
  virtual NamedTensors loss(const Batch& batch, const NamedTensors& encoding) = 0;
};

// A base model fitted in one call to the training interactions (ctx.train_user / ctx.train_item),
// not trained by SGD: MostPop, item neighbourhoods, EASE^R, iALS. Its state goes in buffers().
class FittedModel : public Module {
 public:
  static constexpr rg_plugin_kind kind = RG_KIND_BASE_MODEL;
  // Fits the model; returns the objective after each sweep (an iterative fit), or an undefined tensor.
  virtual at::Tensor fit() = 0;
  // Scores of `users` (int64 [B]) for items [item_begin, item_end): float [B x (end - begin)].
  virtual at::Tensor score(const at::Tensor& users, int64_t item_begin, int64_t item_end) = 0;
};

class Enhancer : public Module {
 public:
  static constexpr rg_plugin_kind kind = RG_KIND_ENHANCER;
  virtual at::Tensor transform_inputs(Mode, const at::Tensor& e0) { return e0; }
  virtual NamedTensors loss(const Batch&, const NamedTensors&) { return {}; }
  virtual void after_step() {}
  // The enhancer's own embeddings of users and items from their text ("user", "item"), for
  // `recgrid export`; none by default.
  virtual NamedTensors text_side() { return {}; }
};

namespace detail {

// Per-plugin error text: plugins are built with hidden visibility, so each library has its own.
inline std::string& last_error_text() {
  thread_local std::string text;
  return text;
}
inline const char* last_error() { return last_error_text().c_str(); }

template <class F>
rg_status guarded(F&& body) noexcept {
  try {
    body();
    return RG_OK;
  } catch (const c10::Error& e) {
    last_error_text() = e.what_without_backtrace();
  } catch (const std::exception& e) {
    last_error_text() = e.what();
  } catch (...) {
    last_error_text() = "unknown exception";
  }
  return RG_ERROR;
}

inline Context to_context(const rg_context* c) {
  Context ctx;
  ctx.n_users = c->n_users;
  ctx.n_items = c->n_items;
  ctx.device = c10::Device(std::string(c->device));
  ctx.seed = c->seed;
  const NamedTensors& g = c->graph->items;
  ctx.graph.n_nodes = c->n_users + c->n_items;
  ctx.graph.rowptr = g.at("adj.rowptr");
  ctx.graph.row = g.at("adj.row");
  ctx.graph.col = g.at("adj.col");
  ctx.graph.norm = g.at("adj.norm");
  ctx.graph.t_rowptr = g.at("adj.t_rowptr");
  ctx.graph.t_col = g.at("adj.t_col");
  ctx.graph.t_perm = g.at("adj.t_perm");
  ctx.train_user = g.at("train.user");
  ctx.train_item = g.at("train.item");
  if (c->inputs) ctx.inputs = c->inputs->items;
  if (c->struct_size >= offsetof(rg_context, base_parameters) + sizeof(c->base_parameters) && c->base_parameters)
    ctx.base_parameters = c->base_parameters->items;
  if (c->struct_size >= offsetof(rg_context, base_embedding_size) + sizeof(c->base_embedding_size))
    ctx.base_embedding_size = c->base_embedding_size;
  if (c->struct_size >= offsetof(rg_context, n_base_gives) + sizeof(c->n_base_gives) && c->base_gives)
    ctx.base_gives.assign(c->base_gives, c->base_gives + c->n_base_gives);
  return ctx;
}

inline Batch to_batch(const rg_tensor_list* b) {
  return Batch{b->items.at("users"), b->items.at("pos"), b->items.at("neg")};
}

template <class T>
T& self(rg_instance h) {
  return *reinterpret_cast<T*>(h);
}

// A plugin with a nested `Options` struct (typed, declared once) gets it filled; one without gets
// the raw values (recgrid::Options).
template <class T, class = void>
struct has_typed_options : std::false_type {};
template <class T>
struct has_typed_options<T, std::void_t<typename T::Options>> : std::true_type {};

template <class T>
T* create_instance(const Context& ctx, const nlohmann::json& values) {
  if constexpr (has_typed_options<T>::value) return new T(ctx, read_options<typename T::Options>(values));
  else return new T(ctx, Options(values));
}

template <class T>
struct Glue {
  static rg_status create(const rg_context* c, const char* options_json, rg_instance* out) {
    return guarded([&] { *out = reinterpret_cast<rg_instance>(create_instance<T>(to_context(c), nlohmann::json::parse(options_json))); });
  }
  static void destroy(rg_instance h) { delete reinterpret_cast<T*>(h); }
  static rg_status parameters(rg_instance h, rg_tensor_list* out) {
    return guarded([&] { out->items = self<T>(h).parameters(); });
  }
  static rg_status buffers(rg_instance h, rg_tensor_list* out) {
    return guarded([&] { out->items = self<T>(h).buffers(); });
  }
  // Base model calls.
  static rg_status layer0(rg_instance h, rg_tensor_list* out) {
    return guarded([&] { out->items.add("E0", self<T>(h).layer0()); });
  }
  static rg_status encode(rg_instance h, int32_t mode, const rg_tensor_list* e0, rg_tensor_list* out) {
    return guarded([&] {
      T& m = self<T>(h);
      at::Tensor input = e0 ? e0->items.at("E0") : m.layer0();
      out->items = m.encode(static_cast<Mode>(mode), input);
    });
  }
  static rg_status base_loss(rg_instance h, const rg_tensor_list* batch, const rg_tensor_list* enc,
                             rg_tensor_list* out) {
    return guarded([&] { out->items = self<T>(h).loss(to_batch(batch), enc->items); });
  }
  // Enhancer calls.
  static rg_status transform_inputs(rg_instance h, int32_t mode, const rg_tensor_list* e0, rg_tensor_list* out) {
    return guarded([&] { out->items.add("E0", self<T>(h).transform_inputs(static_cast<Mode>(mode), e0->items.at("E0"))); });
  }
  static rg_status enhancer_loss(rg_instance h, const rg_tensor_list* batch, const rg_tensor_list* enc,
                                 rg_tensor_list* out) {
    return guarded([&] { out->items = self<T>(h).loss(to_batch(batch), enc->items); });
  }
  static rg_status after_step(rg_instance h) {
    return guarded([&] { self<T>(h).after_step(); });
  }
  static rg_status text_side(rg_instance h, rg_tensor_list* out) {
    return guarded([&] { out->items = self<T>(h).text_side(); });
  }
  // Fitted model calls.
  static rg_status fit(rg_instance h, rg_tensor_list* out) {
    return guarded([&] {
      const at::Tensor losses = self<T>(h).fit();
      if (losses.defined()) out->items.add("sweep.loss", losses);
    });
  }
  static rg_status score(rg_instance h, const rg_tensor_list* users, int64_t begin, int64_t end, rg_tensor_list* out) {
    return guarded([&] { out->items.add("scores", self<T>(h).score(users->items.at("users"), begin, end)); });
  }
};

template <class T>
const rg_base_model_api* base_model_api() {
  if constexpr (std::is_base_of_v<BaseModel, T>) {
    static const rg_base_model_api api = {&Glue<T>::layer0, &Glue<T>::encode, &Glue<T>::base_loss};
    return &api;
  } else {
    return nullptr;
  }
}

template <class T>
const rg_enhancer_api* enhancer_api() {
  if constexpr (std::is_base_of_v<Enhancer, T>) {
    static const rg_enhancer_api api = {&Glue<T>::transform_inputs, &Glue<T>::enhancer_loss,
                                        &Glue<T>::after_step};
    return &api;
  } else {
    return nullptr;
  }
}

template <class T>
const rg_fitted_model_api* fitted_api() {
  if constexpr (std::is_base_of_v<FittedModel, T>) {
    static const rg_fitted_model_api api = {&Glue<T>::fit, &Glue<T>::score};
    return &api;
  } else {
    return nullptr;
  }
}

template <class T>
auto text_side_fn() -> decltype(rg_plugin_info::text_side) {
  if constexpr (std::is_base_of_v<Enhancer, T>) return &Glue<T>::text_side;
  else return nullptr;
}

template <class T>
const rg_plugin_info* describe() {
  static_assert(int(std::is_base_of_v<BaseModel, T>) + int(std::is_base_of_v<Enhancer, T>) +
                        int(std::is_base_of_v<FittedModel, T>) == 1,
                "a plugin derives from exactly one of BaseModel, FittedModel, Enhancer");
  static const PluginSpec spec = T::spec();
  static const rg_plugin_info info = {
      RECGRID_ABI_VERSION,
      sizeof(rg_plugin_info),
      TORCH_VERSION_MAJOR,
      TORCH_VERSION_MINOR,
      _GLIBCXX_USE_CXX11_ABI,
      T::kind,
      spec.name.c_str(),
      spec.version.c_str(),
      spec.description.c_str(),
      spec.flags,
      spec.options.data(),
      static_cast<uint32_t>(spec.options.size()),
      spec.inputs.data(),
      static_cast<uint32_t>(spec.inputs.size()),
      &last_error,
      &Glue<T>::create,
      &Glue<T>::destroy,
      &Glue<T>::parameters,
      &Glue<T>::buffers,
      base_model_api<T>(),
      enhancer_api<T>(),
      text_side_fn<T>(),
      fitted_api<T>(),
      spec.gives.data(),
      static_cast<uint32_t>(spec.gives.size()),
      spec.needs.data(),
      static_cast<uint32_t>(spec.needs.size()),
  };
  return &info;
}

}  // namespace detail
}  // namespace recgrid

// The one exported symbol of a plugin library.
#define RECGRID_EXPORT_PLUGIN(Class)                                                         \
  extern "C" __attribute__((visibility("default"))) const rg_plugin_info* recgrid_plugin_info() { \
    return ::recgrid::detail::describe<Class>();                                            \
  }
