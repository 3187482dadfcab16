// Enhancer text inputs: declared by the plugin, loaded and checked by the host.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "data/npy.hpp"
#include "plugin_support.hpp"
#include "train/text_inputs.hpp"

using namespace recgrid;

namespace {

std::string write_table(const std::string& name, int64_t rows, int64_t cols, float bad = 0) {
  data::FloatTable t{rows, cols, std::vector<float>(static_cast<size_t>(rows * cols))};
  for (size_t k = 0; k < t.values.size(); ++k) t.values[k] = static_cast<float>(k) * 0.5f;
  if (bad != 0) t.values[static_cast<size_t>(cols + 1)] = bad;
  const std::string path = ::testing::TempDir() + "/" + name;
  data::write_table_npy(path, t);
  return path;
}

const rg_input_spec kItemSpec[] = {{"profile_item", RG_ROWS_ITEMS, 3, "item profiles"}};

std::string load_error(const std::vector<std::pair<std::string, std::string>>& files) {
  try {
    train::TableCache cache;
    train::load_text_inputs("probe", kItemSpec, 1, files, 3, 4, at::kCPU, cache);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TextInputs, LoadedWithTheirShapeAndValues) {
  const std::string path = write_table("items_ok.npy", 4, 3);
  train::TableCache cache;
  const NamedTensors t = train::load_text_inputs("probe", kItemSpec, 1, {{"profile_item", path}}, 3, 4, at::kCPU, cache);
  EXPECT_EQ(cache.size(), 1u);
  const at::Tensor& table = t.at("profile_item");
  EXPECT_EQ(table.sizes(), (at::IntArrayRef{4, 3}));
  EXPECT_EQ(table[1][2].item<float>(), 2.5f);  // element 5 * 0.5
}

TEST(TextInputs, ErrorsNameTheFileAndTheShapes) {
  std::string msg = load_error({});
  EXPECT_NE(msg.find("enhancer 'probe' input 'profile_item'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("set dataset.text.profile_item"), std::string::npos) << msg;
  const std::string rows = write_table("items_rows.npy", 5, 3);
  msg = load_error({{"profile_item", rows}});
  EXPECT_NE(msg.find(rows + ": "), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected shape [4 x 3], found [5 x 3]"), std::string::npos) << msg;
  const std::string cols = write_table("items_cols.npy", 4, 2);
  EXPECT_NE(load_error({{"profile_item", cols}}).find("expected shape [4 x 3], found [4 x 2]"), std::string::npos);
  const std::string nan = write_table("items_nan.npy", 4, 3, std::numeric_limits<float>::quiet_NaN());
  msg = load_error({{"profile_item", nan}});
  EXPECT_NE(msg.find("row 1, column 1 is not finite"), std::string::npos) << msg;
}

TEST(TextInputs, TheEnhancerReceivesTheTable) {
  test::HostContext host(test::tiny_dataset());
  const plugin::LoadedPlugin& p = plugin::load_plugin(test::test_plugin_path("text_probe_enhancer"));
  ASSERT_EQ(p.info->n_inputs, 1u);
  const std::string path = write_table("items_probe.npy", 4, 2);
  train::TableCache cache;
  const rg_tensor_list inputs{train::load_text_inputs("text_probe", p.info->inputs, p.info->n_inputs,
                                                      {{"profile_item", path}}, 3, 4, at::kCPU, cache)};
  rg_context ctx = host.ctx;
  ctx.inputs = &inputs;
  plugin::Instance probe(p, ctx, "{}");
  NamedTensors b;
  b.add("users", at::tensor({0, 1}, at::kLong));
  b.add("pos", at::tensor({1, 3}, at::kLong));
  b.add("neg", at::tensor({0, 0}, at::kLong));
  // Rows 1 and 3 of the table hold (1, 1.5) and (3, 3.5): row sums 2.5 and 6.5, mean 4.5.
  EXPECT_FLOAT_EQ(probe.enhancer_loss(b, NamedTensors()).at("text").item<float>(), 4.5f);
}
