// The plugin boundary (docs/DESIGN.md, "The plugin boundary"): loading checks, error propagation, and autograd across it.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/api/include/torch/version.h>

#include "plugin_support.hpp"

using namespace recgrid;
using test::HostContext;

namespace {

std::string plugin_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const plugin::PluginError& e) {
    return e.what();
  }
  return "";
}

NamedTensors tiny_batch() {
  NamedTensors b;
  b.add("users", at::tensor({0, 2, 2, 1}, at::kLong));
  b.add("pos", at::tensor({1, 3, 2, 1}, at::kLong));
  b.add("neg", at::tensor({3, 0, 0, 0}, at::kLong));
  return b;
}

}  // namespace

TEST(PluginLoader, DescriptorOfARealPlugin) {
  const plugin::LoadedPlugin& p = plugin::load_plugin(test::plugin_path("lightgcn"));
  EXPECT_EQ(p.name(), "lightgcn");
  EXPECT_TRUE(p.is_base_model());
  EXPECT_EQ(p.info->abi_version, static_cast<uint32_t>(RECGRID_ABI_VERSION));
  EXPECT_GE(p.info->n_options, 3u);
  // Loading again returns the same (never unloaded) library.
  EXPECT_EQ(&plugin::load_plugin(test::plugin_path("lightgcn")), &p);
}

TEST(PluginLoader, RefusesAnotherAbiVersionNamingBothAndTheFile) {
  const std::string path = test::bad_plugin_path("wrong_abi_model");
  const std::string msg = plugin_error([&] { plugin::load_plugin(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("ABI version 99"), std::string::npos) << msg;
  EXPECT_NE(msg.find("host uses ABI version " + std::to_string(RECGRID_ABI_VERSION)), std::string::npos) << msg;
}

TEST(PluginLoader, RefusesAnotherLibTorchOrCxxAbi) {
  std::string path = test::bad_plugin_path("wrong_torch_model");
  std::string msg = plugin_error([&] { plugin::load_plugin(path); });
  const std::string ours = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR);
  const std::string theirs = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR + 1);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("built with LibTorch " + theirs + ", but this host uses LibTorch " + ours), std::string::npos) << msg;
  path = test::bad_plugin_path("wrong_cxx_abi_model");
  msg = plugin_error([&] { plugin::load_plugin(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("_GLIBCXX_USE_CXX11_ABI=" + std::to_string(1 - _GLIBCXX_USE_CXX11_ABI)), std::string::npos) << msg;
}

// Within ABI 2 the descriptor grows only at its end: a plugin built before `text_side` was appended
// loads (the host never reads past its struct_size); one larger than the host's is refused.
TEST(PluginLoader, AnOlderDescriptorLoadsAndALargerOneIsRefused) {
  const plugin::LoadedPlugin& older = plugin::load_plugin(test::test_plugin_path("older_descriptor_enhancer"));
  EXPECT_EQ(older.info->struct_size, offsetof(rg_plugin_info, text_side));
  EXPECT_FALSE(older.is_fitted());  // its `fitted` field lies beyond struct_size and is never read
  test::HostContext host(test::tiny_dataset());
  auto e = host.create(older, {});
  EXPECT_TRUE(e->text_side().empty());  // its text_side pointer would abort if called
  const std::string path = test::bad_plugin_path("bigger_descriptor_enhancer");
  const std::string msg = plugin_error([&] { plugin::load_plugin(path); });
  EXPECT_NE(msg.find(path + ": descriptor size " + std::to_string(sizeof(rg_plugin_info) + 8)), std::string::npos) << msg;
  EXPECT_NE(msg.find("rebuild the plugin"), std::string::npos) << msg;
}

TEST(PluginLoader, RefusesALibraryWithoutTheEntryPoint) {
  const std::string path = test::bad_plugin_path("no_entry_point");
  const std::string msg = plugin_error([&] { plugin::load_plugin(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("no exported 'recgrid_plugin_info' entry point"), std::string::npos) << msg;
}

TEST(PluginLoader, RegistryRecordsRefusalsAndStillServesGoodPlugins) {
  const plugin::Registry reg({test::binary_dir() + "/plugins", test::binary_dir() + "/test_plugins_bad"});
  EXPECT_EQ(reg.get("lightgcn", RG_KIND_BASE_MODEL).name(), "lightgcn");
  // wrong ABI, wrong LibTorch, wrong C++ ABI, no entry point, bigger descriptor, misdeclared encoding
  EXPECT_EQ(reg.problems().size(), 6u);
  const std::string msg = plugin_error([&] { reg.get("nosuch", RG_KIND_BASE_MODEL); });
  EXPECT_NE(msg.find("no base model plugin named 'nosuch'"), std::string::npos) << msg;
  const size_t available = msg.find("available: ");
  ASSERT_NE(available, std::string::npos) << msg;
  EXPECT_NE(msg.find("lightgcn", available), std::string::npos) << msg;
}

TEST(PluginCalls, AThrowingCallBecomesAClearErrorAndTheHostGoesOn) {
  HostContext host(test::tiny_dataset());
  const plugin::LoadedPlugin& probe = plugin::load_plugin(test::test_plugin_path("probe_enhancer"));
  auto base = host.create(plugin::load_plugin(test::plugin_path("lightgcn")), {{"keep_rate", 1.0}});

  EXPECT_EQ(plugin_error([&] { host.create(probe, {{"fail_in", "create"}}); }),
            "plugin 'probe' failed in create(): probe asked to fail in create");
  auto failing = host.create(probe, {{"fail_in", "loss"}});
  const NamedTensors enc = base->encode(RG_MODE_TRAIN, nullptr);
  EXPECT_EQ(plugin_error([&] { failing->enhancer_loss(tiny_batch(), enc); }),
            "plugin 'probe' failed in loss(): probe asked to fail in loss");
  // The same instance keeps working for other calls, and so does the base model.
  EXPECT_NO_THROW(failing->after_step());
  EXPECT_EQ(failing->parameters().size(), 1u);
  EXPECT_NO_THROW(base->loss(tiny_batch(), enc));
  // A base model's own exception (bad index) is reported with the plugin and the call.
  NamedTensors bad;
  bad.add("users", at::tensor({99}, at::kLong));
  bad.add("pos", at::tensor({0}, at::kLong));
  bad.add("neg", at::tensor({0}, at::kLong));
  const std::string msg = plugin_error([&] { base->loss(bad, enc); });
  EXPECT_EQ(msg.rfind("plugin 'lightgcn' failed in loss(): ", 0), 0u) << msg;
  EXPECT_NO_THROW(base->loss(tiny_batch(), enc));
}

TEST(PluginCalls, EnhancerLossBackPropagatesIntoTheBaseModel) {
  HostContext host(test::tiny_dataset());
  at::manual_seed(5);
  auto base = host.create(plugin::load_plugin(test::plugin_path("lightgcn")), {{"keep_rate", 1.0}, {"layers", 2}});
  auto probe = host.create(plugin::load_plugin(test::test_plugin_path("probe_enhancer")), {{"weight", 0.7}});
  const NamedTensors params = base->parameters();
  const at::Tensor& user_emb = params.at("user_emb");
  const at::Tensor& item_emb = params.at("item_emb");
  const at::Tensor scale = probe->parameters().at("scale");
  {
    c10::NoGradGuard g;
    const_cast<at::Tensor&>(scale).mul_(at::linspace(0.5, 1.5, 32));  // not all ones: scale matters
  }

  // Across the boundary: the enhancer's loss on the base model's encoding.
  const NamedTensors batch = tiny_batch();
  probe->enhancer_loss(batch, base->encode(RG_MODE_TRAIN, nullptr)).at("probe").backward();
  const at::Tensor g_user = user_emb.grad().clone(), g_item = item_emb.grad().clone(), g_scale = scale.grad().clone();
  ASSERT_GT(g_user.abs().sum().item<double>(), 0.0);

  // In process: the same loss written here on a LightGCN computed here (dense Â, sum of layers).
  const at::Tensor u = user_emb.detach().clone().requires_grad_(true);
  const at::Tensor i = item_emb.detach().clone().requires_grad_(true);
  const at::Tensor s = scale.detach().clone().requires_grad_(true);
  const int64_t M = host.ds.n_users, V = host.graph.n_nodes;
  const at::Tensor A = at::zeros({V, V}).index_put({host.graph.row, host.graph.col}, host.graph.norm);
  at::Tensor e = at::cat({u, i}), sum = e;
  for (int l = 0; l < 2; ++l) sum = sum + (e = A.mm(e));
  const at::Tensor a = sum.narrow(0, 0, M).index_select(0, batch.at("users")) * s;
  const at::Tensor p = sum.narrow(0, M, V - M).index_select(0, batch.at("pos"));
  ((a * p).sum(1).pow(2).mean() * 0.7).backward();

  EXPECT_TRUE(at::allclose(g_user, u.grad(), 1e-5, 1e-7));
  EXPECT_TRUE(at::allclose(g_item, i.grad(), 1e-5, 1e-7));
  EXPECT_TRUE(at::allclose(g_scale, s.grad(), 1e-5, 1e-7));
}
