// The report's statistics against scipy-made fixtures (tests/fixtures/stats/make_stats_fixtures.py:
// Debian's python3-scipy 1.10, needed only to regenerate them), the bootstrap against a restatement
// and a coverage check, and the per-user file reader.
#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include "report/bootstrap.hpp"
#include "report/group_section.hpp"
#include "report/p_adjust.hpp"
#include "report/per_user.hpp"
#include "report/signed_rank.hpp"
#include "report/stats.hpp"
#include "test_support.hpp"

using nlohmann::json;
namespace report = recgrid::report;

namespace {

const json& fixtures() {
  static const json j = [] {
    std::ifstream f(recgrid::test::fixture("stats/stats_fixtures.json"));
    return json::parse(f);
  }();
  return j;
}

// |ours - scipy| within 1e-9 relative (1e-15 absolute near zero): both compute in double precision;
// the t tail comes from a continued fraction converged to 1e-15 per step, scipy's from cephes.
void expect_close(double ours, double scipy, const std::string& what) {
  EXPECT_NEAR(ours, scipy, 1e-9 * std::fabs(scipy) + 1e-15) << what;
}

std::vector<double> doubles(const json& j) { return j.get<std::vector<double>>(); }

}  // namespace

TEST(ReportStatsScipy, StudentTAndNormalTails) {
  for (const json& c : fixtures()["student_t"])
    expect_close(report::student_t_p_two_sided(c["t"], c["df"]), c["p"], "t = " + c["t"].dump() + ", df = " + c["df"].dump());
  for (const json& c : fixtures()["normal"]) expect_close(report::normal_p_two_sided(c["z"]), c["p"], "z = " + c["z"].dump());
}

TEST(ReportStatsScipy, PairedTTest) {
  for (const json& c : fixtures()["ttest_rel"]) {
    const auto r = report::paired_t_test(doubles(c["a"]), doubles(c["b"]));
    ASSERT_TRUE(r.valid()) << r.why_none;
    expect_close(r.t, c["t"], "t, n = " + std::to_string(r.n));
    expect_close(r.p, c["p"], "p, n = " + std::to_string(r.n));
  }
}

TEST(ReportStatsScipy, WilcoxonSignedRank) {
  for (const json& c : fixtures()["wilcoxon"]) {
    const auto r = report::wilcoxon_signed_rank(doubles(c["d"]));
    const std::string name = c["name"];
    ASSERT_TRUE(r.valid()) << name << ": " << r.why_none;
    EXPECT_EQ(r.exact, c["exact"].get<bool>()) << name;
    expect_close(r.w_plus, c["w_plus"], name + " W+");
    expect_close(std::min(r.w_plus, static_cast<double>(r.n) * (r.n + 1) / 2 - r.w_plus), c["statistic"], name + " W");
    expect_close(r.p, c["p"], name + " p");
  }
  for (const json& c : fixtures()["signed_rank_cdf"])
    expect_close(report::signed_rank_cdf(c["n"], c["w"]), c["cdf"], "n = " + c["n"].dump() + ", w = " + c["w"].dump());
}

TEST(ReportStatsScipy, HolmAndBenjaminiHochberg) {
  auto with_nan = [](const json& j) {
    std::vector<double> v;
    for (const json& x : j) v.push_back(x.is_null() ? std::nan("") : x.get<double>());
    return v;
  };
  for (const json& c : fixtures()["adjust"]) {
    const auto p = with_nan(c["p"]), holm = with_nan(c["holm"]), bh = with_nan(c["bh"]);
    const auto ours_holm = report::adjust(p, report::Correction::holm), ours_bh = report::adjust(p, report::Correction::bh);
    for (size_t k = 0; k < p.size(); ++k) {
      if (std::isnan(p[k])) {
        EXPECT_TRUE(std::isnan(ours_holm[k]) && std::isnan(ours_bh[k]));  // no test: stays out of the family
        continue;
      }
      expect_close(ours_holm[k], holm[k], "Holm " + std::to_string(k));
      expect_close(ours_bh[k], bh[k], "BH " + std::to_string(k));
    }
  }
}

// The bugs of issue 28: a NaN t gave p = 0 (a star); equal differences gave p = 0 (a star).
TEST(ReportStats, NoTestGivesNaNAndSaysWhy) {
  EXPECT_TRUE(std::isnan(report::student_t_p_two_sided(std::nan(""), 3)));
  EXPECT_EQ(report::student_t_p_two_sided(INFINITY, 3), 0.0);  // a real limit, not a missing value
  const auto same_shift = report::paired_t_test({0.2, 0.3, 0.4}, {0.1, 0.2, 0.3});
  EXPECT_TRUE(std::isnan(same_shift.p));
  EXPECT_NE(same_shift.why_none.find("zero variance"), std::string::npos);
  const auto exactly_equal = report::paired_t_test({0.5, 0.3}, {0.5, 0.3});
  EXPECT_TRUE(std::isnan(exactly_equal.p));
  EXPECT_EQ(exactly_equal.why_none, "every difference is zero");
  const auto nan_value = report::paired_t_test({0.5, std::nan(""), 0.2}, {0.4, 0.3, 0.1});
  EXPECT_TRUE(std::isnan(nan_value.p));
  EXPECT_EQ(nan_value.why_none, "a value is NaN or infinite");
  EXPECT_EQ(report::paired_t_test({1}, {2}).why_none, "fewer than 2 pairs");
  EXPECT_EQ(report::wilcoxon_signed_rank({0, 0, 0}).why_none, "every difference is zero");
  EXPECT_EQ(report::wilcoxon_signed_rank({0.1, std::nan("")}).why_none, "a value is NaN or infinite");
  EXPECT_EQ(report::wilcoxon_signed_rank({0.1}).why_none, "fewer than 2 pairs");
  // A NaN p stays out of the correction: the other p-values are corrected over m = 2.
  const auto holm = report::holm_adjust({0.01, std::nan(""), 0.04});
  EXPECT_DOUBLE_EQ(holm[0], 0.02);
  EXPECT_TRUE(std::isnan(holm[1]));
  EXPECT_DOUBLE_EQ(holm[2], 0.04);
}

TEST(ReportStats, SignedRankTieResolutionMergesFloatNoise) {
  // 0.3 - 0.1 and 0.2 differ in the last bits; at resolution 1e-12 they tie, and 1e-17 is a zero.
  const std::vector<double> d = {0.3 - 0.1, 0.2, -0.1, 1e-17, 0.4, 0.5};
  const auto exact = report::wilcoxon_signed_rank(d);
  const auto resolved = report::wilcoxon_signed_rank(d, 1e-12);
  EXPECT_EQ(exact.zeros, 0);
  EXPECT_EQ(resolved.zeros, 1);
  EXPECT_FALSE(resolved.exact);  // a tie and a zero: the normal approximation
  // Ranks with the tie: 0.1 -> 1, (0.2, 0.2) -> 2.5 each, 0.4 -> 4, 0.5 -> 5: W+ = 2.5 + 2.5 + 4 + 5.
  EXPECT_DOUBLE_EQ(resolved.w_plus, 14.0);
}

TEST(ReportBootstrap, IntervalIsThePercentileOfItsOwnResamples) {
  std::mt19937_64 gen(7);
  std::normal_distribution<double> normal(0.01, 0.2);
  std::vector<double> d(500);
  for (double& v : d) v = normal(gen);
  const auto ci = report::paired_bootstrap_ci(d, 0.95, 2000, 99);
  std::vector<double> means = report::bootstrap_means(d, 2000, 99);
  ASSERT_EQ(means.size(), 2000u);
  // Restated: position h = 1999 q between order statistics floor(h) and floor(h) + 1.
  auto order_stat = [&](size_t k) {
    std::vector<double> m = means;
    std::nth_element(m.begin(), m.begin() + static_cast<long>(k), m.end());
    return m[k];
  };
  const double lo = order_stat(49) + 0.975 * (order_stat(50) - order_stat(49));      // h = 49.975
  const double hi = order_stat(1949) + 0.025 * (order_stat(1950) - order_stat(1949)); // h = 1949.025
  EXPECT_DOUBLE_EQ(ci.low, lo);
  EXPECT_DOUBLE_EQ(ci.high, hi);
  EXPECT_LT(ci.low, report::mean(d));
  EXPECT_GT(ci.high, report::mean(d));
  // The resample means spread like the mean's standard error s / sqrt(n) (within 10 %).
  const double se = report::sample_std(d) / std::sqrt(500.0);
  EXPECT_NEAR(report::sample_std(means), se, 0.1 * se);
  // Seeded: the same interval again; another seed, another one.
  const auto again = report::paired_bootstrap_ci(d, 0.95, 2000, 99);
  EXPECT_EQ(again.low, ci.low);
  EXPECT_NE(report::paired_bootstrap_ci(d, 0.95, 2000, 100).low, ci.low);
}

TEST(ReportBootstrap, ResamplesDrawEachValueWithEqualChance) {
  // d = {0, 1}, n = 2: a resample's mean is 0, 0.5 or 1 with chances 1/4, 1/2, 1/4.
  const auto means = report::bootstrap_means({0.0, 1.0}, 40000, 3);
  double zero = 0, half = 0;
  for (double m : means) zero += m == 0.0, half += m == 0.5;
  EXPECT_NEAR(zero / 40000, 0.25, 0.01);
  EXPECT_NEAR(half / 40000, 0.5, 0.01);
  const auto flat = report::paired_bootstrap_ci({0.25, 0.25, 0.25}, 0.95, 100, 1);
  EXPECT_EQ(flat.low, 0.25);
  EXPECT_EQ(flat.high, 0.25);
  EXPECT_FALSE(report::paired_bootstrap_ci({0.25}, 0.95, 100, 1).valid());
}

TEST(ReportBootstrap, NinetyFivePercentIntervalsCoverTheTrueMeanAboutNinetyFivePercentOfTheTime) {
  std::mt19937_64 gen(11);
  std::normal_distribution<double> normal(0.3, 1.0);
  int covered = 0;
  const int trials = 400;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> d(60);
    for (double& v : d) v = normal(gen);
    const auto ci = report::paired_bootstrap_ci(d, 0.95, 1000, static_cast<uint64_t>(t));
    covered += ci.low <= 0.3 && 0.3 <= ci.high;
  }
  // Percentile intervals at n = 60 cover ~94 %; 400 trials: a standard error of ~1.1 points.
  EXPECT_GE(covered, static_cast<int>(0.90 * trials));
  EXPECT_LE(covered, static_cast<int>(0.98 * trials));
}

TEST(ReportGroups, QuantileEdgesAndGainByGroup) {
  // n_train sorted: 1 1 1 2 3 5 8 9; 4 buckets, quantile positions 2, 4, 6: the 1s end at 3, then
  // boundaries 4 and 6 (eval/groups.hpp): lower edges 1, 2, 3, 8, groups {1 1 1}, {2}, {3 5}, {8 9}.
  const std::vector<double> n_train = {5, 1, 9, 1, 2, 8, 1, 3};
  const auto lower = report::quantile_lower_edges(n_train, 4);
  EXPECT_EQ(lower, (std::vector<double>{1, 2, 3, 8}));
  EXPECT_EQ(report::group_of(lower, 1), 0);
  EXPECT_EQ(report::group_of(lower, 2), 1);
  EXPECT_EQ(report::group_of(lower, 5), 2);
  EXPECT_EQ(report::group_of(lower, 100), 3);
  const std::vector<double> a = {0.5, 0.2, 0.4, 0.1, 0.3, 0.9, 0.3, 0.2};
  const std::vector<double> b = {0.25, 0.2, 0.4, 0.1, 0.3, 0.6, 0.1, 0.2};
  // Group 0 (users 1, 3, 6): a 0.2+0.1+0.3 = 0.6 vs b 0.2+0.1+0.1 = 0.4: +50 %; group 1 (user 4): 0.3 vs
  // 0.3: 0 %; group 2 (users 0, 7): 0.7 vs 0.45: +55.56 %; group 3 (users 2, 5): 1.3 vs 1.0: +30 %.
  const auto gain = report::relative_gain_by_group(a, b, n_train, lower);
  ASSERT_EQ(gain.size(), 4u);
  EXPECT_NEAR(gain[0], 50.0, 1e-9);
  EXPECT_NEAR(gain[1], 0.0, 1e-9);
  EXPECT_NEAR(gain[2], 100 * (0.7 - 0.45) / 0.45, 1e-9);
  EXPECT_NEAR(gain[3], 30.0, 1e-9);
  // A group whose base sums to zero has no gain.
  EXPECT_TRUE(std::isnan(report::relative_gain_by_group({0.1}, {0.0}, {1}, {1})[0]));
}

namespace {

void write_gz(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
}

}  // namespace

TEST(ReportPerUser, ColumnsAreMatchedByNameAndExtraColumnsIgnored) {
  const std::string path = ::testing::TempDir() + "/per_user_test.tsv.gz";
  write_gz(path, "user\tn_truth\tn_train\trecall@10\tndcg@20\textra\trecall@20\n"
                 "0\t2\t5\t0.5\t0.25\tx\t1.0000000000000000\n"
                 "3\t1\t9\t0\t0.125\ty\t0.5\n");
  const auto t = report::read_per_user(path, {"recall@20", "ndcg@20", "novelty@20"});
  EXPECT_EQ(t.users, (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(t.n_train, (std::vector<double>{5, 9}));
  EXPECT_EQ(t.columns.at("recall@20"), (std::vector<double>{1.0, 0.5}));
  EXPECT_EQ(t.columns.at("ndcg@20"), (std::vector<double>{0.25, 0.125}));
  EXPECT_EQ(t.columns.count("novelty@20"), 0u);  // asked for, not in the file
  write_gz(path, "user\trecall@20\n0\t0.5\n1\tabc\n");
  try {
    report::read_per_user(path, {"recall@20"});
    FAIL() << "a non-number was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("per_user_test.tsv.gz:3: expected a number, got 'abc'"), std::string::npos) << e.what();
  }
  write_gz(path, "n_train\trecall@20\n3\t0.5\n");
  EXPECT_THROW(report::read_per_user(path, {"recall@20"}), std::runtime_error);  // no user column
}
