#include "report/significance.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <iterator>
#include <set>

namespace recgrid::report {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
// Per-user means that agree to 1e-12 are equal for the signed-rank test: metric values lie in [0, 1],
// and float rounding in a mean over seeds must neither break a tie nor make a zero difference nonzero.
const double kTieResolution = 1e-12;

// FNV-1a of the comparison's label: each comparison gets its own bootstrap stream, the same on every run.
uint64_t label_seed(const std::string& label) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : label) h = (h ^ c) * 1099511628211ULL;
  return h ^ kBootstrapSeed;
}

// The users present in every table, ascending.
std::vector<int64_t> users_in_all(const std::vector<const PerUserTable*>& tables) {
  std::vector<int64_t> users = tables.front()->users;
  for (const PerUserTable* t : tables) {
    std::vector<int64_t> kept;
    std::set_intersection(users.begin(), users.end(), t->users.begin(), t->users.end(), std::back_inserter(kept));
    users.swap(kept);
  }
  return users;
}

// The mean over `tables` of `metric` for each of `users` (each table holds every one of them).
std::vector<double> mean_over_seeds(const std::vector<const PerUserTable*>& tables, const std::vector<int64_t>& users,
                                    const std::string& metric) {
  std::vector<double> sum(users.size(), 0.0);
  for (const PerUserTable* t : tables) {
    const std::vector<double>& column = t->columns.at(metric);
    size_t row = 0;
    for (size_t k = 0; k < users.size(); ++k) {
      while (t->users[row] != users[k]) ++row;
      sum[k] += column[row];
    }
  }
  for (double& v : sum) v /= static_cast<double>(tables.size());
  return sum;
}

}  // namespace

double Comparison::difference() const { return no_users.empty() ? mean_a - mean_b : seed_mean_a - seed_mean_b; }

double Comparison::relative() const {
  const double base = no_users.empty() ? mean_b : seed_mean_b;
  return 100 * difference() / base;
}

std::vector<std::string> common_seeds(const Setting& a, const Setting& b) {
  std::vector<std::string> seeds;
  for (const auto& [seed, record] : a.by_seed)
    if (auto it = b.by_seed.find(seed); it != b.by_seed.end() && is_result(record) && is_result(it->second))
      seeds.push_back(seed);
  return seeds;
}

PairedUsers paired_users(const Setting& a, const Setting& b, const std::string& metric, const std::string& run_dir,
                         PerUserCache& cache) {
  PairedUsers p;
  p.seeds = common_seeds(a, b);
  if (p.seeds.empty()) {
    p.why_none = "no seed both rows ran";
    return p;
  }
  std::vector<const PerUserTable*> ta, tb;
  for (const std::string& seed : p.seeds)
    for (const auto& [setting, tables] : {std::pair{&a, &ta}, std::pair{&b, &tb}}) {
      const PerUserTable* t = cache.get(run_folder(run_dir, setting->by_seed.at(seed)));
      if (!t) {
        p.why_none = "no per-user file (a run from before them)";
        return p;
      }
      if (!t->columns.count(metric)) {
        p.why_none = "the per-user files have no " + metric + " column";
        return p;
      }
      tables->push_back(t);
    }
  std::vector<const PerUserTable*> all = ta;
  all.insert(all.end(), tb.begin(), tb.end());
  p.users = users_in_all(all);
  if (p.users.size() < 2) {  // files that share no users: the seed-level test still holds
    p.why_none = "fewer than 2 users are in every per-user file";
    return p;
  }
  p.a = mean_over_seeds(ta, p.users, metric);
  p.b = mean_over_seeds(tb, p.users, metric);
  p.n_train.resize(p.users.size());
  for (size_t k = 0, row = 0; k < p.users.size(); ++k) {
    while (ta.front()->users[row] != p.users[k]) ++row;
    p.n_train[k] = ta.front()->n_train[row];
  }
  return p;
}

namespace {

std::string row_label(const std::string& row) { return row == "none" ? "(base)" : "+ " + row; }

// The seed-level numbers of a comparison: each row's seed values over the seeds both ran.
void seed_level(Comparison& c, const Setting& a, const Setting& b, const std::string& split) {
  std::vector<double> va, vb;
  for (const std::string& seed : c.seeds) {
    va.push_back(metric_of(a.by_seed.at(seed), split, c.metric));
    vb.push_back(metric_of(b.by_seed.at(seed), split, c.metric));
  }
  c.seed_mean_a = mean(va), c.seed_mean_b = mean(vb);
  c.seed_t = paired_t_test(va, vb);
}

Comparison compare(const Setting& a, const Setting& b, const std::string& metric, const SignificanceOptions& o,
                   PerUserCache& cache) {
  Comparison c;
  c.dataset = a.dataset, c.model = a.model, c.row = a.row, c.against = b.row, c.metric = metric;
  c.seeds = common_seeds(a, b);
  seed_level(c, a, b, o.split);
  const PairedUsers p = paired_users(a, b, metric, o.run_dir, cache);
  c.no_users = p.why_none;
  if (c.no_users.empty()) {
    std::vector<double> d(p.a.size());
    for (size_t k = 0; k < d.size(); ++k) d[k] = p.a[k] - p.b[k];
    c.users = static_cast<int>(d.size());
    c.mean_a = mean(p.a), c.mean_b = mean(p.b);
    c.ci = paired_bootstrap_ci(d, 0.95, kBootstrapResamples,
                               label_seed(c.dataset + "/" + c.model + "/" + c.row + "/" + c.against + "/" + metric));
    c.user_t = one_sample_t_test(d);
    c.user_w = wilcoxon_signed_rank(d, kTieResolution);
  }
  const PairedTest& tested = !c.no_users.empty() ? c.seed_t : o.test == "wilcoxon" ? c.user_w : c.user_t;
  c.tested_by = !c.no_users.empty() ? "seed-level t-test" : o.test == "wilcoxon" ? "per-user Wilcoxon" : "per-user t-test";
  c.p = tested.valid() ? tested.p : kNaN;
  c.why_no_star = tested.valid() ? "" : tested.why_none;
  return c;
}

// The row the highlighted stack is compared with in a column: the best other mean over seeds among
// the rows of its base model and every baseline's rows.
const Setting* best_other(const Grouped& g, const std::string& d, const std::string& model, const std::string& highlight,
                          const std::string& split, const std::string& metric) {
  const Setting* best = nullptr;
  double best_mean = -std::numeric_limits<double>::infinity();
  for (const auto& other : g.models) {
    if (other != model && !is_baseline(g, other)) continue;
    for (const auto& row : g.rows_of_model.at(other)) {
      const Setting* s = other == model && row == highlight ? nullptr : find_setting(g, d, other, row);
      const double v = s ? mean(values(*s, split, metric)) : kNaN;
      if (std::isfinite(v) && v > best_mean) best_mean = v, best = s;
    }
  }
  return best;
}

// The comparisons of one base model's group in one column: each row against its base, and the
// highlighted stack against the best other row (one comparison when that row is its base).
void compare_group(const Grouped& g, const SignificanceOptions& o, const std::string& d, const std::string& model,
                   const std::string& metric, PerUserCache& cache, std::vector<Comparison>& out) {
  const auto& rows = g.rows_of_model.at(model);
  const Setting* h = o.highlight.empty() ? nullptr : find_setting(g, d, model, o.highlight);
  const Setting* rival = h ? best_other(g, d, model, o.highlight, o.split, metric) : nullptr;
  bool improv_done = false;
  for (const auto& row : rows) {
    const Setting* a = is_base_row(row) ? nullptr : find_setting(g, d, model, row);
    const Setting* b = a ? find_setting(g, d, model, base_row_of(rows, row)) : nullptr;
    if (!a || !b || a == b) continue;
    out.push_back(compare(*a, *b, metric, o, cache));
    if (a == h && b == rival) out.back().improv = improv_done = true;
  }
  if (h && rival && !improv_done) {
    out.push_back(compare(*h, *rival, metric, o, cache));
    out.back().improv = true;
  }
}

}  // namespace

std::vector<Comparison> compare_all(const Grouped& g, const SignificanceOptions& o) {
  PerUserCache cache(o.split, o.metrics);
  std::vector<Comparison> all;
  for (const auto& d : g.datasets)
    for (const auto& model : g.models)
      for (const auto& m : o.metrics) compare_group(g, o, d, model, m, cache, all);
  std::vector<double> p;
  for (const Comparison& c : all) p.push_back(c.p);
  const std::vector<double> adjusted = adjust(p, o.correction);
  for (size_t k = 0; k < all.size(); ++k) {
    all[k].p_adjusted = adjusted[k];
    all[k].star = std::isfinite(adjusted[k]) && adjusted[k] < 0.05;
  }
  return all;
}

namespace {

std::string p_text(double p) {
  if (!std::isfinite(p)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, p < 0.001 ? "%.1e" : "%.3f", p);
  return buf;
}

std::string signed_fixed(double v, const char* format) {
  if (!std::isfinite(v)) return "–";
  char buf[48];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// "+0.0123 [+0.0101, +0.0145]", the mean difference and its bootstrap interval.
std::string difference_text(const Comparison& c) {
  std::string s = signed_fixed(c.difference(), "%+.4f");
  if (c.no_users.empty()) s += " [" + signed_fixed(c.ci.low, "%+.4f") + ", " + signed_fixed(c.ci.high, "%+.4f") + "]";
  return s;
}

std::string comparison_label(const Comparison& c) {
  return c.dataset + ": " + c.model + " " + row_label(c.row) + " vs " + row_label(c.against) + (c.improv ? " (Improv.)" : "");
}

// The tooltip of a cell: every number of the comparison.
std::string comparison_note(const Comparison& c) {
  std::string n = "vs " + row_label(c.against) + " over " + std::to_string(c.seeds.size()) + " seed(s)";
  if (c.no_users.empty())
    n += " and " + std::to_string(c.users) + " users: per-user t = " + fixed(c.user_t.t, 3) + ", p = " + p_text(c.user_t.p) +
         "; Wilcoxon " + (c.user_w.exact ? "exact" : "z = " + fixed(c.user_w.t, 3)) + ", p = " + p_text(c.user_w.p);
  else
    n += " (" + c.no_users + ": seed level only)";
  n += "; seed-level t = " + fixed(c.seed_t.t, 3) + ", p = " + p_text(c.seed_t.p);
  n += "; " + c.tested_by + " corrected p = " + p_text(c.p_adjusted);
  if (!c.why_no_star.empty()) n += " (no test: " + c.why_no_star + ")";
  return n;
}

}  // namespace

const Comparison* find_improv(const std::vector<Comparison>& all, const std::string& dataset, const std::string& model,
                              const std::string& metric) {
  for (const Comparison& c : all)
    if (c.improv && c.dataset == dataset && c.model == model && c.metric == metric) return &c;
  return nullptr;
}

TableCell improvement_cell(const Comparison* c) {
  if (!c) return {"–", false, ""};
  const std::string text = signed_fixed(c->relative(), "%+.2f %%");
  return {text + (c->star ? "*" : ""), false, comparison_note(*c)};
}

Table significance_table(const std::vector<Comparison>& all) {
  Table t;
  t.header = {"comparison", "metric", "seeds", "users", "Δ mean [95 % CI]", "rel.", "t-test p", "Wilcoxon p",
              "corrected p", "seed-level t-test p", "no star because"};
  std::string last_group;
  for (const Comparison& c : all) {
    const std::string group = c.dataset + "/" + c.model;
    t.separator_before.push_back(group != last_group);
    last_group = group;
    const bool users = c.no_users.empty();
    std::string why = c.why_no_star;
    if (why.empty() && !c.star) why = "corrected p >= 0.05";
    t.rows.push_back({{comparison_label(c), false, ""},
                      {short_metric(c.metric), false, ""},
                      {std::to_string(c.seeds.size()), false, ""},
                      {users ? std::to_string(c.users) : "–", false, users ? "" : c.no_users},
                      {difference_text(c), false, ""},
                      {signed_fixed(c.relative(), "%+.2f %%"), false, ""},
                      {users ? p_text(c.user_t.p) : "–", false, c.user_t.why_none},
                      {users ? p_text(c.user_w.p) + (c.user_w.exact ? " (exact)" : "") : "–", false, c.user_w.why_none},
                      {p_text(c.p_adjusted) + (c.star ? "*" : ""), c.star, c.tested_by},
                      {p_text(c.seed_t.p), false, c.seed_t.why_none},
                      {c.star ? "" : why, false, ""}});
  }
  return t;
}

std::string significance_note(const std::vector<Comparison>& all, const SignificanceOptions& o) {
  size_t with_users = 0, stars = 0, tested = 0;
  for (const Comparison& c : all) with_users += c.no_users.empty(), stars += c.star, tested += std::isfinite(c.p);
  const std::string test = o.test == "wilcoxon" ? "the two-sided Wilcoxon signed-rank test" : "the two-sided paired t-test";
  std::string n = "Every row against its base row, and **" + (o.highlight.empty() ? std::string("(no highlighted stack)") : o.highlight) +
                  "** against the best other row (Improv.), in every column: " + std::to_string(all.size()) +
                  " comparisons. Rows are paired on the seeds both ran as results and, from the per-user files, on the "
                  "users present in all of them (a user's value: their mean over those seeds); Δ is the mean of the "
                  "per-user differences with a 95 % percentile bootstrap interval (" + std::to_string(kBootstrapResamples) +
                  " resamples of the users, seeded: the same report every time), rel. is Δ over the compared row's mean "
                  "on the same seeds and users. * = corrected p < 0.05: " + test + " over users (the Wilcoxon test drops "
                  "zero differences and uses average ranks; exact for n <= 50 without ties, else the tie-corrected normal "
                  "approximation), " + correction_name(o.correction) + "-corrected over the " + std::to_string(tested) +
                  " tested comparisons of this report (" + std::to_string(stars) + " significant).";
  if (with_users < all.size())
    n += " " + std::to_string(all.size() - with_users) + " comparison(s) have no per-user files (runs from before them): "
         "their test is the seed-level paired t-test, in the same correction.";
  return n + " The seed-level column is the paired t-test over the seeds (df = seeds - 1).";
}

}  // namespace recgrid::report
