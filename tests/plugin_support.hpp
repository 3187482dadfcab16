// Creating plugin instances in tests, the way the host does.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "data/graph_builder.hpp"
#include "plugin/loader.hpp"
#include "recgrid/ops.hpp"
#include "test_support.hpp"

namespace recgrid::test {

inline std::string plugin_path(const std::string& name) { return binary_dir() + "/plugins/" + name + ".so"; }
inline std::string test_plugin_path(const std::string& name) { return binary_dir() + "/test_plugins/" + name + ".so"; }
inline std::string bad_plugin_path(const std::string& name) { return binary_dir() + "/test_plugins_bad/" + name + ".so"; }

// Every declared option at its default, then `overrides`.
inline std::string options_json(const plugin::LoadedPlugin& p, const nlohmann::json& overrides = {}) {
  nlohmann::json j = nlohmann::json::object();
  for (uint32_t k = 0; k < p.info->n_options; ++k)
    j[p.info->options[k].name] = nlohmann::json::parse(p.info->options[k].default_json);
  if (overrides.is_object())
    for (auto it = overrides.begin(); it != overrides.end(); ++it) j[it.key()] = it.value();
  return j.dump();
}

// A dataset's graph as a plugin context (keeps the tensors alive).
struct HostContext {
  data::Dataset ds;
  Graph graph;
  rg_tensor_list graph_list, inputs, base_parameters;
  std::vector<rg_tensor_spec> base_gives;
  rg_context ctx{};
  explicit HostContext(data::Dataset dataset) : ds(std::move(dataset)) {
    graph = data::build_graph(ds, at::kCPU);
    graph_list.items = data::graph_tensors(graph, ds, at::kCPU);
    ctx = rg_context{sizeof(rg_context), ds.n_users, ds.n_items, "cpu", 2023, &graph_list, &inputs, &base_parameters};
  }
  // Creates a base model and makes its parameters visible to enhancers created afterwards.
  std::unique_ptr<plugin::Instance> create_base(const plugin::LoadedPlugin& p, const nlohmann::json& overrides = {}) {
    auto base = create(p, overrides);
    base_parameters.items = base->parameters();
    ctx.base_embedding_size = base->layer0().size(1);
    base_gives = p.gives();  // what the host hands enhancers (train/model_stack.cpp)
    ctx.base_gives = base_gives.data();
    ctx.n_base_gives = static_cast<uint32_t>(base_gives.size());
    return base;
  }
  std::unique_ptr<plugin::Instance> create(const plugin::LoadedPlugin& p, const nlohmann::json& overrides = {}) {
    return std::make_unique<plugin::Instance>(p, ctx, options_json(p, overrides));
  }
};

// LightGCN and one enhancer on tiny_dataset() (3 users, 4 items), with the given text tables.
struct EnhancerOnTiny {
  HostContext host{tiny_dataset()};
  rg_tensor_list tables;
  std::unique_ptr<plugin::Instance> base, enhancer;
  EnhancerOnTiny(NamedTensors text, const nlohmann::json& base_options, const std::string& name,
                 const nlohmann::json& options) {
    tables.items = std::move(text);
    host.ctx.inputs = &tables;
    base = host.create_base(plugin::load_plugin(plugin_path("lightgcn")), base_options);
    enhancer = host.create(plugin::load_plugin(plugin_path(name)), options);
  }
  const at::Tensor& table(const std::string& name) const { return tables.items.at(name); }
};

// SGL's and SimGCL's contrast with `contrast_keys` = keys, written out: after at::manual_seed(seed),
// keys users drawn, then keys items, each side's NCE_A on its drawn rows as the keys.
inline at::Tensor two_view_infonce_on_drawn_keys(const NamedTensors& enc, const at::Tensor& users,
                                                 const at::Tensor& items, int64_t keys, double tau, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor &u2 = enc.at("view2.user"), &i2 = enc.at("view2.item");
  const at::Tensor user_keys = at::randperm(u2.size(0), at::kLong).narrow(0, 0, keys);
  const at::Tensor item_keys = at::randperm(i2.size(0), at::kLong).narrow(0, 0, keys);
  return ops::nce_a_rows_sampled(enc.at("view1.user"), u2, users, user_keys, tau) +
         ops::nce_a_rows_sampled(enc.at("view1.item"), i2, items, item_keys, tau);
}

}  // namespace recgrid::test
