// IRLLRec (SIGIR 2025; ALGORITHMS.md §3.4, §4.1; README.md in this folder): align LLM text intents
// with interaction intents learned on the graph, and match them by momentum distillation.
//
//   Z   = mlp_x(X)                                        text intents (text_intents.hpp)
//   R   = mean_l G_α(Int_C(E^l)) · (...)                  interaction intents (interaction_intents.hpp)
//   pair = λ1 L_pair(R, Z)                                 pairwise alignment (alignment.hpp)
//   tran = λ2 L_tran(F, Z)                                 translation alignment, F = R or E*
//   itm  = λ3 [(1 - α) λ2 L_tran + α L_match]              momentum distillation (matching.hpp, momentum.hpp)
//
// Model-agnostic: it reads only the base encoding's conventional names ("layer.<l>", optional view
// prefix, "final", "intent.user"/"intent.item"; its `needs`) and, at creation, whether the base model
// declares it gives prototypes ("intent.user"/"intent.item", recgrid::intent_prototypes).
#include <ATen/ATen.h>

#include <cmath>

#include "alignment.hpp"
#include "interaction_intents.hpp"
#include "matching.hpp"
#include "momentum.hpp"
#include "recgrid/ops.hpp"
#include "recgrid/sdk.hpp"
#include "recgrid/text_tables.hpp"
#include "recgrid/text_mlp.hpp"
#include "text_intents.hpp"

namespace {

using recgrid::NamedTensors;

class Irllrec final : public recgrid::Enhancer {
 public:
  struct Options {
    std::string prototypes, intent_propagation, intent_view, pair_user_negatives, translation_source,
        translation_directions, itm_form, teacher_init, graph_teacher;
    int64_t intents, chunk;
    recgrid::SampleKeys translation_keys;
    bool intent_next_layer, pair_negative_term, translation_noise, ia, itm, graph_encoder, text_encoder;
    double pair_weight, pair_temperature, translation_weight, translation_scale, itm_weight, itm_alpha, momentum;
    template <class D>
    void declare(D& d) {
      d(prototypes, "prototypes", "auto", "{auto, own}",
        "intent prototypes: auto (the base model's if it has them, else own) | own");
      d(intents, "intents", 128, "[1, inf)", "K, number of own intent prototypes per side");
      d(intent_propagation, "intent_propagation", "intents", "{intents, embeddings}",
        "what the adaptive-mask graph propagates: intents (paper eq. 12) | embeddings (REF)");
      d(intent_view, "intent_view", "", "", "encoding prefix of the layers R is built on, e.g. view2. (REF SGL)");
      d(intent_next_layer, "intent_next_layer", false, "", "mask of layer l applied to layer l+1 (REF BIGCF)");
      d(pair_weight, "pair_weight", 0.02, "[0, inf)", "λ1, weight of the pairwise alignment");
      d(pair_temperature, "pair_temperature", 0.2, "(0, inf)", "τ of the pairwise alignment (and of the similarity ITM)");
      d(pair_user_negatives, "pair_user_negatives", "batch", "{batch, all}", "user negatives: batch (paper) | all (REF)");
      d(pair_negative_term, "pair_negative_term", true, "", "include the negative-item term (REF SimGCL: false)");
      d(translation_weight, "translation_weight", "1.0e-3", "[0, inf)", "λ2, weight of the translation alignment");
      d(translation_source, "translation_source", "intent", "{intent, final}",
        "graph side of the translation: intent (R, paper) | final (E*, REF)");
      d(translation_directions, "translation_directions", "both", "{both, text_to_interaction}",
        "both (paper) | text_to_interaction (REF)");
      d(translation_scale, "translation_scale", 1.0, "(0, inf)", "η, similarity scale (cosine times η)");
      d(translation_noise, "translation_noise", true, "", "multiplicative Gaussian noise F + F⊙ε (eq. 14)");
      d(translation_keys, "translation_keys", "auto", recgrid::kSampleKeysRange,
        "0 = every node (exact, V² work per step); k >= 2: a uniform sample of k nodes per step, each sum's "
        "other terms scaled by (V-1)/(k-1) (k² work; for large graphs, README); auto: exact up to 32,768 nodes, "
        "4,096 above");
      d(itm_weight, "itm_weight", "1.0e-4", "[0, inf)", "λ3, weight of interaction-text matching (0: no ITM, no teacher)");
      d(itm_form, "itm_form", "similarity", "{similarity, feature}",
        "distillation: similarity (paper: cross-modal in-batch KL) | feature (REF: softmax over d)");
      d(itm_alpha, "itm_alpha", 0.4, "[0, 1]",
        "α: L_ITM = (1-α) L_tran + α L_match (eq. 17; the feature form, as REF: (1-α) λ2 L_tran; REF α: 0.6)");
      d(momentum, "momentum", 0.999, "[0, 1]", "β of the EMA teachers");
      d(graph_teacher, "graph_teacher", "momentum_encoder", "{momentum_encoder, ema_intents}",
        "similarity ITM's graph teacher R': momentum_encoder (eq. 18: the intents of EMA copies of the ID tables "
        "and prototypes) | ema_intents (an EMA of R itself)");
      d(teacher_init, "teacher_init", "copy", "{copy, reinit}",
        "copy (teacher = student) | reinit (REF: fresh Xavier weights, biases copied)");
      d(ia, "ia", true, "", "ablation: false removes intent alignment (pair and tran terms)");
      d(itm, "itm", true, "", "ablation: false removes interaction-text matching");
      d(graph_encoder, "graph_encoder", true, "", "ablation: false uses the base model's final embeddings as R");
      d(text_encoder, "text_encoder", true, "", "ablation: false replaces mlp_x by a fixed random projection");
      d(chunk, "chunk", 2048, "[1, inf)", "keys per streamed block of every contrast");
    }
  };

  static recgrid::PluginSpec spec() {
    recgrid::PluginSpec s{"irllrec",
            "1.3.0",  // 1.1.0: eq. 17 mend, eq. 18 momentum graph encoder; 1.2.0: translation_keys; 1.3.0: its auto
            "IRLLRec: intent alignment (pairwise + translation) and momentum-distilled matching of LLM text "
            "intents with graph interaction intents",
            recgrid::declared_options<Options>(),
            {
                {"intent_user", RG_ROWS_USERS, 0, "user intent embeddings (IRLLRec user_intent_emb_3.pkl)"},
                {"intent_item", RG_ROWS_ITEMS, 0, "item intent embeddings (IRLLRec item_intent_emb_3.pkl)"},
            }};
    s.needs = {recgrid::encoding_tensor("final", "E*: translation_source final, graph_encoder false, feature ITM"),
               recgrid::encoding_layers("layer.<l>", 0, "E^l: layer 0 of every view, the momentum graph encoder's depth"),
               recgrid::encoding_layers("{intent_view}layer.<l>", 1, "E^1..E^L the interaction intents R are built on")};
    return s;
  }

  Irllrec(const recgrid::Context& ctx, const Options& o)
      : n_users_(ctx.n_users),
        x_user_(ctx.inputs.at("intent_user")),
        x_item_(ctx.inputs.at("intent_item")),
        graph_(ctx.graph),
        intents_(ctx.graph, ctx.n_users, {o.intent_propagation == "intents", o.intent_next_layer, o.intent_view}),
        teacher_intents_(ctx.graph, ctx.n_users, {o.intent_propagation == "intents", o.intent_next_layer, ""}),
        pair_{o.pair_temperature, o.pair_user_negatives == "all", o.pair_negative_term, o.chunk},
        translation_{o.translation_scale, o.translation_directions == "both", o.translation_noise, o.chunk,
                     o.translation_keys.resolve(ctx.n_nodes())},
        lambda1_(o.pair_weight),
        lambda2_(o.translation_weight),
        lambda3_(o.itm_weight),
        alpha_(o.itm_alpha),
        translate_final_(o.translation_source == "final"),
        feature_itm_(o.itm_form == "feature"),
        ia_(o.ia),
        itm_(o.itm && lambda3_ != 0),  // λ3 = 0: no ITM, no teacher (REF on all but LightGCN)
        graph_encoder_(o.graph_encoder),
        beta_(o.momentum),
        momentum_(beta_) {
    recgrid::require_same_width("irllrec", "intent_user", x_user_, "intent_item", x_item_);
    const int64_t d = recgrid::base_embedding_size(ctx, "irllrec");
    const auto options = at::TensorOptions().dtype(at::kFloat).device(ctx.device);
    make_prototypes(ctx, o, d, options);
    make_text_encoders(o, d, options);
    // Teacher state that is not a weight ("state." buffers: checkpointed, not regularised).
    if (itm_ && !feature_itm_) {
      graph_teacher_ = register_buffer("state.graph_teacher", at::zeros({ctx.n_nodes(), d}, options));
      graph_teacher_ready_ = register_buffer("state.graph_teacher_ready", at::zeros({}, options));
      if (o.graph_teacher == "momentum_encoder" && graph_encoder_) make_momentum_graph_encoder(ctx);
    }
    if (itm_ && feature_itm_ && teacher_.mlp) {
      // The teacher's first layer is linear in its weights, so its pre-activation X W1_T^T + b1_T follows
      // the same EMA as the weights: kept here and updated with the student's pre-activation, it
      // replaces the teacher's [V x d_x] x [d_x x h] product every step by one [V x h] update.
      c10::NoGradGuard no_grad;
      teacher_hidden_ = register_buffer(
          "state.teacher_hidden", at::cat({teacher_.mlp->hidden(x_user_), teacher_.mlp->hidden(x_item_)}));
    }
  }

  NamedTensors loss(const recgrid::Batch& b, const NamedTensors& enc) override {
    irllrec::ProjectedTable z_user(student_, x_user_), z_item(student_, x_item_);
    // L_tran is shared by the alignment (× λ2) and the matching (× (1 - α)): computed once. Eq. 17 puts
    // the unweighted L_tran in ITM (the similarity form); REF's feature form reuses the λ2-weighted term.
    const bool tran_in_itm = itm_ && alpha_ < 1 && (lambda2_ != 0 || !feature_itm_);
    const bool translate = (ia_ && lambda2_ != 0) || tran_in_itm;
    at::Tensor z_all;  // every node's Z [V x d], users then items, when a term needs it
    if (translate || (itm_ && feature_itm_)) {  // project each table once
      z_all = at::cat({z_user.all(), z_item.all()});
    } else {  // the batch's rows: each distinct user and item through the tower once
      if (!pair_.all_user_negatives) z_user.prepare(b.users);
      z_item.prepare(pair_.negative_term && ia_ ? at::cat({b.pos, b.neg}) : b.pos);
    }
    const at::Tensor r = interaction_intents(enc);
    const at::Tensor r_user = r.narrow(0, 0, n_users_), r_item = r.narrow(0, n_users_, r.size(0) - n_users_);
    NamedTensors out;
    if (ia_ && lambda1_ != 0)
      out.add("pair", irllrec::pairwise_alignment(b, r_user, r_item, z_user, z_item, pair_) * lambda1_);
    at::Tensor tran;  // unweighted L_tran
    if (translate) {
      tran = irllrec::translation_alignment(translate_final_ ? enc.at("final") : r, z_all, translation_);
      if (ia_ && lambda2_ != 0) out.add("tran", tran * lambda2_);
    }
    if (itm_) {
      at::Tensor itm = matching(b, enc, r, z_user, z_item, z_all) * alpha_;
      if (tran_in_itm) itm = itm + tran * ((feature_itm_ ? lambda2_ : 1.0) * (1 - alpha_));
      out.add("itm", itm * lambda3_);
    }
    return out;
  }

  // The text intents Z = mlp_x(X) of every user and item (the student's).
  recgrid::NamedTensors text_side() override {
    recgrid::NamedTensors out;
    out.add("user", student_(x_user_));
    out.add("item", student_(x_item_));
    return out;
  }

 private:
  // Prototypes: those the base model declares it gives ("intent.user"/"intent.item" with their
  // parameters, recgrid::intent_prototypes: DCCF and BIGCF) unless told otherwise.
  void make_prototypes(const recgrid::Context& ctx, const Options& o, int64_t d, const at::TensorOptions& options) {
    base_c_user_ = recgrid::base_parameter_given_as(ctx, "intent.user");
    base_c_item_ = recgrid::base_parameter_given_as(ctx, "intent.item");
    const bool base_has = base_c_user_.defined() && base_c_item_.defined();
    const bool own = o.prototypes == "own" || !base_has;
    if (!graph_encoder_ || !own) return;  // read from the encoding in loss()
    const int64_t K = o.intents;
    c_user_ = register_parameter("intent.user", recgrid::ops::xavier_uniform(d, K, options));
    c_item_ = register_parameter("intent.item", recgrid::ops::xavier_uniform(d, K, options));
  }

  // Eq. 18's momentum graph encoder: EMA copies of the ID tables and of the prototypes R is built
  // with ("state." buffers: checkpointed, not regularised; the EMA moves them, never a gradient).
  void make_momentum_graph_encoder(const recgrid::Context& ctx) {
    const auto& bp = ctx.base_parameters;
    if (!bp.contains("user_emb") || !bp.contains("item_emb"))
      throw std::invalid_argument("irllrec: graph_teacher: momentum_encoder needs the base model's ID tables "
                                  "(user_emb, item_emb); set irllrec.graph_teacher: ema_intents");
    auto ema_copy = [&](const std::string& name, const at::Tensor& student) {
      at::Tensor teacher = register_buffer("state.ema." + name, student.detach().clone());
      momentum_.track(teacher, student);
      return teacher;
    };
    ema_user_emb_ = ema_copy("user_emb", bp.at("user_emb"));
    ema_item_emb_ = ema_copy("item_emb", bp.at("item_emb"));
    const bool own = c_user_.defined();
    ema_c_user_ = ema_copy("intent.user", own ? c_user_ : base_c_user_);
    ema_c_item_ = ema_copy("intent.item", own ? c_item_ : base_c_item_);
  }

  // R' of the momentum graph encoder: the EMA tables propagated over the plain normalised graph
  // (LightGCN's encoder, the backbone of the paper's eq. 9-12) for as many layers as the base
  // encoding has, then the same interaction intents as R with the EMA prototypes. No gradient.
  at::Tensor momentum_graph_intents(const NamedTensors& enc) const {
    int64_t layers = 0;
    while (enc.contains("layer." + std::to_string(layers + 1))) ++layers;
    const at::Tensor e0 = at::cat({ema_user_emb_, ema_item_emb_});
    const std::vector<at::Tensor> prop = recgrid::ops::propagate(graph_, graph_.norm, e0, layers);
    NamedTensors teacher;
    teacher.add("layer.0", e0);
    for (int64_t l = 1; l <= layers; ++l) teacher.add("layer." + std::to_string(l), prop[static_cast<size_t>(l)]);
    return teacher_intents_(teacher, ema_c_user_, ema_c_item_);
  }

  void make_text_encoders(const Options& o, int64_t d, const at::TensorOptions& options) {
    const int64_t d_x = x_user_.size(1);
    if (!o.text_encoder) {
      // "w/o Text": no learned mapping; a fixed Gaussian projection only matches the widths.
      student_.projection = register_buffer("text.projection", at::randn({d_x, d}, options) / std::sqrt(d));
      teacher_.projection = student_.projection;  // nothing to average: the teacher is the same map
      return;
    }
    student_.mlp.emplace(d_x, d, options);
    recgrid::TextMlp& s = *student_.mlp;
    register_module("mlp_x", s);
    if (!itm_) return;
    // The teacher: a copy of the student, or REF's copy whose weights are then re-drawn (biases stay copies).
    recgrid::TextMlp t = s;
    if (o.teacher_init == "reinit") {
      t.w1 = recgrid::ops::xavier_uniform(t.w1.size(0), t.w1.size(1), options);
      t.w2 = recgrid::ops::xavier_uniform(t.w2.size(0), t.w2.size(1), options);
    }
    t.register_as("mlp_x_teacher",
                  [this](std::string n, at::Tensor v) { return register_buffer(std::move(n), v.detach().clone()); });
    momentum_.track(t.w1, s.w1);
    momentum_.track(t.b1, s.b1);
    momentum_.track(t.w2, s.w2);
    momentum_.track(t.b2, s.b2);
    teacher_.mlp.emplace(t);
  }

  at::Tensor interaction_intents(const NamedTensors& enc) const {
    if (!graph_encoder_) return enc.at("final");  // "w/o Graph"
    if (c_user_.defined()) return intents_(enc, c_user_, c_item_);
    return intents_(enc, enc.at("intent.user"), enc.at("intent.item"));
  }

  // Unweighted L_match. The EMA step runs first, as in REF: θ_T <- β θ_T + (1 - β) θ_S with the
  // student's weights of this step, i.e. the values the previous optimizer step produced.
  at::Tensor matching(const recgrid::Batch& b, const NamedTensors& enc, const at::Tensor& r,
                      irllrec::ProjectedTable& z_user, irllrec::ProjectedTable& z_item, const at::Tensor& z_all) {
    c10::NoGradGuard no_grad_for_teachers;
    momentum_.update();
    if (feature_itm_) {
      at::Tensor z_teacher;
      if (teacher_hidden_.defined()) {
        const at::Tensor hu = z_user.all_hidden(), hi = z_item.all_hidden();  // computed by the student's all()
        teacher_hidden_.narrow(0, 0, n_users_).mul_(beta_).add_(hu, 1 - beta_);
        teacher_hidden_.narrow(0, n_users_, hi.size(0)).mul_(beta_).add_(hi, 1 - beta_);
        z_teacher = teacher_.mlp->head(teacher_hidden_);
      } else {
        z_teacher = at::cat({teacher_(x_user_), teacher_(x_item_)});
      }
      c10::AutoGradMode student(true);
      return irllrec::feature_distillation(z_all, z_teacher);
    }
    // Similarity form: teachers are the EMA text tower and R' (momentum_encoder: the intents of the
    // EMA tables and prototypes, updated above; ema_intents: the EMA of R, which starts as R).
    if (ema_user_emb_.defined()) {
      graph_teacher_.copy_(momentum_graph_intents(enc));
    } else if (graph_teacher_ready_.item<double>() == 0) {
      graph_teacher_.copy_(r);
      graph_teacher_ready_.fill_(1);
    } else {
      graph_teacher_.mul_(beta_).add_(r.detach(), 1 - beta_);
    }
    // Candidates: the batch's distinct users and distinct positive items (a node occurring twice in a
    // batch is one candidate, not two).
    auto side = [&](irllrec::ProjectedTable& z, const at::Tensor& x, const at::Tensor& batch_ids, int64_t node_offset) {
      const at::Tensor ids = std::get<0>(at::_unique(batch_ids, /*sorted=*/true));
      const at::Tensor nodes = ids + node_offset;
      const at::Tensor z_t = teacher_(x.index_select(0, ids)), r_t = graph_teacher_.index_select(0, nodes);
      c10::AutoGradMode student(true);
      return irllrec::similarity_distillation(z.rows(ids), r.index_select(0, nodes), z_t, r_t, pair_.temperature,
                                              pair_.chunk);
    };
    const at::Tensor users = side(z_user, x_user_, b.users, 0), items = side(z_item, x_item_, b.pos, n_users_);
    c10::AutoGradMode student(true);  // the sum too: under the teachers' no-grad guard it would cut the gradient
    return users + items;
  }

  int64_t n_users_;
  at::Tensor x_user_, x_item_;  // constant text intent tables
  recgrid::Graph graph_;
  irllrec::InteractionIntents intents_, teacher_intents_;
  irllrec::PairwiseOptions pair_;
  irllrec::TranslationOptions translation_;
  double lambda1_, lambda2_, lambda3_, alpha_;
  bool translate_final_, feature_itm_, ia_, itm_, graph_encoder_;
  double beta_;
  irllrec::MomentumTeacher momentum_;
  at::Tensor c_user_, c_item_;  // own prototypes (undefined when the base model's are used)
  at::Tensor base_c_user_, base_c_item_;  // the base model's prototypes, as it declares them (else undefined)
  irllrec::TextEncoder student_, teacher_;  // the teacher's tensors are buffers updated by momentum_
  at::Tensor graph_teacher_, graph_teacher_ready_, teacher_hidden_;
  at::Tensor ema_user_emb_, ema_item_emb_, ema_c_user_, ema_c_item_;  // momentum graph encoder (eq. 18)
};

}  // namespace

RECGRID_EXPORT_PLUGIN(Irllrec)
