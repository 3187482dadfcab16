// IRLLRec's interaction side (ALGORITHMS.md §3.4 (a); paper eq. 9-12): intent representations R
// built on the base model's per-layer embeddings, without any code specific to one base model.
//
//   I^l = [Int_{C_u}(E^l_U); Int_{C_i}(E^l_I)]          intent-aware vectors (eq. 9-10)
//   G^l = AM(I^l)                                         adaptive mask on the plain graph (eq. 11)
//   R^l = G^l · I^l            propagation "intents"      (paper, eq. 12)
//   R^l = G^l · E^l            propagation "embeddings"   (REF: the mask only weights the edges)
//   R^l = G^l · E^{l+1}        with next_layer (REF's BIGCF index shift)
//   R   = mean_{l=0..L-1} R^l
//
// E^l is the encoding's "<view>layer.<l>" (falling back to "layer.0" for a view that shares layer 0),
// so the same code serves LightGCN (training forward), SGL (view "view2."), SimGCL, DCCF and BIGCF.
#pragma once

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

#include "recgrid/ops.hpp"
#include "recgrid/sdk.hpp"

namespace irllrec {

struct IntentGraphOptions {
  bool propagate_intents = true;  // paper eq. 12; false = REF (propagate the layer embeddings)
  bool next_layer = false;        // REF bigcf_int: mask from layer l applied to layer l + 1
  std::string view;               // key prefix of the layer embeddings, e.g. "view2."
};

class InteractionIntents {
 public:
  InteractionIntents(const recgrid::Graph& graph, int64_t n_users, IntentGraphOptions options)
      : graph_(graph), n_users_(n_users), options_(std::move(options)) {}

  // R [V x d] from the encoding and the prototypes C_u, C_i [d x K].
  at::Tensor operator()(const recgrid::NamedTensors& enc, const at::Tensor& c_user, const at::Tensor& c_item) const {
    const int64_t layers = count_layers(enc);
    const int64_t used = layers;  // R averages l = 0..L-1 (E^L only appears as next_layer's target)
    if (used < 1) throw std::invalid_argument("irllrec: the base encoding has no propagation layers (layer.1 missing)");
    at::Tensor sum;
    for (int64_t l = 0; l < used; ++l) {
      const at::Tensor e = layer(enc, l);
      const at::Tensor intents = recgrid::ops::intent_aggregate_per_side(e, n_users_, c_user, c_item);
      const at::Tensor mask = recgrid::ops::adaptive_mask(graph_, intents);
      const at::Tensor& source = options_.propagate_intents ? intents : (options_.next_layer ? layer(enc, l + 1) : e);
      const at::Tensor r = recgrid::ops::spmm(graph_, mask, source);
      sum = sum.defined() ? sum + r : r;
    }
    return sum / static_cast<double>(used);
  }

 private:
  // L: the largest l with "<view>layer.<l>" (or "layer.<l>") in the encoding.
  int64_t count_layers(const recgrid::NamedTensors& enc) const {
    int64_t l = 0;
    while (enc.contains(options_.view + "layer." + std::to_string(l + 1)) ||
           enc.contains("layer." + std::to_string(l + 1)))
      ++l;
    return l;
  }

  at::Tensor layer(const recgrid::NamedTensors& enc, int64_t l) const {
    const std::string key = options_.view + "layer." + std::to_string(l);
    if (enc.contains(key)) return enc.at(key);
    if (l == 0 || options_.view.empty()) return enc.at("layer." + std::to_string(l));
    throw std::invalid_argument("irllrec: intent_view '" + options_.view + "' but the encoding has no '" + key +
                                "' (is the view computed in training mode by this base model?)");
  }

  recgrid::Graph graph_;
  int64_t n_users_;
  IntentGraphOptions options_;
};

}  // namespace irllrec
