// RP3beta: three-step random walk item -> user -> item with a popularity penalty (README.md).
#include <ATen/ATen.h>

#include <cmath>

#include "recgrid/interactions.hpp"
#include "recgrid/sdk.hpp"

namespace {

using namespace recgrid::baselines;

class Rp3Beta : public recgrid::FittedModel {
 public:
  struct Options {
    double alpha, beta;
    int64_t k;
    bool normalize;
    template <class D>
    void declare(D& d) {
      d(alpha, "alpha", 1.0, "[0, inf)", "exponent of the walk's transition probabilities (1: the plain P3 walk)");
      d(beta, "beta", 0.5, "[0, inf)", "popularity penalty: the walk's arrival probability at item j is divided by n_j^beta");
      d(k, "k", 100, "[1, inf)", "neighbours kept per item row (the k largest walk weights)");
      d(normalize, "normalize", true, "", "divide each kept row by its sum (a row-stochastic item-to-item step)");
    }
  };
  static recgrid::PluginSpec spec() {
    return {"rp3beta", "1.0.0", "baseline: RP3beta (Paudel et al. 2017), 3-step item-user-item walk with popularity penalty",
            recgrid::declared_options<Options>()};
  }
  Rp3Beta(const recgrid::Context& ctx, const Options& o) : ctx_(ctx), o_(o) {}

  at::Tensor fit() override {
    x_ = user_items(ctx_);
    const Csr by_item = item_users(ctx_);
    // Step item i -> user u has probability 1/n_i, step u -> item j 1/n_u, each raised to alpha.
    std::vector<double> user_step(static_cast<size_t>(ctx_.n_users));
    for (int64_t u = 0; u < ctx_.n_users; ++u)
      user_step[u] = x_.degree(u) > 0 ? std::pow(1.0 / static_cast<double>(x_.degree(u)), o_.alpha) : 0.0;
    std::vector<std::vector<std::pair<int64_t, double>>> rows(static_cast<size_t>(ctx_.n_items));
    for_each_cooccurrence_row(x_, by_item, user_step, [&](int64_t i, const std::vector<int64_t>& touched, std::vector<double>& walk) {
      const double item_step = std::pow(1.0 / static_cast<double>(by_item.degree(i)), o_.alpha);
      const auto weight = [&](int64_t j) {
        return item_step * walk[j] / std::pow(static_cast<double>(by_item.degree(j)), o_.beta);
      };
      auto kept = top_k(i, touched, weight, o_.k);
      double sum = 0;
      for (const auto& e : kept) sum += e.second;
      if (o_.normalize && sum > 0)
        for (auto& e : kept) e.second /= sum;
      rows[static_cast<size_t>(i)] = std::move(kept);
    });
    w_ = rows_of(rows);
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

RECGRID_EXPORT_PLUGIN(Rp3Beta)
