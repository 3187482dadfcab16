// IRLLRec (ALGORITHMS.md §3.4): every loss term and its gradients against a dense re-statement written
// here; the EMA update; the ablation switches; the base model's prototypes.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include "plugin_support.hpp"
#include "reference_math.hpp"

using namespace recgrid;

namespace {

// Options under test, and the same switches for the dense reference.
struct Variant {
  bool paper = true;  // paper forms (propagate intents, batch negatives, R in both directions, similarity ITM)
  double l1 = 0.3, l2 = 0.2, l3 = 0.5, alpha = 0.4, tau = 0.3, eta = 2.0;

  nlohmann::json options() const {
    nlohmann::json o = {{"pair_weight", l1},      {"translation_weight", l2}, {"itm_weight", l3},
                        {"itm_alpha", alpha},     {"pair_temperature", tau},  {"translation_scale", eta},
                        {"intents", 5},           {"chunk", 3},               {"momentum", 0.9}};
    if (!paper) {
      o.update({{"intent_propagation", "embeddings"}, {"pair_user_negatives", "all"}, {"translation_source", "final"},
                {"translation_directions", "text_to_interaction"}, {"itm_form", "feature"}, {"teacher_init", "reinit"}});
    }
    return o;
  }
};

struct Fixture {
  test::HostContext host{test::tiny_dataset()};
  rg_tensor_list inputs;
  std::unique_ptr<plugin::Instance> base;
  NamedTensors batch;

  explicit Fixture(const std::string& base_name = "lightgcn", nlohmann::json base_options = {{"keep_rate", 1.0}, {"layers", 2}}) {
    at::manual_seed(5);
    inputs.items.add("intent_user", at::randn({3, 10}));
    inputs.items.add("intent_item", at::randn({4, 10}));
    host.ctx.inputs = &inputs;
    base = host.create_base(plugin::load_plugin(test::plugin_path(base_name)), base_options);
    batch.add("users", at::tensor({0, 2, 2, 1}, at::kLong));
    batch.add("pos", at::tensor({1, 3, 1, 1}, at::kLong));
    batch.add("neg", at::tensor({3, 0, 2, 0}, at::kLong));
  }
  std::unique_ptr<plugin::Instance> irllrec(const nlohmann::json& options) {
    return host.create(plugin::load_plugin(test::plugin_path("irllrec")), options);
  }
  const at::Tensor& x_user() const { return inputs.items.at("intent_user"); }
  const at::Tensor& x_item() const { return inputs.items.at("intent_item"); }
};

at::Tensor mlp(const NamedTensors& p, const std::string& prefix, const at::Tensor& x) {
  return at::leaky_relu(x.mm(p.at(prefix + ".w1").t()) + p.at(prefix + ".b1"), 0.01).mm(p.at(prefix + ".w2").t()) +
         p.at(prefix + ".b2");
}

// Dense R = mean_l AM(I^l) · (I^l or E^l) over l = 0..L-1.
at::Tensor ref_r(const Graph& g, const NamedTensors& enc, int64_t layers, const at::Tensor& cu, const at::Tensor& ci,
                 bool propagate_intents, int64_t M) {
  at::Tensor r = at::zeros_like(enc.at("layer.0"));
  for (int64_t l = 0; l < layers; ++l) {
    const at::Tensor e = enc.at("layer." + std::to_string(l));
    const at::Tensor in = at::cat({test::ref_intents(e.narrow(0, 0, M), cu), test::ref_intents(e.narrow(0, M, e.size(0) - M), ci)});
    r = r + test::ref_adaptive_mask(g, in).mm(propagate_intents ? in : e);
  }
  return r / static_cast<double>(layers);
}

at::Tensor ref_pair(const NamedTensors& b, const at::Tensor& r, const at::Tensor& zu, const at::Tensor& zi, int64_t M,
                    double tau, bool all_users, bool negative_term = true) {
  const at::Tensor u = b.at("users"), p = b.at("pos"), n = b.at("neg");
  const at::Tensor ru = r.narrow(0, 0, M), ri = r.narrow(0, M, r.size(0) - M);
  const at::Tensor za = zu.index_select(0, u), zp = zi.index_select(0, p), zn = zi.index_select(0, n);
  at::Tensor sum = test::ref_nce_a(ru.index_select(0, u), za, all_users ? zu : za, tau) +
                   test::ref_nce_a(ri.index_select(0, p), zp, zp, tau);
  if (negative_term) sum = sum + test::ref_nce_a(ri.index_select(0, n), zn, zn, tau);
  return sum / static_cast<double>(u.size(0));
}

// KL(softmax(t) || softmax(s)) per row, averaged, written with explicit probabilities.
at::Tensor ref_kl(const at::Tensor& t, const at::Tensor& s) {
  const at::Tensor q = t.softmax(1), p = s.softmax(1);
  return (q * (q.log() - p.log())).sum(1).mean();
}

at::Tensor unit(const at::Tensor& x) { return x / x.norm(2, 1, true); }

void expect_same_gradients(const at::Tensor& got, const at::Tensor& want, const std::vector<at::Tensor>& params) {
  const auto g = test::grads(got, params), w = test::grads(want, params);
  for (size_t k = 0; k < params.size(); ++k) {
    ASSERT_EQ(g[k].defined(), w[k].defined()) << k;
    if (g[k].defined()) EXPECT_TRUE(at::allclose(g[k], w[k], 1e-3, 1e-5)) << "parameter " << k << "\n" << g[k] << w[k];
  }
}

void check_all_terms(const Variant& s) {
  Fixture f;
  auto irl = f.irllrec(s.options());
  const NamedTensors bp = f.base->parameters(), p = irl->parameters(), buf = irl->buffers();
  {
    // As if an optimizer step had moved the student: the EMA teacher then differs from it, and the
    // distillation has a gradient (at teacher = student the KL is at its minimum, gradient 0).
    c10::NoGradGuard no_grad;
    p.at("mlp_x.w1").mul_(1.5);
    p.at("mlp_x.b2").add_(0.3);
  }
  const int64_t M = 3;
  const NamedTensors enc = f.base->encode(RG_MODE_TRAIN, nullptr);
  at::manual_seed(7);
  const NamedTensors got = irl->enhancer_loss(f.batch, enc);

  const at::Tensor zu = mlp(p, "mlp_x", f.x_user()), zi = mlp(p, "mlp_x", f.x_item()), z = at::cat({zu, zi});
  const at::Tensor r = ref_r(f.host.graph, enc, 2, p.at("intent.user"), p.at("intent.item"), s.paper, M);
  const at::Tensor pair = ref_pair(f.batch, r, zu, zi, M, s.tau, !s.paper) * s.l1;
  at::manual_seed(7);  // the plugin draws the graph side's noise first, then the text side's
  const at::Tensor F = s.paper ? r : enc.at("final");
  const at::Tensor f_noisy = F + F * at::randn_like(F), z_noisy = z + z * at::randn_like(z);
  at::Tensor tran = test::ref_nce_b(z_noisy, f_noisy, 1 / s.eta);
  if (s.paper) tran = tran + test::ref_nce_b(f_noisy, z_noisy, 1 / s.eta);
  // Eq. 17: the similarity form's ITM takes L_tran unweighted; REF's feature form the λ2-weighted term.
  const at::Tensor itm_tran = s.paper ? tran : tran * s.l2;
  tran = tran * s.l2;
  at::Tensor match;
  if (s.paper) {
    // Teachers at the first step: the EMA text tower (= a copy of the student) and R itself.
    const at::Tensor r_t = r.detach();
    auto side = [&](const at::Tensor& zs, const at::Tensor& zt, const at::Tensor& nodes) {
      const at::Tensor rs = r.index_select(0, nodes), rt = r_t.index_select(0, nodes);
      const at::Tensor student = unit(zs).mm(unit(rs).t()) / s.tau, teacher = unit(zt).mm(unit(rt).t()) / s.tau;
      return ref_kl(teacher, student) + ref_kl(teacher.t(), student.t());
    };
    const at::Tensor u = at::tensor({0, 1, 2}, at::kLong), pos = at::tensor({1, 3}, at::kLong);  // distinct batch nodes
    const at::Tensor zu_t = mlp(buf, "mlp_x_teacher", f.x_user()).detach(), zi_t = mlp(buf, "mlp_x_teacher", f.x_item()).detach();
    match = side(zu.index_select(0, u), zu_t.index_select(0, u), u) + side(zi.index_select(0, pos), zi_t.index_select(0, pos), pos + M);
  } else {
    const at::Tensor zt = at::cat({mlp(buf, "mlp_x_teacher", f.x_user()), mlp(buf, "mlp_x_teacher", f.x_item())}).detach();
    match = -(zt.softmax(1) * z.log_softmax(1)).sum(1).mean();
  }
  const at::Tensor itm = (match * s.alpha + itm_tran * (1 - s.alpha)) * s.l3;

  const bool translate = s.l2 != 0;
  EXPECT_EQ(got.names(), translate ? "pair, tran, itm" : "pair, itm");
  EXPECT_NEAR(got.at("pair").item<double>(), pair.item<double>(), 1e-5);
  if (translate) EXPECT_NEAR(got.at("tran").item<double>(), tran.item<double>(), 1e-5);
  EXPECT_NEAR(got.at("itm").item<double>(), itm.item<double>(), 1e-5);
  const std::vector<at::Tensor> params{bp.at("user_emb"), bp.at("item_emb"), p.at("intent.user"), p.at("intent.item"),
                                       p.at("mlp_x.w1"),  p.at("mlp_x.b1"),  p.at("mlp_x.w2"),    p.at("mlp_x.b2")};
  expect_same_gradients(got.at("pair"), pair, params);
  if (translate) expect_same_gradients(got.at("tran"), tran, params);
  expect_same_gradients(got.at("itm"), itm, params);
}

}  // namespace

TEST(Irllrec, PaperTermsAndGradientsMatchTheFormulas) { check_all_terms(Variant{true}); }

TEST(Irllrec, BatchRowTermsAndGradientsMatchTheFormulas) {
  Variant s{true};
  s.l2 = 0;
  s.alpha = 1;  // no translation anywhere: pair and ITM read only the batch's users and items (one tower call per table)
  check_all_terms(s);
}

// Eq. 17's mend: with λ2 = 0 the similarity-form ITM keeps its translation part (1 - α) L_tran; it
// used to reuse the λ2-weighted term and so lost it.
TEST(Irllrec, WithoutTranslationWeightTheMatchingKeepsItsTranslationPart) {
  Variant s{true};
  s.l2 = 0;
  check_all_terms(s);
}

// Eq. 18: with graph_teacher momentum_encoder the similarity ITM's graph teacher R' is the interaction
// translation_keys = k: the translation runs on a uniform sample of k of the V nodes (drawn before the
// noise), each denominator's other terms scaled by (V-1)/(k-1); value and gradients against a dense
// re-statement of that estimate.
TEST(Irllrec, TranslationOnSampledKeysMatchesTheScaledEstimate) {
  Fixture f;
  Variant s{true};
  nlohmann::json options = s.options();
  options.update({{"translation_keys", 4}, {"itm_weight", 0.0}});
  auto irl = f.irllrec(options);
  const NamedTensors bp = f.base->parameters(), p = irl->parameters();
  const int64_t M = 3, V = 7, k = 4;
  const NamedTensors enc = f.base->encode(RG_MODE_TRAIN, nullptr);
  at::manual_seed(7);
  const NamedTensors got = irl->enhancer_loss(f.batch, enc);
  ASSERT_EQ(got.names(), "pair, tran");

  const at::Tensor z = at::cat({mlp(p, "mlp_x", f.x_user()), mlp(p, "mlp_x", f.x_item())});
  const at::Tensor r = ref_r(f.host.graph, enc, 2, p.at("intent.user"), p.at("intent.item"), s.paper, M);
  at::manual_seed(7);
  const at::Tensor nodes = at::randperm(V, at::kLong).narrow(0, 0, k);
  const at::Tensor fs = r.index_select(0, nodes), zs = z.index_select(0, nodes);
  const at::Tensor f_noisy = fs + fs * at::randn_like(fs), z_noisy = zs + zs * at::randn_like(zs);
  auto estimate = [&](const at::Tensor& x, const at::Tensor& y) {
    const at::Tensor e = unit(x).mm(unit(y).t()).mul(s.eta).exp();
    const at::Tensor positive = e.diagonal(), den = positive + (V - 1.0) / (k - 1.0) * (e.sum(1) - positive);
    return -((positive / (den + 1e-8)) + 1e-8).log().mean();
  };
  const at::Tensor tran = (estimate(z_noisy, f_noisy) + estimate(f_noisy, z_noisy)) * s.l2;
  EXPECT_NEAR(got.at("tran").item<double>(), tran.item<double>(), 1e-5);
  expect_same_gradients(got.at("tran"), tran, {bp.at("user_emb"), bp.at("item_emb"), p.at("intent.user"),
                                               p.at("intent.item"), p.at("mlp_x.w1"), p.at("mlp_x.w2")});
  EXPECT_THROW(f.irllrec({{"translation_keys", 1}}), std::exception);
}

// intents of EMA copies of the ID tables and prototypes, propagated over Â; ema_intents starts from R.
TEST(Irllrec, MomentumGraphEncoderBuildsTheTeacherFromEmaTables) {
  Fixture f;
  const nlohmann::json base_options = {{"momentum", 0.9}, {"intents", 5}, {"chunk", 3}};
  nlohmann::json encoder_options = base_options;
  encoder_options["graph_teacher"] = "momentum_encoder";
  auto irl = f.irllrec(encoder_options);
  const NamedTensors bp = f.base->parameters(), p = irl->parameters(), buf = irl->buffers();
  const at::Tensor u0 = bp.at("user_emb").detach().clone(), i0 = bp.at("item_emb").detach().clone();
  const at::Tensor cu0 = p.at("intent.user").detach().clone(), ci0 = p.at("intent.item").detach().clone();
  {
    c10::NoGradGuard g;  // as if an optimizer step moved the student
    bp.at("user_emb").add_(0.5);
    p.at("intent.item").mul_(2.0);
  }
  const NamedTensors enc = f.base->encode(RG_MODE_TRAIN, nullptr);
  irl->enhancer_loss(f.batch, enc);
  auto ema = [](const at::Tensor& before, const at::Tensor& now) { return before * 0.9 + now.detach() * 0.1; };
  const at::Tensor ue = ema(u0, bp.at("user_emb")), ie = ema(i0, bp.at("item_emb"));
  const at::Tensor cue = ema(cu0, p.at("intent.user")), cie = ema(ci0, p.at("intent.item"));
  EXPECT_TRUE(at::allclose(buf.at("state.ema.user_emb"), ue, 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(buf.at("state.ema.intent.item"), cie, 1e-6, 1e-7));
  const at::Tensor a = test::dense(f.host.graph, f.host.graph.norm), e0 = at::cat({ue, ie});
  NamedTensors teacher;
  teacher.add("layer.0", e0);
  teacher.add("layer.1", a.mm(e0));
  teacher.add("layer.2", a.mm(a.mm(e0)));
  const at::Tensor want = ref_r(f.host.graph, teacher, 2, cue, cie, true, 3);
  EXPECT_TRUE(at::allclose(buf.at("state.graph_teacher"), want, 1e-5, 1e-6)) << buf.at("state.graph_teacher") << want;
  // It differs from R (the student moved) and from what ema_intents holds after its first step: R itself.
  nlohmann::json ema_options = base_options;
  ema_options["graph_teacher"] = "ema_intents";
  auto irl2 = f.irllrec(ema_options);
  const NamedTensors p2 = irl2->parameters();
  irl2->enhancer_loss(f.batch, enc);
  const at::Tensor r = ref_r(f.host.graph, enc, 2, p2.at("intent.user"), p2.at("intent.item"), true, 3);
  EXPECT_TRUE(at::allclose(irl2->buffers().at("state.graph_teacher"), r, 1e-5, 1e-6));
  EXPECT_FALSE(irl2->buffers().contains("state.ema.user_emb"));
}

TEST(Irllrec, RefTermsAndGradientsMatchTheFormulas) {
  Variant s{false};
  s.alpha = 0.6;
  check_all_terms(s);
}

TEST(Irllrec, TeacherStartsAsRefSaysAndFollowsTheEmaExactly) {
  Fixture f;
  const NamedTensors enc = f.base->encode(RG_MODE_TRAIN, nullptr);
  for (const char* form : {"similarity", "feature"})
    for (const char* init : {"copy", "reinit"}) {
      SCOPED_TRACE(std::string(form) + " " + init);
      auto irl = f.irllrec({{"teacher_init", init}, {"momentum", 0.9}, {"itm_form", form}});
      const NamedTensors p = irl->parameters(), buf = irl->buffers();
      const bool copy = std::string(init) == "copy";
      EXPECT_EQ(at::equal(buf.at("mlp_x_teacher.w1"), p.at("mlp_x.w1")), copy);
      EXPECT_TRUE(at::equal(buf.at("mlp_x_teacher.b1"), p.at("mlp_x.b1")));  // REF: biases stay copies
      for (int step = 0; step < 3; ++step) {
        {
          c10::NoGradGuard g;
          p.at("mlp_x.w1").add_(0.5);  // as if an optimizer step moved the student
          p.at("mlp_x.b1").sub_(0.25);
        }
        const at::Tensor before = buf.at("mlp_x_teacher.w1").clone(), student = p.at("mlp_x.w1").detach().clone();
        const at::Tensor b_before = buf.at("mlp_x_teacher.b1").clone(), b_student = p.at("mlp_x.b1").detach().clone();
        irl->enhancer_loss(f.batch, enc);  // a training step starts with the EMA update
        EXPECT_TRUE(at::allclose(buf.at("mlp_x_teacher.w1"), before * 0.9 + student * 0.1, 1e-6, 1e-7));
        EXPECT_TRUE(at::allclose(buf.at("mlp_x_teacher.b1"), b_before * 0.9 + b_student * 0.1, 1e-6, 1e-7));
        EXPECT_TRUE(at::equal(p.at("mlp_x.w1"), student)) << "the student is not touched";
      }
      if (std::string(form) == "feature") {
        // The cached teacher pre-activation is the teacher's first layer on every row.
        const at::Tensor x = at::cat({f.x_user(), f.x_item()});
        const at::Tensor want = x.mm(buf.at("mlp_x_teacher.w1").t()) + buf.at("mlp_x_teacher.b1");
        EXPECT_TRUE(at::allclose(buf.at("state.teacher_hidden"), want, 1e-5, 1e-5));
      }
    }
}

TEST(Irllrec, EachAblationSwitchRemovesExactlyItsPart) {
  Fixture f;
  const NamedTensors enc = f.base->encode(RG_MODE_TRAIN, nullptr);
  const Variant s{true};
  auto full = f.irllrec(s.options());
  at::manual_seed(3);
  const NamedTensors all = full->enhancer_loss(f.batch, enc);
  // Same parameters in the ablated instance, same noise.
  auto run = [&](const char* off) {
    nlohmann::json o = s.options();
    o[off] = false;
    auto ablated = f.irllrec(o);
    c10::NoGradGuard g;
    const NamedTensors src_p = full->parameters(), src_b = full->buffers();
    for (const auto& [name, t] : ablated->parameters()) const_cast<at::Tensor&>(t).copy_(src_p.at(name));
    for (const auto& [name, t] : ablated->buffers())
      if (src_b.contains(name)) const_cast<at::Tensor&>(t).copy_(src_b.at(name));
    return ablated;
  };
  {
    auto a = run("ia");
    at::manual_seed(3);
    const NamedTensors t = a->enhancer_loss(f.batch, enc);
    EXPECT_EQ(t.names(), "itm");
    EXPECT_NEAR(t.at("itm").item<double>(), all.at("itm").item<double>(), 1e-6);
  }
  {
    auto a = run("itm");
    at::manual_seed(3);
    const NamedTensors t = a->enhancer_loss(f.batch, enc);
    EXPECT_EQ(t.names(), "pair, tran");
    EXPECT_NEAR(t.at("pair").item<double>(), all.at("pair").item<double>(), 1e-6);
    EXPECT_NEAR(t.at("tran").item<double>(), all.at("tran").item<double>(), 1e-6);
    EXPECT_FALSE(a->buffers().contains("mlp_x_teacher.w1")) << "no teacher without ITM";
  }
  {
    // w/o Graph: R is the base model's final embeddings; no prototypes.
    auto a = run("graph_encoder");
    EXPECT_FALSE(a->parameters().contains("intent.user"));
    const NamedTensors t = a->enhancer_loss(f.batch, enc);
    const NamedTensors p = a->parameters();
    const at::Tensor want = ref_pair(f.batch, enc.at("final"), mlp(p, "mlp_x", f.x_user()), mlp(p, "mlp_x", f.x_item()),
                                     3, s.tau, false) * s.l1;
    EXPECT_NEAR(t.at("pair").item<double>(), want.item<double>(), 1e-5);
  }
  {
    // w/o Text: a fixed projection instead of mlp_x; nothing trainable on the text side.
    auto a = run("text_encoder");
    EXPECT_FALSE(a->parameters().contains("mlp_x.w1"));
    const at::Tensor proj = a->buffers().at("text.projection");
    const NamedTensors t = a->enhancer_loss(f.batch, enc);
    const NamedTensors p = a->parameters();
    const at::Tensor r = ref_r(f.host.graph, enc, 2, p.at("intent.user"), p.at("intent.item"), true, 3);
    const at::Tensor want = ref_pair(f.batch, r, f.x_user().mm(proj), f.x_item().mm(proj), 3, s.tau, false) * s.l1;
    EXPECT_NEAR(t.at("pair").item<double>(), want.item<double>(), 1e-5);
  }
}

TEST(Irllrec, UsesTheBaseModelsPrototypesAndReproducesDccfsIntentLayers) {
  // REF dccf_int: R = mean_l Z_ia^l, DCCF's own intent-adaptive layer outputs.
  Fixture f("dccf", {{"layers", 2}, {"intents", 5}});
  auto irl = f.irllrec({{"intent_propagation", "embeddings"}, {"pair_user_negatives", "all"}, {"pair_weight", 1.0},
                        {"translation_weight", 0.0}, {"itm_weight", 0.0}, {"pair_temperature", 0.3}});
  EXPECT_FALSE(irl->parameters().contains("intent.user")) << "DCCF's prototypes are used, none created";
  const NamedTensors enc = f.base->encode(RG_MODE_TRAIN, nullptr);
  const NamedTensors t = irl->enhancer_loss(f.batch, enc);
  EXPECT_EQ(t.names(), "pair");
  const NamedTensors p = irl->parameters();
  const at::Tensor r = (enc.at("zia.0") + enc.at("zia.1")) / 2;
  const at::Tensor want = ref_pair(f.batch, r, mlp(p, "mlp_x", f.x_user()), mlp(p, "mlp_x", f.x_item()), 3, 0.3, true);
  EXPECT_NEAR(t.at("pair").item<double>(), want.item<double>(), 1e-5);
  const NamedTensors bp = f.base->parameters();
  expect_same_gradients(t.at("pair"), want, {bp.at("user_intents"), bp.at("item_intents"), bp.at("user_emb")});
}

TEST(Irllrec, MissingOrMismatchedOptionsAreClearErrors) {
  Fixture f;
  EXPECT_THROW(
      {
        try {
          f.irllrec({{"itm_form", "kl"}});
        } catch (const std::exception& e) {
          EXPECT_NE(std::string(e.what()).find("option 'itm_form' must be one of {similarity, feature}, found kl"), std::string::npos)
              << e.what();
          throw;
        }
      },
      std::exception);
}
