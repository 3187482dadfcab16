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
// prefix, "final", "user", "item", "intent.user"/"intent.item") and, at creation, whether the base
// model has prototypes ("user_intents"/"item_intents" among its parameters).
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

std::string one_of(const recgrid::Options& o, const std::string& name, std::initializer_list<const char*> allowed) {
  const std::string v = o.get<std::string>(name);
  std::string list;
  for (const char* a : allowed) {
    if (v == a) return v;
    list += std::string(list.empty() ? "" : ", ") + a;
  }
  throw std::invalid_argument("irllrec: option " + name + " = '" + v + "'; expected one of " + list);
}

class Irllrec final : public recgrid::Enhancer {
 public:
  static recgrid::PluginSpec spec() {
    return {"irllrec",
            "1.0.0",
            "IRLLRec: intent alignment (pairwise + translation) and momentum-distilled matching of LLM text "
            "intents with graph interaction intents",
            {
                {"embedding_size", "int", "32", "width d of the base model's embeddings", "[1, inf)"},
                {"prototypes", "string", "\"auto\"",
                 "intent prototypes: auto (the base model's if it has them, else own) | own", "{auto, own}"},
                {"intents", "int", "128", "K, number of own intent prototypes per side", "[1, inf)"},
                {"intent_propagation", "string", "\"intents\"",
                 "what the adaptive-mask graph propagates: intents (paper eq. 12) | embeddings (REF)", "{intents, embeddings}"},
                {"intent_view", "string", "\"\"", "encoding prefix of the layers R is built on, e.g. view2. (REF SGL)"},
                {"intent_next_layer", "bool", "false", "mask of layer l applied to layer l+1 (REF BIGCF)"},
                {"pair_weight", "float", "0.02", "λ1, weight of the pairwise alignment", "[0, inf)"},
                {"pair_temperature", "float", "0.2", "τ of the pairwise alignment (and of the similarity ITM)", "(0, inf)"},
                {"pair_user_negatives", "string", "\"batch\"", "user negatives: batch (paper) | all (REF)", "{batch, all}"},
                {"pair_negative_term", "bool", "true", "include the negative-item term (REF SimGCL: false)"},
                {"translation_weight", "float", "1.0e-3", "λ2, weight of the translation alignment", "[0, inf)"},
                {"translation_source", "string", "\"intent\"",
                 "graph side of the translation: intent (R, paper) | final (E*, REF)", "{intent, final}"},
                {"translation_directions", "string", "\"both\"", "both (paper) | text_to_interaction (REF)", "{both, text_to_interaction}"},
                {"translation_scale", "float", "1.0", "η, similarity scale (cosine times η)", "(0, inf)"},
                {"translation_noise", "bool", "true", "multiplicative Gaussian noise F + F⊙ε (eq. 14)"},
                {"itm_weight", "float", "1.0e-4", "λ3, weight of interaction-text matching", "[0, inf)"},
                {"itm_form", "string", "\"similarity\"",
                 "distillation: similarity (paper: cross-modal in-batch KL) | feature (REF: softmax over d)", "{similarity, feature}"},
                {"itm_alpha", "float", "0.4", "α: L_ITM = (1-α) λ2 L_tran + α L_match (REF: 0.6)", "[0, 1]"},
                {"momentum", "float", "0.999", "β of the EMA teachers", "[0, 1]"},
                {"teacher_init", "string", "\"copy\"",
                 "copy (teacher = student) | reinit (REF: fresh Xavier weights, biases copied)", "{copy, reinit}"},
                {"ia", "bool", "true", "ablation: false removes intent alignment (pair and tran terms)"},
                {"itm", "bool", "true", "ablation: false removes interaction-text matching"},
                {"graph_encoder", "bool", "true", "ablation: false uses the base model's final embeddings as R"},
                {"text_encoder", "bool", "true", "ablation: false replaces mlp_x by a fixed random projection"},
                {"chunk", "int", "2048", "keys per streamed block of every contrast", "[1, inf)"},
            },
            {
                {"intent_user", RG_ROWS_USERS, 0, "user intent embeddings (IRLLRec user_intent_emb_3.pkl)"},
                {"intent_item", RG_ROWS_ITEMS, 0, "item intent embeddings (IRLLRec item_intent_emb_3.pkl)"},
            }};
  }

  Irllrec(const recgrid::Context& ctx, const recgrid::Options& o)
      : n_users_(ctx.n_users),
        x_user_(ctx.inputs.at("intent_user")),
        x_item_(ctx.inputs.at("intent_item")),
        intents_(ctx.graph, ctx.n_users,
                 {one_of(o, "intent_propagation", {"intents", "embeddings"}) == "intents",
                  o.get<bool>("intent_next_layer"), o.get<std::string>("intent_view")}),
        pair_{o.get<double>("pair_temperature"), one_of(o, "pair_user_negatives", {"batch", "all"}) == "all",
              o.get<bool>("pair_negative_term"), o.get<int64_t>("chunk")},
        translation_{o.get<double>("translation_scale"),
                     one_of(o, "translation_directions", {"both", "text_to_interaction"}) == "both",
                     o.get<bool>("translation_noise"), o.get<int64_t>("chunk")},
        lambda1_(o.get<double>("pair_weight")),
        lambda2_(o.get<double>("translation_weight")),
        lambda3_(o.get<double>("itm_weight")),
        alpha_(o.get<double>("itm_alpha")),
        translate_final_(one_of(o, "translation_source", {"intent", "final"}) == "final"),
        feature_itm_(one_of(o, "itm_form", {"similarity", "feature"}) == "feature"),
        ia_(o.get<bool>("ia")),
        itm_(o.get<bool>("itm") && lambda3_ != 0),  // λ3 = 0: no ITM, no teacher (REF on all but LightGCN)
        graph_encoder_(o.get<bool>("graph_encoder")),
        beta_(o.get<double>("momentum")),
        momentum_(beta_) {
    check_options(o);
    const int64_t d = o.get<int64_t>("embedding_size");
    const auto options = at::TensorOptions().dtype(at::kFloat).device(ctx.device);
    make_prototypes(ctx, o, d, options);
    make_text_encoders(o, d, options);
    // Teacher state that is not a weight ("state." buffers: checkpointed, not regularised).
    if (itm_ && !feature_itm_) {
      graph_teacher_ = register_buffer("state.graph_teacher", at::zeros({ctx.n_nodes(), d}, options));
      graph_teacher_ready_ = register_buffer("state.graph_teacher_ready", at::zeros({}, options));
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
    // L_tran is shared by the alignment and (scaled by 1 - α) the matching: computed once.
    const bool tran_in_itm = itm_ && alpha_ < 1 && lambda2_ != 0;
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
    at::Tensor tran;
    if (translate) {
      tran = irllrec::translation_alignment(translate_final_ ? enc.at("final") : r, z_all, translation_) * lambda2_;
      if (ia_) out.add("tran", tran);
    }
    if (itm_) {
      at::Tensor itm = matching(b, r, z_user, z_item, z_all) * alpha_;
      if (tran.defined() && alpha_ < 1) itm = itm + tran * (1 - alpha_);
      out.add("itm", itm * lambda3_);
    }
    return out;
  }

 private:
  void check_options(const recgrid::Options& o) const {
    if (pair_.temperature <= 0) throw std::invalid_argument("irllrec: pair_temperature must be > 0");
    if (translation_.scale <= 0) throw std::invalid_argument("irllrec: translation_scale must be > 0");
    if (alpha_ < 0 || alpha_ > 1) throw std::invalid_argument("irllrec: itm_alpha must be in [0, 1]");
    const double beta = o.get<double>("momentum");
    if (beta < 0 || beta > 1) throw std::invalid_argument("irllrec: momentum must be in [0, 1]");
    if (o.get<int64_t>("chunk") <= 0 || o.get<int64_t>("intents") <= 0)
      throw std::invalid_argument("irllrec: chunk and intents must be positive");
    recgrid::require_same_width("irllrec", "intent_user", x_user_, "intent_item", x_item_);
  }

  // Prototypes: the base model's ("user_intents"/"item_intents", DCCF and BIGCF) unless told otherwise.
  void make_prototypes(const recgrid::Context& ctx, const recgrid::Options& o, int64_t d,
                       const at::TensorOptions& options) {
    const bool base_has = ctx.base_parameters.contains("user_intents") && ctx.base_parameters.contains("item_intents");
    const bool own = one_of(o, "prototypes", {"auto", "own"}) == "own" || !base_has;
    if (!graph_encoder_ || !own) return;  // read from the encoding in loss()
    const int64_t K = o.get<int64_t>("intents");
    c_user_ = register_parameter("intent.user", recgrid::ops::xavier_uniform(d, K, options));
    c_item_ = register_parameter("intent.item", recgrid::ops::xavier_uniform(d, K, options));
  }

  void make_text_encoders(const recgrid::Options& o, int64_t d, const at::TensorOptions& options) {
    const int64_t d_x = x_user_.size(1);
    if (!o.get<bool>("text_encoder")) {
      // "w/o Text": no learned mapping; a fixed Gaussian projection only matches the widths.
      student_.projection = register_buffer("text.projection", at::randn({d_x, d}, options) / std::sqrt(d));
      teacher_.projection = student_.projection;  // nothing to average: the teacher is the same map
      return;
    }
    student_.mlp.emplace(d_x, d, options);
    recgrid::TextMlp& s = *student_.mlp;
    s.register_as("mlp_x", [this](std::string n, at::Tensor t) { return register_parameter(std::move(n), t); });
    if (!itm_) return;
    // The teacher: a copy of the student, or REF's copy whose weights are then re-drawn (biases stay copies).
    recgrid::TextMlp t = s;
    if (one_of(o, "teacher_init", {"copy", "reinit"}) == "reinit") {
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
  at::Tensor matching(const recgrid::Batch& b, const at::Tensor& r, irllrec::ProjectedTable& z_user,
                      irllrec::ProjectedTable& z_item, const at::Tensor& z_all) {
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
    // Similarity form: teachers are the EMA text tower and the EMA of R (which starts as R).
    if (graph_teacher_ready_.item<double>() == 0) {
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
  irllrec::InteractionIntents intents_;
  irllrec::PairwiseOptions pair_;
  irllrec::TranslationOptions translation_;
  double lambda1_, lambda2_, lambda3_, alpha_;
  bool translate_final_, feature_itm_, ia_, itm_, graph_encoder_;
  double beta_;
  irllrec::MomentumTeacher momentum_;
  at::Tensor c_user_, c_item_;  // own prototypes (undefined when the base model's are used)
  irllrec::TextEncoder student_, teacher_;  // the teacher's tensors are buffers updated by momentum_
  at::Tensor graph_teacher_, graph_teacher_ready_, teacher_hidden_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(Irllrec)
