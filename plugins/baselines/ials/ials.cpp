// iALS (Hu et al. 2008) with the recipe of Rendle et al. 2022: all-pairs weight alpha0, frequency-
// scaled regularisation, exact alternating solves (README.md).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "recgrid/interactions.hpp"
#include "recgrid/sdk.hpp"

namespace {

using namespace recgrid::baselines;

class Ials : public recgrid::FittedModel {
 public:
  struct Options {
    int64_t factors, iterations;
    double alpha, reg, nu, init_std;
    template <class D>
    void declare(D& d) {
      d(factors, "factors", 64, "[1, inf)", "embedding dimension d of the user and item factors");
      d(iterations, "iterations", 15, "[1, inf)", "alternating sweeps (users, then items); reported as epochs");
      d(alpha, "alpha0", 0.1, "(0, inf)", "weight of the all-pairs term that pushes every score towards 0");
      d(reg, "reg", 0.005, "[0, inf)", "lambda: L2 regularisation, scaled per row by (n_row + alpha0 * n_other)^nu");
      d(nu, "nu", 1.0, "[0, 1]", "frequency-scaling exponent of the regularisation (0: plain lambda)");
      d(init_std, "init_std", 0.1, "(0, inf)", "factors start as N(0, (init_std / sqrt(d))^2)");
    }
  };
  static recgrid::PluginSpec spec() {
    return {"ials", "1.0.0", "baseline: iALS matrix factorisation (Hu et al. 2008; Rendle et al. 2022's regularisation)",
            recgrid::declared_options<Options>()};
  }
  Ials(const recgrid::Context& ctx, const Options& o) : ctx_(ctx), o_(o) {
    const double std = o.init_std / std::sqrt(static_cast<double>(o.factors));
    w_ = register_buffer("user_factors", at::randn({ctx.n_users, o.factors}, at::kFloat).mul_(std));
    h_ = register_buffer("item_factors", at::randn({ctx.n_items, o.factors}, at::kFloat).mul_(std));
  }

  at::Tensor fit() override {
    const Csr by_user = user_items(ctx_), by_item = item_users(ctx_);
    at::Tensor losses = at::empty({o_.iterations}, at::kDouble);
    for (int64_t s = 0; s < o_.iterations; ++s) {
      solve_side(w_, h_, by_user);
      solve_side(h_, w_, by_item);
      losses[s] = loss(by_user, by_item);
    }
    return losses;
  }
  at::Tensor score(const at::Tensor& users, int64_t lo, int64_t hi) override {
    return w_.index_select(0, users.to(at::kCPU, at::kLong)).mm(h_.narrow(0, lo, hi - lo).t());
  }

 private:
  static constexpr int64_t kBlock = 1024;  // rows solved together ([block x d x d] systems)

  // Every row r of `x` given the other side `y` (its rows' lists in `lists`): the exact minimiser of
  // sum_{c in lists[r]} (x_r.y_c - 1)^2 + alpha0 sum_all_c (x_r.y_c)^2 + lambda_r |x_r|^2, i.e.
  // (sum_{c in lists[r]} y_c y_c^T + alpha0 Y^T Y + lambda_r I) x_r = sum_{c in lists[r]} y_c.
  void solve_side(at::Tensor& x, const at::Tensor& y, const Csr& lists) const {
    const int64_t d = o_.factors, n_rows = x.size(0), n_other = y.size(0);
    const at::Tensor gram = y.t().mm(y).mul_(o_.alpha);
    const float* yp = y.data_ptr<float>();
    for (int64_t lo = 0; lo < n_rows; lo += kBlock) {
      const int64_t b = std::min(kBlock, n_rows - lo);
      at::Tensor a = gram.unsqueeze(0).repeat({b, 1, 1}).contiguous(), rhs = at::zeros({b, d, 1}, at::kFloat);
      float* ap = a.data_ptr<float>();
      float* rp = rhs.data_ptr<float>();
      at::parallel_for(0, b, 16, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t row = lo + r;
          const double scale = std::pow(static_cast<double>(lists.degree(row)) + o_.alpha * static_cast<double>(n_other), o_.nu);
          float* ar = ap + r * d * d;
          for (int64_t k = 0; k < d; ++k) ar[k * d + k] += static_cast<float>(o_.reg * scale);
          for (const int64_t* c = lists.begin(row); c != lists.end(row); ++c) {
            const float* yc = yp + *c * d;
            for (int64_t p = 0; p < d; ++p) {
              rp[r * d + p] += yc[p];
              for (int64_t q = 0; q < d; ++q) ar[p * d + q] += yc[p] * yc[q];
            }
          }
        }
      });
      x.narrow(0, lo, b).copy_(at::cholesky_solve(rhs, at::linalg_cholesky(a)).squeeze(-1));
    }
  }

  // The objective: sum over observed (w_u.h_i - 1)^2 + alpha0 sum over all pairs (w_u.h_i)^2 + the
  // frequency-scaled L2 terms of both sides (in double).
  double loss(const Csr& by_user, const Csr& by_item) const {
    const at::Tensor w = w_.to(at::kDouble), h = h_.to(at::kDouble);
    const at::Tensor user_n = degrees(by_user), items = at::tensor(by_user.idx, at::kLong);
    const at::Tensor users = at::repeat_interleave(at::arange(ctx_.n_users, at::kLong), user_n);
    const at::Tensor observed = (w.index_select(0, users) * h.index_select(0, items)).sum(1);
    double l = (observed - 1).pow(2).sum().item<double>();
    l += o_.alpha * (w.t().mm(w) * h.t().mm(h)).sum().item<double>();
    const auto scaled = [&](const at::Tensor& n, int64_t other) {
      return (n.to(at::kDouble) + o_.alpha * static_cast<double>(other)).pow(o_.nu);
    };
    l += o_.reg * (scaled(user_n, ctx_.n_items) * w.pow(2).sum(1)).sum().item<double>();
    l += o_.reg * (scaled(degrees(by_item), ctx_.n_users) * h.pow(2).sum(1)).sum().item<double>();
    return l;
  }

  static at::Tensor degrees(const Csr& m) {
    const at::Tensor ptr = at::tensor(m.ptr, at::kLong);
    return ptr.narrow(0, 1, m.rows()) - ptr.narrow(0, 0, m.rows());
  }

  recgrid::Context ctx_;
  Options o_;
  at::Tensor w_, h_;
};

}  // namespace

RECGRID_EXPORT_PLUGIN(Ials)
