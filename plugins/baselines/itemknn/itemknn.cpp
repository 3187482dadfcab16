// ItemKNN: item-based nearest neighbours with shrunk cosine similarity (README.md).
#include <ATen/ATen.h>

#include <cmath>

#include "recgrid/interactions.hpp"
#include "recgrid/sdk.hpp"

namespace {

using namespace recgrid::baselines;

class ItemKnn : public recgrid::FittedModel {
 public:
  struct Options {
    int64_t k;
    double shrink;
    bool normalize;
    template <class D>
    void declare(D& d) {
      d(k, "k", 100, "[1, inf)", "neighbours kept per item (the k most similar items that may score it)");
      d(shrink, "shrink", 10.0, "[0, inf)", "shrinkage added to the cosine denominator (damps pairs seen by few users)");
      d(normalize, "normalize", true, "", "divide co-occurrence by sqrt(n_i n_j) + shrink (cosine); false: raw co-occurrence counts");
    }
  };
  static recgrid::PluginSpec spec() {
    return {"itemknn", "1.0.0", "baseline: item-based kNN, shrunk cosine similarity, top-k neighbours per item",
            recgrid::declared_options<Options>()};
  }
  ItemKnn(const recgrid::Context& ctx, const Options& o) : ctx_(ctx), o_(o) {}

  at::Tensor fit() override {
    x_ = user_items(ctx_);
    const Csr by_item = item_users(ctx_);
    const std::vector<double> ones(static_cast<size_t>(ctx_.n_users), 1.0);
    // Neighbours of each item j (the items allowed to score it), then stored by source row i.
    std::vector<std::vector<std::pair<int64_t, double>>> of_target(static_cast<size_t>(ctx_.n_items));
    for_each_cooccurrence_row(x_, by_item, ones, [&](int64_t j, const std::vector<int64_t>& touched, std::vector<double>& co) {
      const auto sim = [&](int64_t i) {
        if (!o_.normalize) return co[i];
        const double norm = std::sqrt(static_cast<double>(by_item.degree(i))) * std::sqrt(static_cast<double>(by_item.degree(j)));
        return co[i] / (norm + o_.shrink);
      };
      of_target[static_cast<size_t>(j)] = top_k(j, touched, sim, o_.k);
    });
    w_ = rows_of(transpose(of_target));
    register_rows(w_, [this](std::string n, at::Tensor t) { register_buffer(std::move(n), t); });
    return {};
  }
  at::Tensor score(const at::Tensor& users, int64_t lo, int64_t hi) override { return score_rows(x_, w_, users, lo, hi); }

 private:
  recgrid::Context ctx_;
  Options o_;
  Csr x_;
  SparseRows w_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(ItemKnn)
