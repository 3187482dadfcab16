// The report's comparisons on grid folders made by hand (report_folders.hpp): pairing on the seeds
// both rows ran and the users of all their per-user files, the correction over the whole report, the
// Improv. number from the same seeds and users as its test, no star without a test, old run folders.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "grid/results_store.hpp"
#include "report/group_section.hpp"
#include "report/records.hpp"
#include "report/report.hpp"
#include "report/significance.hpp"
#include "report_folders.hpp"

namespace report = recgrid::report;
using recgrid::test::FakeRun;

namespace {

const int kUsers = 300;

// A run's per-user values: recall in {0, 1/4, ..., 1}, ndcg in [0, 1], `lift` added to a random third
// of the users (clamped to [0, 1]); reproducible from `seed`.
FakeRun fake_run(const std::string& stack, const std::string& seed, double lift, unsigned salt) {
  FakeRun r{"lightgcn", stack, seed};
  std::mt19937_64 gen(salt * 1000 + static_cast<unsigned>(std::stoi(seed)));
  std::uniform_int_distribution<int> quarter(0, 4), third(0, 2);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int u = 0; u < kUsers; ++u) {
    r.users.push_back(u);
    r.n_train.push_back(1 + (u * 7919) % 40);
    const double boost = third(gen) == 0 ? lift : 0;
    r.recall.push_back(std::clamp(quarter(gen) / 4.0 + boost, 0.0, 1.0));
    r.ndcg.push_back(std::clamp(unit(gen) * 0.5 + boost, 0.0, 1.0));
  }
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The line of the Markdown table whose second cell is `label`.
std::string table_line(const std::string& md, const std::string& label) {
  std::istringstream lines(md);
  for (std::string line; std::getline(lines, line);)
    if (line.find("| " + label + " |") != std::string::npos) return line;
  return "";
}

std::vector<report::Comparison> comparisons_of(const std::string& dir, const std::string& test = "t") {
  report::SignificanceOptions o{dir, "test", {"recall@20", "ndcg@20"}, "irllrec", report::Correction::holm, test};
  return report::compare_all(report::group(recgrid::grid::read_results(dir)), o);
}

}  // namespace

TEST(ReportSignificance, PairsSeedsBothRanAndUsersOfAllFilesAndCorrectsOverTheReport) {
  const std::string dir = ::testing::TempDir() + "/report_pairing";
  std::vector<FakeRun> runs;
  for (const std::string seed : {"1", "2", "3"}) {
    runs.push_back(fake_run("none", seed, 0, 1));
    runs.push_back(fake_run("irllrec", seed, 0.25, 2));
    runs.push_back(fake_run("kar", seed, -0.25, 3));
  }
  runs[6].status = "no_learning";  // base, seed 3: flagged, so every comparison with the base pairs seeds 1 and 2
  FakeRun& irl2 = runs[4];         // irllrec, seed 2: user 7 missing from its per-user file
  irl2.users.erase(irl2.users.begin() + 7), irl2.recall.erase(irl2.recall.begin() + 7);
  irl2.ndcg.erase(irl2.ndcg.begin() + 7), irl2.n_train.erase(irl2.n_train.begin() + 7);
  recgrid::test::write_fake_grid(dir, runs);
  const auto all = comparisons_of(dir);
  ASSERT_EQ(all.size(), 4u);  // {irllrec, kar} vs base in R@20 and N@20; the Improv. one is irllrec vs base
  const report::Comparison& c = all[0];
  EXPECT_EQ(c.row, "irllrec");
  EXPECT_EQ(c.against, "none");
  EXPECT_TRUE(c.improv);
  EXPECT_EQ(c.seeds, (std::vector<std::string>{"1", "2"}));
  ASSERT_EQ(c.users, kUsers - 1);
  // Restated: each user's mean over seeds 1 and 2, user 7 left out.
  std::vector<double> d;
  double sum_a = 0, sum_b = 0;
  for (int u = 0; u < kUsers; ++u) {
    if (u == 7) continue;
    const double a = (runs[1].recall[u] + runs[4].recall[u - (u > 7)]) / 2, b = (runs[0].recall[u] + runs[3].recall[u]) / 2;
    d.push_back(a - b), sum_a += a, sum_b += b;
  }
  EXPECT_NEAR(c.mean_a, sum_a / (kUsers - 1), 1e-12);
  EXPECT_NEAR(c.mean_b, sum_b / (kUsers - 1), 1e-12);
  EXPECT_NEAR(c.relative(), 100 * (sum_a - sum_b) / sum_b, 1e-9);
  EXPECT_DOUBLE_EQ(c.user_t.p, report::one_sample_t_test(d).p);
  EXPECT_DOUBLE_EQ(c.user_w.p, report::wilcoxon_signed_rank(d, 1e-12).p);
  EXPECT_LT(c.ci.low, c.difference());
  EXPECT_GT(c.ci.high, c.difference());
  // The seed-level column: the records' test values over the same two seeds.
  EXPECT_DOUBLE_EQ(c.seed_t.p, report::paired_t_test({recgrid::test::fake_mean(runs[1].recall), recgrid::test::fake_mean(runs[4].recall)},
                                                     {recgrid::test::fake_mean(runs[0].recall), recgrid::test::fake_mean(runs[3].recall)}).p);
  // One family: Holm over the 4 per-user t-tests.
  std::vector<double> p;
  for (const auto& x : all) p.push_back(x.user_t.p);
  const auto holm = report::holm_adjust(p);
  for (size_t k = 0; k < all.size(); ++k) {
    EXPECT_DOUBLE_EQ(all[k].p_adjusted, holm[k]) << k;
    EXPECT_EQ(all[k].star, holm[k] < 0.05) << k;
  }
  // The Improv. cell shows that number and star; the Significance section lists every comparison.
  report::write_report({dir, "", "irllrec", {"recall@20", "ndcg@20"}, "test"});
  const std::string md = slurp(dir + "/report.md");
  char cell[64];
  std::snprintf(cell, sizeof cell, "| %+.2f %%%s |", c.relative(), c.star ? "*" : "");
  EXPECT_NE(table_line(md, "Improv. (irllrec)").find(cell), std::string::npos) << cell << "\n" << md;
  EXPECT_NE(md.find("## Significance"), std::string::npos);
  EXPECT_NE(md.find("Holm-Bonferroni-corrected over the 4 tested comparisons"), std::string::npos) << md;
  EXPECT_NE(md.find("toy: lightgcn + kar vs (base)"), std::string::npos) << md;
}

TEST(ReportSignificance, WilcoxonAndBenjaminiHochbergWhenAsked) {
  const std::string dir = ::testing::TempDir() + "/report_wilcoxon";
  std::vector<FakeRun> runs;
  for (const std::string seed : {"1", "2"})
    runs.push_back(fake_run("none", seed, 0, 1)), runs.push_back(fake_run("irllrec", seed, 0.05, 2)),
        runs.push_back(fake_run("kar", seed, 0.03, 3));
  recgrid::test::write_fake_grid(dir, runs);
  report::SignificanceOptions o{dir, "test", {"recall@20", "ndcg@20"}, "irllrec", report::Correction::bh, "wilcoxon"};
  const auto all = report::compare_all(report::group(recgrid::grid::read_results(dir)), o);
  ASSERT_EQ(all.size(), 6u);  // {irllrec, kar} vs the base and irllrec vs kar, in R@20 and N@20
  std::vector<double> p;
  for (const auto& c : all) p.push_back(c.user_w.p);
  const auto bh = report::bh_adjust(p), holm = report::holm_adjust(p);
  bool differs_from_holm = false;
  for (size_t k = 0; k < all.size(); ++k) {
    EXPECT_EQ(all[k].tested_by, "per-user Wilcoxon");
    EXPECT_DOUBLE_EQ(all[k].p_adjusted, bh[k]);
    differs_from_holm = differs_from_holm || std::fabs(bh[k] - holm[k]) > 1e-12;
  }
  EXPECT_TRUE(differs_from_holm) << "these p-values cannot tell BH from Holm: choose other lifts";
}

TEST(ReportSignificance, NoStarWithoutATestAndEveryCaseSaysWhy) {
  const std::string dir = ::testing::TempDir() + "/report_nostar";
  std::vector<FakeRun> runs;
  for (const std::string seed : {"1", "2", "3"}) {
    FakeRun base = fake_run("none", seed, 0, 1);
    FakeRun same = base, shifted = base;
    same.stack = "irllrec";             // every per-user difference zero
    shifted.stack = "kar";              // every per-user difference 0.125 (exact in binary): zero variance
    for (double& v : shifted.recall) v += 0.125;
    for (double& v : shifted.ndcg) v += 0.125;
    runs.push_back(base), runs.push_back(same), runs.push_back(shifted);
  }
  recgrid::test::write_fake_grid(dir, runs);
  for (const auto& c : comparisons_of(dir)) {
    EXPECT_FALSE(c.star) << c.row << " " << c.metric;
    EXPECT_TRUE(std::isnan(c.p_adjusted));
    // irllrec vs the base: equal; kar vs the base, and irllrec vs kar (its best other row): a constant shift.
    const bool equal = c.row == "irllrec" && c.against == "none";
    EXPECT_EQ(c.why_no_star, equal ? "every difference is zero" : "zero variance (every pair differs by the same amount)");
  }
  report::write_report({dir, "", "kar", {"recall@20", "ndcg@20"}, "test"});
  const std::string improv = table_line(slurp(dir + "/report.md"), "Improv. (kar)");
  ASSERT_FALSE(improv.empty());
  EXPECT_EQ(improv.find('*'), std::string::npos) << improv;
}

TEST(ReportSignificance, OldRunFoldersReportSeedLevelOnlyAndFloatEqualShiftsGetNoStar) {
  const std::string dir = ::testing::TempDir() + "/report_old";
  std::vector<FakeRun> runs;
  // Seed means offset by 0.01 in decimal: 0.31 - 0.3 and 0.21 - 0.2 differ only in float rounding.
  const double base_values[] = {0.1, 0.2, 0.3};
  for (int s = 0; s < 3; ++s) {
    FakeRun b{"lightgcn", "none", std::to_string(s + 1)}, h{"lightgcn", "irllrec", std::to_string(s + 1)};
    b.recall = b.ndcg = {base_values[s]};
    h.recall = h.ndcg = {base_values[s] + 0.01};
    b.per_user_file = h.per_user_file = false;
    runs.push_back(b), runs.push_back(h);
  }
  recgrid::test::write_fake_grid(dir, runs);
  const auto all = comparisons_of(dir);
  ASSERT_EQ(all.size(), 2u);
  for (const auto& c : all) {
    EXPECT_EQ(c.tested_by, "seed-level t-test");
    EXPECT_EQ(c.no_users, "no per-user file (a run from before them)");
    EXPECT_FALSE(c.star);
    EXPECT_NE(c.why_no_star.find("zero variance"), std::string::npos) << c.why_no_star;
  }
  report::write_report({dir, "", "irllrec", {"recall@20", "ndcg@20"}, "test"});
  const std::string md = slurp(dir + "/report.md");
  EXPECT_NE(md.find("have no per-user files (runs from before them): their test is the seed-level paired t-test"),
            std::string::npos) << md;
  EXPECT_NE(md.find("No per-user files in these runs."), std::string::npos);
  EXPECT_EQ(table_line(md, "Improv. (irllrec)").find('*'), std::string::npos);
}

// Per-user files that share fewer than 2 users give no per-user test: the comparison falls back to the
// seed-level test, and says why.
TEST(ReportSignificance, FilesWithoutCommonUsersFallBackToTheSeedLevelTest) {
  const std::string dir = ::testing::TempDir() + "/report_disjoint";
  std::vector<FakeRun> runs;
  for (const std::string seed : {"1", "2", "3"})
    for (const std::string stack : {"none", "irllrec"}) {
      FakeRun r = fake_run(stack, seed, stack == "none" ? 0 : 0.2, stack == "none" ? 1 : 2);
      const int first = (std::stoi(seed) - 1) * 100;  // seed 1: users 0-99, seed 2: 100-199, ...
      FakeRun part{r.model, r.stack, r.seed};
      for (size_t k = 0; k < r.users.size(); ++k)
        if (r.users[k] >= first && r.users[k] < first + 100)
          part.users.push_back(r.users[k]), part.n_train.push_back(r.n_train[k]), part.recall.push_back(r.recall[k]),
              part.ndcg.push_back(r.ndcg[k]);
      runs.push_back(part);
    }
  recgrid::test::write_fake_grid(dir, runs);
  const auto all = comparisons_of(dir);
  ASSERT_FALSE(all.empty());
  for (const auto& c : all) {
    EXPECT_EQ(c.no_users, "fewer than 2 users are in every per-user file") << c.row << " " << c.metric;
    EXPECT_EQ(c.tested_by, "seed-level t-test");
    EXPECT_TRUE(std::isfinite(c.p)) << c.row << " " << c.metric;
  }
}

// The star is "corrected p < 0.05", at exactly that line: comparisons whose corrected p falls just
// above it (0.05 to 0.1) get none and say so, those just below get one. Lifts from 0 to 0.1 give
// corrected p-values on both sides; the test first checks that both kinds occurred.
TEST(ReportSignificance, TheStarIsACorrectedPBelowFivePercent) {
  int above = 0, below = 0;
  for (int step = 0; step <= 20; ++step) {
    const std::string dir = ::testing::TempDir() + "/report_star_" + std::to_string(step);
    std::vector<FakeRun> runs;
    for (const std::string seed : {"1", "2", "3"})
      runs.push_back(fake_run("none", seed, 0, 1)), runs.push_back(fake_run("irllrec", seed, 0.005 * step, 2));
    recgrid::test::write_fake_grid(dir, runs);
    for (const auto& c : comparisons_of(dir)) {
      if (!std::isfinite(c.p_adjusted)) continue;
      EXPECT_EQ(c.star, c.p_adjusted < 0.05) << "lift " << 0.005 * step << " " << c.metric << " p " << c.p_adjusted;
      if (c.p_adjusted >= 0.05 && c.p_adjusted < 0.1) {
        ++above;
        EXPECT_EQ(report::significance_table({c}).rows[0].back().text, "corrected p >= 0.05");
      }
      below += c.p_adjusted < 0.05 && c.p_adjusted >= 0.01;
    }
  }
  EXPECT_GT(above, 0) << "no corrected p between 0.05 and 0.1: choose other lifts";
  EXPECT_GT(below, 0) << "no corrected p between 0.01 and 0.05: choose other lifts";
}

// The Groups table's cells are each group's mean over the row's seeds (the seeds' values differ here,
// so a cell that showed one seed's value would not match).
TEST(ReportGroups, TheGroupTableShowsEachGroupsMeanOverTheSeeds) {
  const std::string dir = ::testing::TempDir() + "/report_group_table";
  std::vector<FakeRun> runs;
  const double sparse_recall[] = {0.1, 0.2, 0.6}, head_share[] = {0.5, 0.7, 0.9};
  for (int s = 0; s < 3; ++s) {
    FakeRun r = fake_run("none", std::to_string(s + 1), 0, 1);
    r.test_groups = {
        {"user_groups", {{"by", "n_train"}, {"buckets", {{{"name", "sparse"}, {"n_train_min", 1}, {"n_train_max", 5},
                                                          {"recall@20", sparse_recall[s]}, {"ndcg@20", 0.1}}}}}},
        {"item_groups", {{"head_share", 0.2}, {"groups", {{{"name", "head"}, {"slot_share@20", head_share[s]}, {"recall@20", 0.4}}}}}}};
    runs.push_back(r);
  }
  // Row kar: its seed 2 recorded "sparse" as n_train 1-3 (another rule): its user-group cells are not averaged.
  for (int s = 0; s < 2; ++s) {
    FakeRun r = fake_run("kar", std::to_string(s + 1), 0, 3);
    r.test_groups = runs[static_cast<size_t>(s)].test_groups;
    if (s == 1) r.test_groups["user_groups"]["buckets"][0]["n_train_max"] = 3;
    runs.push_back(r);
  }
  recgrid::test::write_fake_grid(dir, runs);
  const auto section = report::group_section(report::group(recgrid::grid::read_results(dir)), {dir, "test", {"recall@20"}});
  // sparse R@20 (0.1 + 0.2 + 0.6) / 3 = 0.3, N@20 0.1, head share (0.5 + 0.7 + 0.9) / 3 = 0.7, head R@20 0.4.
  EXPECT_NE(section.markdown.find("| R@20 sparse (1-5) | N@20 sparse (1-5) |"), std::string::npos) << section.markdown;
  EXPECT_NE(section.markdown.find("| 0.3000 | 0.1000 | 0.7000 | 0.4000 |"), std::string::npos) << section.markdown;
  // kar: head share (0.5 + 0.7) / 2 = 0.6 is averaged; the sparse cells are not.
  EXPECT_NE(section.markdown.find("| + kar | – | – | 0.6000 | 0.4000 |"), std::string::npos) << section.markdown;
  EXPECT_NE(section.html.find("groups differ in their n_train range"), std::string::npos);
}
