// KAR (ALGORITHMS.md §3.7): the hybrid-expert adaptor against an expert-by-expert computation, gates
// that sum to 1, and both fusions.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "hybrid_experts.hpp"
#include "plugin_support.hpp"

using namespace recgrid;
using J = nlohmann::json;

namespace {

// LightGCN + KAR with 12-wide profiles.
struct KarSetup : test::EnhancerOnTiny {
  KarSetup(const nlohmann::json& base_options, const nlohmann::json& kar_options)
      : EnhancerOnTiny(tables(), base_options, "kar", kar_options), kar(enhancer) {}
  static NamedTensors tables() {
    at::manual_seed(9);
    NamedTensors t;
    t.add("profile_user", at::randn({3, 12}));
    t.add("profile_item", at::randn({4, 12}));
    return t;
  }
  std::unique_ptr<plugin::Instance>& kar;
};

// a = sum_j gate_j expert_j(k), one expert at a time with plain products.
at::Tensor by_hand(const NamedTensors& p, const at::Tensor& k, int task, int64_t shared, int64_t per_task) {
  std::vector<int64_t> ids;
  for (int64_t j = 0; j < shared; ++j) ids.push_back(j);
  for (int64_t j = 0; j < per_task; ++j) ids.push_back(shared + task * per_task + j);
  const std::string gate = task == 0 ? "adaptor.gate_user_" : "adaptor.gate_item_";
  const at::Tensor g = at::softmax(k.mm(p.at(gate + "w")) + p.at(gate + "b"), 1);
  at::Tensor a = at::zeros({k.size(0), p.at("adaptor.expert_w2").size(2)});
  for (size_t j = 0; j < ids.size(); ++j) {
    const int64_t e = ids[j];
    const at::Tensor h = at::relu(k.mm(p.at("adaptor.expert_w1")[e]) + p.at("adaptor.expert_b1")[e]);
    const at::Tensor out = at::relu(h.mm(p.at("adaptor.expert_w2")[e]) + p.at("adaptor.expert_b2")[e]);
    a = a + g.select(1, static_cast<int64_t>(j)).unsqueeze(1) * out;
  }
  return a;
}

}  // namespace

TEST(Kar, GatesSumToOneAndExpertsAreNonNegative) {
  kar::ExpertShape shape;
  shape.input = 12, shape.hidden = 16, shape.output = 8, shape.shared = 2, shape.per_task = 3;
  at::manual_seed(3);
  kar::HybridExperts hea(shape, at::TensorOptions().dtype(at::kFloat));
  const at::Tensor k = at::randn({50, 12}) * 3;
  for (auto task : {kar::HybridExperts::kUser, kar::HybridExperts::kItem}) {
    const at::Tensor g = hea.gates(k, task);
    EXPECT_EQ(g.sizes(), (at::IntArrayRef{50, 5}));  // 2 shared + 3 of the task
    EXPECT_TRUE(at::allclose(g.sum(1), at::ones({50}), 1e-6, 1e-6));
    EXPECT_GE(g.min().item<float>(), 0.0f);
    EXPECT_GE(hea.experts(k, task, false).min().item<float>(), 0.0f);  // ReLU after the last layer too
  }
}

TEST(Kar, AddFusionMatchesTheExpertByExpertSumAndGradientsReachTheAdaptor) {
  KarSetup s(J{{"embedding_size", 8}}, {{"fusion", "add"}, {"dim", 8}, {"shared_experts", 2}, {"task_experts", 3},
                                       {"expert_hidden", 16}});
  const NamedTensors p = s.kar->parameters();
  const at::Tensor e0 = s.base->layer0();
  const at::Tensor got = s.kar->transform_inputs(RG_MODE_TRAIN, e0);
  const at::Tensor want = e0 + at::cat({by_hand(p, s.table("profile_user"), 0, 2, 3),
                                        by_hand(p, s.table("profile_item"), 1, 2, 3)}, 0);
  EXPECT_TRUE(at::allclose(got, want, 1e-5, 1e-6));
  // The item task never uses the user task's own experts (ids 2..4).
  got.pow(2).sum().backward();
  const at::Tensor gw1 = p.at("adaptor.expert_w1").grad();
  EXPECT_GT(gw1[0].abs().sum().item<double>(), 0);  // shared
  EXPECT_GT(gw1[2].abs().sum().item<double>(), 0);  // users' own
  EXPECT_GT(gw1[5].abs().sum().item<double>(), 0);  // items' own
  EXPECT_GT(p.at("adaptor.gate_item_w").grad().abs().sum().item<double>(), 0);
}

TEST(Kar, ConcatFusionKeepsTheFirstHalfOfTheIdEmbeddingsAndAppendsTheAdaptor) {
  KarSetup s(J{{"embedding_size", 16}}, {{"fusion", "concat"}, {"dim", 8}, {"shared_experts", 1}, {"task_experts", 2},
                                        {"expert_hidden", 16}});
  const NamedTensors p = s.kar->parameters();
  const at::Tensor e0 = s.base->layer0();
  const at::Tensor got = s.kar->transform_inputs(RG_MODE_EVAL, e0);
  ASSERT_EQ(got.sizes(), (at::IntArrayRef{7, 16}));
  EXPECT_TRUE(at::equal(got.narrow(1, 0, 8), e0.narrow(1, 0, 8)));
  const at::Tensor a = at::cat({by_hand(p, s.table("profile_user"), 0, 1, 2),
                                by_hand(p, s.table("profile_item"), 1, 1, 2)}, 0);
  EXPECT_TRUE(at::allclose(got.narrow(1, 8, 8), a, 1e-5, 1e-6));
}

TEST(Kar, WidthMismatchesAreExplained) {
  KarSetup add(J{{"embedding_size", 32}}, {{"fusion", "add"}, {"dim", 16}});
  try {
    add.kar->transform_inputs(RG_MODE_TRAIN, add.base->layer0());
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("fusion add needs the base model's embedding_size (32) to equal kar.dim (16)"),
              std::string::npos) << e.what();
  }
  EXPECT_THROW(KarSetup(J::object(), {{"fusion", "multiply"}}), std::exception);
}
