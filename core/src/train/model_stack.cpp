#include "train/model_stack.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "train/text_inputs.hpp"

namespace recgrid::train {

namespace {

void add_qualified(NamedTensors& into, const std::string& owner, const NamedTensors& items) {
  for (const auto& [name, t] : items) into.add(owner + "." + name, t);
}

}  // namespace

ModelStack::ModelStack(const plugin::Registry& registry, const config::RunConfig& config, const data::Dataset& ds,
                       const NamedTensors& graph_tensors, const TextSources& text)
    : reg_weight_(config.train.reg_weight) {
  const rg_tensor_list graph_list{graph_tensors};
  const rg_tensor_list no_inputs{};
  rg_context ctx{sizeof(rg_context), ds.n_users, ds.n_items, config.train.device.c_str(), config.train.seed,
                 &graph_list, &no_inputs, nullptr, 0, nullptr, 0};
  base_ = std::make_unique<plugin::Instance>(registry.get(config.model.name, RG_KIND_BASE_MODEL), ctx,
                                             config.model.options.dump());
  const rg_tensor_list base_parameters{base_->parameters()};
  // Enhancers find what the base model lends them (its intent prototypes) through its declaration.
  const std::vector<rg_tensor_spec> base_gives = base_->plugin().gives();
  // Enhancers size themselves by the base model's width, not by an option of their own that could disagree.
  const int64_t base_width = base_->layer0().size(1);
  TableCache tables = text.preloaded;
  for (const auto& choice : config.enhancers) {
    const plugin::LoadedPlugin& p = registry.get(choice.name, RG_KIND_ENHANCER);
    const rg_tensor_list inputs{load_text_inputs(choice.name, p.info->inputs, p.info->n_inputs, text.files,
                                                 ds.n_users, ds.n_items, at::Device(config.train.device), tables,
                                                 text.reduce)};
    rg_context with_inputs = ctx;
    with_inputs.inputs = &inputs;
    with_inputs.base_parameters = &base_parameters;
    with_inputs.base_embedding_size = base_width;
    with_inputs.base_gives = base_gives.data();
    with_inputs.n_base_gives = static_cast<uint32_t>(base_gives.size());
    enhancers_.push_back(std::make_unique<plugin::Instance>(p, with_inputs, choice.options.dump()));
  }
  add_qualified(parameters_, base_->name(), base_->parameters());
  add_qualified(buffers_, base_->name(), base_->buffers());
  for (auto& e : enhancers_) {
    add_qualified(parameters_, e->name(), e->parameters());
    add_qualified(buffers_, e->name(), e->buffers());
  }
}

at::Tensor ModelStack::layer0(rg_mode mode) {
  at::Tensor e0 = base_->layer0();
  for (auto& e : enhancers_) e0 = e->transform_inputs(mode, e0);
  return e0;
}

NamedTensors ModelStack::train_losses(const NamedTensors& batch) {
  const at::Tensor e0 = layer0(RG_MODE_TRAIN);
  const NamedTensors encoding = base_->encode(RG_MODE_TRAIN, &e0);
  NamedTensors terms;
  add_qualified(terms, base_->name(), base_->loss(batch, encoding));
  for (auto& e : enhancers_) add_qualified(terms, e->name(), e->enhancer_loss(batch, encoding));
  // Reg (ALGORITHMS.md §0): every registered tensor in full, buffers included (they carry no gradient),
  // except "state." buffers (run state such as cached teacher activations, not weights).
  at::Tensor reg = at::zeros({}, parameters_.begin()->second.options().requires_grad(false));
  for (const NamedTensors* group : {&parameters_, &buffers_})
    for (const auto& entry : *group) {
      const std::string& name = entry.first;  // "<plugin>.<buffer name>"
      if (group == &buffers_ && name.compare(name.find('.') + 1, 6, "state.") == 0) continue;
      const at::Tensor flat = entry.second.reshape({-1});
      reg = reg + at::dot(flat, flat);  // one pass forward (BLAS), one pass backward (2 g θ)
    }
  terms.add("reg", reg * reg_weight_);
  return terms;
}

eval::Embeddings ModelStack::eval_embeddings() {
  c10::NoGradGuard no_grad;
  const at::Tensor e0 = layer0(RG_MODE_EVAL);
  const NamedTensors enc = base_->encode(RG_MODE_EVAL, &e0);
  return {enc.at("user"), enc.at("item")};
}

NamedTensors ModelStack::text_side_embeddings() {
  c10::NoGradGuard no_grad;
  NamedTensors out;
  for (auto& e : enhancers_) add_qualified(out, e->name(), e->text_side());
  return out;
}

bool ModelStack::encode_per_eval_batch() const {
  return (base_->plugin().info->flags & RG_FLAG_ENCODE_PER_EVAL_BATCH) != 0;
}

void ModelStack::after_step() {
  for (auto& e : enhancers_) e->after_step();
}

std::vector<std::pair<std::string, std::string>> ModelStack::versions() const {
  std::vector<std::pair<std::string, std::string>> v{{base_->name(), base_->plugin().info->version}};
  for (const auto& e : enhancers_) v.emplace_back(e->name(), e->plugin().info->version);
  return v;
}

}  // namespace recgrid::train
