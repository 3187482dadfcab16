// `recgrid data import`: each input format, the filters and every split mode against hand-computed
// cases, and the maps that take the dense ids back to the original ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/dataset.hpp"
#include "data/import.hpp"
#include "test_support.hpp"

using namespace recgrid::data;
namespace fs = std::filesystem;

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/import_" + name;
  std::ofstream(path) << text;
  return path;
}

// Rows from "user item time" triples (ids interned in order).
RawData rows_of(const std::vector<std::tuple<std::string, std::string, double>>& triples) {
  RawData d;
  for (const auto& [u, i, t] : triples)
    d.rows.push_back({d.users.index_of(u), d.items.index_of(i), 5.0f, t, d.rows.size()});
  return d;
}

// The split of each (user, item) pair, by original ids.
std::map<std::pair<std::string, std::string>, int> split_of(const RawData& d, const std::vector<RawInteraction>& rows,
                                                            const std::vector<uint8_t>& split) {
  std::map<std::pair<std::string, std::string>, int> out;
  for (size_t k = 0; k < rows.size(); ++k) out[{d.users.ids()[rows[k].user], d.items.ids()[rows[k].item]}] = split[k];
  return out;
}

int at(const std::map<std::pair<std::string, std::string>, int>& s, const std::string& user, const std::string& item) {
  return s.at({user, item});
}

}  // namespace

TEST(Import, EachFormatReadsItsColumnsAndIds) {
  const auto csv = read_interactions(write_file("h.csv", "userId,movieId,rating,timestamp\nalice,book1,4,10\nbob,book2,2.5,11\n"), {});
  ASSERT_EQ(csv.rows.size(), 2u);
  EXPECT_EQ(csv.users.ids(), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(csv.rows[1].rating, 2.5f);
  EXPECT_EQ(csv.rows[1].time, 11);
  const auto spec = read_interactions(write_file("s.tsv", "7\tx\n8\ty\n"), {"delimited", "\\t", "user,item"});
  EXPECT_EQ(spec.items.ids(), (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(spec.has_rating);
  const auto ml = read_interactions(write_file("ratings.dat", "1::31::2.5::1260759144\n1::1029::3::1260759179\n"), {"movielens"});
  EXPECT_EQ(ml.items.ids(), (std::vector<std::string>{"31", "1029"}));
  EXPECT_EQ(ml.rows[0].time, 1260759144);
  const auto udata = read_interactions(write_file("u.data", "196\t242\t3\t881250949\n"), {"movielens"});
  EXPECT_EQ(udata.users.ids()[0], "196");
  const auto atomic = read_interactions(
      write_file("x.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\nu1\ti9\t5\t3\n"), {"atomic"});
  EXPECT_EQ(atomic.items.ids()[0], "i9");
  EXPECT_EQ(atomic.rows[0].time, 3);
  const auto amazon = read_interactions(
      write_file("r.json", R"({"reviewerID": "A1", "asin": "B0", "overall": 4.0, "unixReviewTime": 1400000000})" "\n"),
      {"amazon"});
  EXPECT_EQ(amazon.users.ids()[0], "A1");
  EXPECT_EQ(amazon.rows[0].rating, 4.0f);
  // A bad line names the file and line.
  try {
    read_interactions(write_file("bad.csv", "user,item,rating\na,b,5\nc,d,five\n"), {});
    FAIL() << "a non-number rating was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3: the rating 'five' is not a number"), std::string::npos) << e.what();
  }
}

TEST(Import, FiltersRatingsDuplicatesAndAnIteratedKCore) {
  // k = 2: item z has one interaction; dropping it leaves user C with one, so C goes in a second round.
  RawData d = rows_of({{"A", "x", 1}, {"A", "y", 2}, {"B", "x", 3}, {"B", "y", 4}, {"C", "x", 5}, {"C", "z", 6}});
  FilterReport report;
  auto kept = filter_interactions(d.rows, {-1e300, "first", 2}, report);
  EXPECT_EQ(kept.size(), 4u);
  EXPECT_EQ(report.kcore_removed, 2u);
  EXPECT_EQ(report.kcore_rounds, 2u);
  for (const auto& r : kept) EXPECT_NE(d.users.ids()[r.user], "C");
  // Duplicates: the first or the last by time, whatever the file order; ratings below the threshold go first.
  RawData dup = rows_of({{"A", "x", 9}, {"A", "x", 1}, {"A", "y", 5}});
  dup.rows[2].rating = 1.0f;
  kept = filter_interactions(dup.rows, {3.0, "first", 0}, report);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].time, 1);
  EXPECT_EQ(report.below_rating, 1u);
  EXPECT_EQ(report.duplicates, 1u);
  kept = filter_interactions(dup.rows, {3.0, "last", 0}, report);
  EXPECT_EQ(kept[0].time, 9);
}

TEST(Import, LeaveOneOutAndTemporalSplitsByHand) {
  // A: three interactions (times 5, 1, 3); B: two; C: one.
  const RawData d = rows_of({{"A", "a5", 5}, {"A", "a1", 1}, {"A", "a3", 3}, {"B", "b2", 2}, {"B", "b7", 7}, {"C", "c4", 4}});
  auto s = split_of(d, d.rows, split_interactions(d.rows, {"loo-last"}));
  EXPECT_EQ(at(s, "A", "a5"), 2);  // the latest is the test item
  EXPECT_EQ(at(s, "A", "a3"), 1);  // the one before it validates
  EXPECT_EQ(at(s, "A", "a1"), 0);
  EXPECT_EQ(at(s, "B", "b7"), 2);  // two interactions: one test, no valid
  EXPECT_EQ(at(s, "B", "b2"), 0);
  EXPECT_EQ(at(s, "C", "c4"), 0);  // one: training only
  const auto random = split_interactions(d.rows, {"loo-random"});
  EXPECT_EQ(std::count(random.begin(), random.end(), 2), 2);  // A and B
  EXPECT_EQ(std::count(random.begin(), random.end(), 1), 1);  // A
  // Temporal per user, 10 interactions at times 1..10, valid 0.2, test 0.1: 8 and 9 validate, 10 tests.
  std::vector<std::tuple<std::string, std::string, double>> ten;
  for (int t = 10; t >= 1; --t) ten.emplace_back("U", "i" + std::to_string(t), t);
  const RawData u = rows_of(ten);
  s = split_of(u, u.rows, split_interactions(u.rows, {"temporal-user", 0.2, 0.1}));
  EXPECT_EQ(at(s, "U", "i10"), 2);
  EXPECT_EQ(at(s, "U", "i9"), 1);
  EXPECT_EQ(at(s, "U", "i8"), 1);
  EXPECT_EQ(at(s, "U", "i7"), 0);
  // Temporal global: one cut over every user's interactions at once.
  s = split_of(d, d.rows, split_interactions(d.rows, {"temporal-global", 0.2, 0.2}));  // 6 rows: 1 valid, 1 test
  EXPECT_EQ(at(s, "B", "b7"), 2);
  EXPECT_EQ(at(s, "A", "a5"), 1);
  EXPECT_EQ(at(s, "C", "c4"), 0);
}

TEST(Import, RatioSplitIsSeededAndHoldsOutRoundedShares) {
  std::vector<std::tuple<std::string, std::string, double>> t;
  for (int i = 0; i < 10; ++i) t.emplace_back("ten", "i" + std::to_string(i), i);
  t.emplace_back("two", "a", 0);
  t.emplace_back("two", "b", 1);
  const RawData d = rows_of(t);
  const auto a = split_interactions(d.rows, {"ratio", 0.1, 0.1, 7}), b = split_interactions(d.rows, {"ratio", 0.1, 0.1, 7});
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::count(a.begin(), a.begin() + 10, 1), 1);  // 10 x 0.1 = 1 valid, 1 test
  EXPECT_EQ(std::count(a.begin(), a.begin() + 10, 2), 1);
  EXPECT_EQ(a[10] + a[11], 0);  // 2 x 0.1 rounds to 0: both train
  EXPECT_NE(a, split_interactions(d.rows, {"ratio", 0.1, 0.1, 8}));
  EXPECT_THROW(split_interactions(d.rows, {"ratio", 0.6, 0.5}), std::invalid_argument);
}

// The written folder loads as a TSV dataset; the maps take dense ids back to the original strings;
// no (user, item) pair is in two splits.
TEST(Import, WritesADatasetThatLoadsWithMapsBackToTheOriginalIds) {
  std::string text = "user,item,timestamp\n";
  for (int u = 0; u < 6; ++u)
    for (int i = 0; i < 5; ++i) text += "user-" + std::to_string(u) + ",item-" + std::to_string((u + i) % 7) + "," + std::to_string(u * 10 + i) + "\n";
  const RawData raw = read_interactions(write_file("w.csv", text), {});
  FilterReport report;
  const auto kept = filter_interactions(raw.rows, {}, report);
  const SplitOptions so{"loo-last"};
  const auto split = split_interactions(kept, so);
  const std::string out = ::testing::TempDir() + "/import_written";
  fs::remove_all(out);
  const auto summary = write_dataset(out, "w", raw, kept, split, report, so);
  EXPECT_EQ(summary["users"], 6);
  EXPECT_EQ(summary["interactions"]["test"], 6);
  const Dataset ds = load_tsv(out, summary["users"], summary["items"]);
  EXPECT_EQ(ds.train.size() + ds.valid.size() + ds.test.size(), 30u);
  std::set<std::pair<int64_t, int64_t>> seen;
  for (const Interactions* s : {&ds.train, &ds.valid, &ds.test})
    for (size_t k = 0; k < s->size(); ++k) EXPECT_TRUE(seen.insert({s->user[k], s->item[k]}).second);
  std::ifstream map(out + "/user_map.tsv");
  std::string header, line;
  std::getline(map, header);
  std::getline(map, line);
  EXPECT_EQ(header, "index\toriginal_id");
  EXPECT_EQ(line, "0\tuser-0");
  std::ifstream yaml(out + "/w.yaml");
  const std::string cfg((std::istreambuf_iterator<char>(yaml)), std::istreambuf_iterator<char>());
  EXPECT_NE(cfg.find("format: tsv"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("n_users: 6"), std::string::npos) << cfg;
}
