// EASE^R (Steck 2019): the closed-form item-item linear autoencoder with a zero diagonal (README.md).
#include <ATen/ATen.h>

#include "recgrid/interactions.hpp"
#include "recgrid/sdk.hpp"

namespace {

using namespace recgrid::baselines;

class Ease : public recgrid::FittedModel {
 public:
  struct Options {
    double lambda;
    template <class D>
    void declare(D& d) {
      d(lambda, "lambda", 500.0, "(0, inf)", "L2 regularisation lambda added to the diagonal of the Gram matrix X^T X");
    }
  };
  static recgrid::PluginSpec spec() {
    return {"ease", "1.0.0", "baseline: EASE^R (Steck 2019), closed form B = I - P diag(1/diag(P)), P = (X^T X + lambda I)^-1",
            recgrid::declared_options<Options>()};
  }
  Ease(const recgrid::Context& ctx, const Options& o) : ctx_(ctx), o_(o) {}

  at::Tensor fit() override {
    x_ = user_items(ctx_);
    const int64_t n = ctx_.n_items;
    // G = X^T X + lambda I, filled row by row from the co-occurrence counts (exact in float below 2^24).
    at::Tensor g = at::zeros({n, n}, at::kFloat);
    float* gp = g.data_ptr<float>();
    const std::vector<double> ones(static_cast<size_t>(ctx_.n_users), 1.0);
    for_each_cooccurrence_row(x_, item_users(ctx_), ones, [&](int64_t i, const std::vector<int64_t>& touched, std::vector<double>& co) {
      for (int64_t j : touched) gp[i * n + j] = static_cast<float>(co[j]);
    });
    g.diagonal().add_(o_.lambda);
    // P = G^-1 through its Cholesky factor (G is symmetric positive definite), each step in place of the last.
    at::Tensor p = at::cholesky_inverse(at::linalg_cholesky(g));
    g = at::Tensor();
    // LAPACK hands back column-major storage: make it row-major before B's columns are divided (B is
    // not symmetric; scoring reads its rows from memory).
    p = p.contiguous();
    // B = I - P diag(1/diag(P)): off the diagonal B_ij = -P_ij / P_jj; the diagonal is 0.
    const at::Tensor diag = p.diagonal().clone();
    p.div_(diag.neg().unsqueeze(0));
    p.fill_diagonal_(0.0);
    b_ = register_buffer("B", p);
    return {};
  }
  at::Tensor score(const at::Tensor& users, int64_t lo, int64_t hi) override { return score_dense_rows(x_, b_, users, lo, hi); }

 private:
  recgrid::Context ctx_;
  Options o_;
  Csr x_;
  at::Tensor b_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(Ease)
