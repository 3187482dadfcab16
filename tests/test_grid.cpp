// Grid files, cell locks and report statistics (unit level; test_grid_cli.cpp runs whole grids).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "config/config.hpp"
#include "grid/cell_lock.hpp"
#include "grid/fitted_cells.hpp"
#include "grid/grid_runner.hpp"
#include "grid/grid_spec.hpp"
#include "report/stats.hpp"
#include "report/svg_chart.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace recgrid;

namespace {

// Writes a grid file inside the source tree's configs/ search path (found from the temp dir by the
// ./configs fallback: tests run in the source folder).
std::string write_grid(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/grid_" + name + ".yaml";
  std::ofstream(path) << text;
  return path;
}

std::string value(const config::Config& c, const std::string& a, const std::string& b) {
  return c.root()[a][b].as<std::string>();
}

}  // namespace

TEST(GridSpec, ExpandsTheCrossProductMinusExclusionsSeedsInnermost) {
  const auto path = write_grid("expand", R"(grid:
  name: t
  datasets: [planted]
  models: [lightgcn, sgl]
  enhancers: [none, rlmrec_con, irllrec]
  seeds: [7, 8]
  exclude:
    - {model: sgl, enhancers: [rlmrec_con, irllrec]}
train: {epochs: 3}
)");
  const grid::GridSpec spec = grid::load_grid(path, {});
  // 1 x 2 x 3 x 2 = 12, minus sgl with 2 stacks x 2 seeds = 8.
  ASSERT_EQ(spec.cells.size(), 8u);
  EXPECT_EQ(spec.cells[0].id, "planted-lightgcn-none-s7");
  EXPECT_EQ(spec.cells[1].id, "planted-lightgcn-none-s8");
  EXPECT_EQ(spec.cells[2].id, "planted-lightgcn-rlmrec_con-s7");
  EXPECT_EQ(spec.cells.back().id, "planted-sgl-none-s8");
  for (const auto& c : spec.cells) {
    EXPECT_EQ(value(c.config, "train", "epochs"), "3");  // the common layer
    EXPECT_EQ(value(c.config, "train", "seed"), c.axes.at("seed"));
    EXPECT_EQ(value(c.config, "model", "name"), c.axes.at("model"));
    EXPECT_EQ(value(c.config, "dataset", "format"), "synthetic");
    EXPECT_EQ(c.config.root()["name"].as<std::string>(), c.id);
    const auto enh = c.config.root()["enhancers"];
    if (c.axes.at("enhancers") == "none") EXPECT_EQ(enh.size(), 0u);
    else EXPECT_EQ(enh[0].as<std::string>(), c.axes.at("enhancers"));
  }
}

// A dataset named by path (an imported dataset's YAML) reads by its dataset.name in cell ids and
// axes (so in `status` and the report), or by the file's stem; rules and --only use that label.
TEST(GridSpec, DatasetsNamedByPathReadByTheirName) {
  const fs::path dir = fs::path(::testing::TempDir()) / "grid_by_path" / "cfg";
  fs::create_directories(dir);
  std::ofstream(dir / "mydata.yaml") << "dataset:\n  name: books\n  format: synthetic\n";
  std::ofstream(dir / "other-set.yaml") << "dataset:\n  format: synthetic\n";
  const std::string path = (dir.parent_path() / "grid.yaml").string();
  std::ofstream(path) << R"(grid:
  datasets: [cfg/mydata.yaml, cfg/other-set.yaml]
  models: [lightgcn]
  overrides:
    - {when: {dataset: books}, set: {train: {epochs: 4}}}
train: {epochs: 3}
)";
  const grid::GridSpec spec = grid::load_grid(path, {});
  ASSERT_EQ(spec.cells.size(), 2u);
  EXPECT_EQ(spec.cells[0].id, "books-lightgcn");
  EXPECT_EQ(spec.cells[0].axes.at("dataset"), "books");
  EXPECT_EQ(spec.cells[0].config.root()["dataset"]["name"].as<std::string>(), "books");  // the file was applied
  EXPECT_EQ(value(spec.cells[0].config, "train", "epochs"), "4");                       // the rule used the name
  EXPECT_EQ(spec.cells[1].id, "other-set-lightgcn");
  EXPECT_EQ(value(spec.cells[1].config, "train", "epochs"), "3");
  EXPECT_EQ(grid::select_cells(spec, {"dataset=books"}), (std::set<std::string>{"books-lightgcn"}));
}

TEST(GridSpec, OverridesApplyToMatchingCellsAndSweepsSetTheirKeys) {
  const auto path = write_grid("override", R"(grid:
  models: [lightgcn, simgcl]
  sweep: {train.lr: [0.001, 0.0005]}
  overrides:
    - when: {model: simgcl}
      set: {train: {batch_size: 128}}
    - when: {model: simgcl, train.lr: 0.0005}
      set: {train: {patience: 9}}
)");
  const grid::GridSpec spec = grid::load_grid(path, {"train.epochs=2"});
  ASSERT_EQ(spec.cells.size(), 4u);
  std::set<std::string> ids;
  for (const auto& c : spec.cells) {
    ids.insert(c.id);
    const bool simgcl = c.axes.at("model") == "simgcl";
    EXPECT_EQ(value(c.config, "train", "batch_size"), simgcl ? "128" : "4096") << c.id;
    EXPECT_EQ(value(c.config, "train", "lr"), c.axes.at("train.lr")) << c.id;
    EXPECT_EQ(value(c.config, "train", "patience"), simgcl && c.axes.at("train.lr") == "0.0005" ? "9" : "5") << c.id;
    EXPECT_EQ(value(c.config, "train", "epochs"), "2");  // --set wins over everything
  }
  EXPECT_TRUE(ids.count("lightgcn-lr=0.001"));
  EXPECT_TRUE(ids.count("simgcl-lr=0.0005"));
}

TEST(GridSpec, AStackOfPresetsRunsTheirEnhancersInOrder) {
  const auto path = write_grid("stack", R"(grid:
  datasets: [planted]
  models: [lightgcn]
  enhancers: [[rlmrec_con, irllrec]]
)");
  const grid::GridSpec spec = grid::load_grid(path, {});
  ASSERT_EQ(spec.cells.size(), 1u);
  EXPECT_EQ(spec.cells[0].axes.at("enhancers"), "rlmrec_con+irllrec");
  const auto enh = spec.cells[0].config.root()["enhancers"];
  ASSERT_EQ(enh.size(), 2u);
  EXPECT_EQ(enh[0].as<std::string>(), "rlmrec_con");
  EXPECT_EQ(enh[1].as<std::string>(), "irllrec");
  // Both presets' options arrived.
  EXPECT_TRUE(spec.cells[0].config.root()["enhancer"]["irllrec"]["momentum"].IsDefined());
}

TEST(GridSpec, BadGridsNameFileLineAndWhatWasExpected) {
  auto error_of = [](const std::string& text) {
    try {
      grid::load_grid(write_grid("bad", text), {});
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("grid:\n  modles: [lightgcn]\n").find(":2: unknown key 'grid.modles'; did you mean 'grid.models'"),
            std::string::npos);
  EXPECT_NE(error_of("grid:\n  models: [lightgcn]\n  exclude:\n    - {datset: x}\n").find(":4: exclude names the axis 'datset'"),
            std::string::npos);
  EXPECT_NE(error_of("grid:\n  seeds: [1, two]\n").find(":2: a seed is a non-negative integer"), std::string::npos);
  EXPECT_NE(error_of("grid:\n  models: lightgcn\n").find(":2: grid.models expects a non-empty list"), std::string::npos);
  EXPECT_NE(error_of("grid:\n  models: [lightgcn]\n  exclude: [{model: lightgcn}]\n").find("every cell is excluded"),
            std::string::npos);
  EXPECT_NE(error_of("grid:\n  datasets: [nowhere]\n").find("no dataset config named 'nowhere'"), std::string::npos);
}

TEST(GridSpec, ShardsAreParsedStrictly) {
  int i = -1, n = -1;
  grid::parse_shard("1/3", i, n);
  EXPECT_EQ(i, 1);
  EXPECT_EQ(n, 3);
  for (const char* bad : {"3/3", "-1/2", "1", "a/b", "1/0", "1/2x"})
    EXPECT_THROW(grid::parse_shard(bad, i, n), std::invalid_argument) << bad;
}

TEST(GridSpec, StableHashIsFnv1a) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(grid::stable_hash(""), "cbf29ce484222325");
  EXPECT_EQ(grid::stable_hash("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(grid::stable_hash("foobar"), "85944171f73967e8");
}

TEST(CellLock, ExcludesASecondHolderAndFreesWhenReleased) {
  const std::string dir = ::testing::TempDir() + "/lock_basic";
  fs::remove_all(dir);
  auto first = grid::CellLock::try_acquire(dir);
  ASSERT_TRUE(first);
  EXPECT_FALSE(grid::CellLock::try_acquire(dir));  // a second open file description conflicts
  EXPECT_NE(grid::CellLock::last_holder(dir).find("pid " + std::to_string(::getpid())), std::string::npos);
  first.reset();
  EXPECT_TRUE(grid::CellLock::try_acquire(dir));
}

TEST(CellLock, ALockLeftByADeadProcessIsFree) {
  const std::string dir = ::testing::TempDir() + "/lock_stale";
  fs::remove_all(dir);
  const pid_t child = ::fork();
  if (child == 0) {
    auto lock = grid::CellLock::try_acquire(dir);
    ::_exit(lock ? 0 : 1);  // dies holding it: no destructor runs
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(fs::exists(dir + "/lock"));  // the file stays, naming the dead holder
  EXPECT_NE(grid::CellLock::last_holder(dir).find("pid " + std::to_string(child)), std::string::npos);
  EXPECT_TRUE(grid::CellLock::try_acquire(dir));
}

TEST(ReportStats, StudentTMatchesTablesAndClosedForms) {
  // Critical values of the two-sided 5 % test (statistics tables).
  EXPECT_NEAR(report::student_t_p_two_sided(12.7062, 1), 0.05, 1e-5);
  EXPECT_NEAR(report::student_t_p_two_sided(4.3027, 2), 0.05, 1e-5);
  EXPECT_NEAR(report::student_t_p_two_sided(2.7764, 4), 0.05, 1e-4);
  EXPECT_NEAR(report::student_t_p_two_sided(2.2281, 10), 0.05, 1e-4);
  // Closed forms: df = 1 is Cauchy, p = 1 - 2 atan|t| / pi; df = 2: p = 1 - |t| / sqrt(t^2 + 2).
  for (double t : {0.1, 0.7, 1.5, 3.0, 20.0}) {
    EXPECT_NEAR(report::student_t_p_two_sided(t, 1), 1 - 2 * std::atan(t) / M_PI, 1e-10) << t;
    EXPECT_NEAR(report::student_t_p_two_sided(t, 2), 1 - t / std::sqrt(t * t + 2), 1e-10) << t;
  }
  EXPECT_NEAR(report::student_t_p_two_sided(0, 5), 1.0, 1e-12);
  EXPECT_NEAR(report::incomplete_beta(0.3, 1, 1), 0.3, 1e-12);         // uniform
  EXPECT_NEAR(report::incomplete_beta(0.3, 2, 1), 0.09, 1e-12);        // x^2
  EXPECT_NEAR(report::incomplete_beta(0.3, 1, 3), 1 - 0.343, 1e-12);   // 1 - (1-x)^3
}

TEST(ReportStats, PairedTTestByHand) {
  // d = (0.5, 0.1, 0.8): mean 0.46667, sd 0.35119, t = 2.30164, df 2, p = 1 - t / sqrt(t^2 + 2).
  const auto r = report::paired_t_test({1.0, 2.0, 3.0}, {0.5, 1.9, 2.2});
  EXPECT_EQ(r.n, 3);
  EXPECT_NEAR(r.t, 0.466667 / (0.351188 / std::sqrt(3.0)), 1e-4);
  EXPECT_NEAR(r.p, 1 - r.t / std::sqrt(r.t * r.t + 2), 1e-10);
  // No difference at all, or the same difference every time: no test (once p = 1 and p = 0, a star).
  EXPECT_TRUE(std::isnan(report::paired_t_test({1, 2}, {1, 2}).p));
  EXPECT_TRUE(std::isnan(report::paired_t_test({2, 3}, {1, 2}).p));
  EXPECT_TRUE(std::isnan(report::paired_t_test({1}, {2}).p));     // one pair: no test
  EXPECT_NEAR(report::sample_std({2, 4, 4, 4, 5, 5, 7, 9}), std::sqrt(32.0 / 7), 1e-12);
}

TEST(ReportSvg, DrawsOnePolylinePerSeriesAndEscapesText) {
  report::LineChart c{"a <b> & c", "epoch", "loss", true, {}};
  c.series.push_back({"s1", {{0, 1.0}, {1, 0.5}, {2, 0.25}}});
  c.series.push_back({"s2", {{0, 2.0}, {1, -1.0}, {2, 1.0}}});  // -1 cannot be drawn on a log scale
  const std::string svg = report::render_svg(c);
  EXPECT_NE(svg.find("a &lt;b&gt; &amp; c"), std::string::npos);
  size_t polylines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++polylines;
  EXPECT_EQ(polylines, 2u);
  const size_t s2 = svg.find("points=\"", svg.find("<polyline", svg.find("<polyline") + 1));
  const std::string pts = svg.substr(s2 + 8, svg.find('"', s2 + 8) - s2 - 8);
  EXPECT_EQ(std::count(pts.begin(), pts.end(), ','), 2);  // two of its three points
}

TEST(GridSpec, EveryShippedGridFileExpandsAndValidates) {
  const plugin::Registry registry({test::binary_dir() + "/plugins"});
  int files = 0;
  for (const auto& e : fs::directory_iterator(test::source_dir() + "/configs/grids")) {
    if (e.path().extension() != ".yaml") continue;
    ++files;
    grid::GridSpec spec = grid::load_grid(e.path().string(), {});
    grid::drop_fitted_with_enhancers(spec, registry);  // as `recgrid run` does: a baseline takes no enhancer
    const auto cells = grid::prepare_cells(spec, registry, "/tmp/unused");
    EXPECT_EQ(cells.size(), spec.cells.size()) << e.path();
    std::set<std::string> hashes;
    for (const auto& c : cells) hashes.insert(c.hash);
    EXPECT_EQ(hashes.size(), cells.size()) << e.path() << ": two cells resolve to the same configuration";
  }
  EXPECT_GE(files, 2);
}
