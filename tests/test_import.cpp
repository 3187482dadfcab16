// `recgrid data import`: each input format, the filters and every split mode against hand-computed
// cases, and the maps that take the dense ids back to the original ones.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "data/dataset.hpp"
#include "data/delimited.hpp"
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
  // Duplicates: the first or the last by time, whatever the file order; then the rating threshold.
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

// Gzip-compressed input reads as the same rows as the plain file (zlib's own writer makes the .gz).
TEST(Import, GzipInputReadsLikeThePlainFile) {
  const std::string text = "userId,movieId,rating\nalice,\"Heat, 1995\",4\nbob,x,3";  // no final newline
  const std::string plain = write_file("z.csv", text);
  const std::string gz = ::testing::TempDir() + "/import_z.csv.gz";
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  const auto a = read_interactions(plain, {}), b = read_interactions(gz, {});
  ASSERT_EQ(b.rows.size(), 2u);
  EXPECT_EQ(a.items.ids(), b.items.ids());
  EXPECT_EQ(b.items.ids()[0], "Heat, 1995");  // a quoted field keeps its comma
  EXPECT_EQ(b.rows[1].rating, 3.0f);
  // A damaged gzip file says so.
  std::string bytes;
  {
    std::ifstream in(gz, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string cut = ::testing::TempDir() + "/import_cut.csv.gz";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 12);
  try {
    read_interactions(cut, {});
    FAIL() << "a truncated gzip file was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("import_cut.csv.gz: cannot read"), std::string::npos) << e.what();
  }
}

TEST(Import, CsvQuotesFollowTheUsualRules) {
  EXPECT_EQ(split_fields("1,\"American President, The (1995)\",Comedy", ","),
            (std::vector<std::string>{"1", "American President, The (1995)", "Comedy"}));
  EXPECT_EQ(split_fields("\"say \"\"hi\"\"\",,x", ","), (std::vector<std::string>{"say \"hi\"", "", "x"}));
  EXPECT_EQ(split_fields("a::\"b\"::c", "::"), (std::vector<std::string>{"a", "\"b\"", "c"}));  // quotes only with one-char separators
}

// Each text format: which column is the id, which make the text, and the composed text.
TEST(Import, ItemAndUserTextInEachFormat) {
  TextReadOptions o;
  auto t = read_entity_texts(write_file("movies.csv", "movieId,title,genres\n1,\"Heat, The\",Crime|Drama\n2,Up,Animation\n"), o, false);
  EXPECT_EQ(t.fields, (std::vector<std::string>{"title", "genres"}));
  EXPECT_EQ(compose_text(t, t.values.at("1"), false), "Heat, The. genres: Crime|Drama");
  o.format = "movielens";
  t = read_entity_texts(write_file("movies.dat", "1::Toy Story (1995)::Animation|Comedy\n"), o, false);
  EXPECT_EQ(t.values.at("1"), (std::vector<std::string>{"Toy Story (1995)", "Animation|Comedy"}));
  // u.item: id | title | date | video date | URL | 19 genre flags (unknown, Action, Adventure, ...)
  t = read_entity_texts(write_file("u.item", "7|Twelve Monkeys (1995)|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|1|0|0|0\n"), o, false);
  EXPECT_EQ(t.values.at("7"), (std::vector<std::string>{"Twelve Monkeys (1995)", "01-Jan-1995", "Drama|Sci-Fi"}));
  t = read_entity_texts(write_file("users.dat", "5::F::25::7::55117\n"), o, true);
  EXPECT_EQ(compose_text(t, t.values.at("5"), true), "gender: F. age: 25. occupation: 7. zip_code: 55117");
  o.format = "atomic";
  t = read_entity_texts(write_file("x.item", "item_id:token\tmovie_title:token_seq\tclass:token_seq\ni9\tAlien\tHorror Sci-Fi\n"), o, false);
  EXPECT_EQ(t.fields, (std::vector<std::string>{"movie_title", "class"}));
  EXPECT_EQ(compose_text(t, t.values.at("i9"), false), "Alien. class: Horror Sci-Fi");
  o.format = "amazon";
  t = read_entity_texts(write_file("meta.json",
                                   R"({"asin": "B1", "title": "Glue", "categories": [["Tools", "Adhesives"], ["Tools"]], "description": ["Strong.", "Fast."]})" "\n"
                                   R"({"asin": "B2", "title": "Tape", "category": ["Tools"], "brand": "Acme"})" "\n"), o, false);
  EXPECT_EQ(compose_text(t, t.values.at("B1"), false), "Glue. categories: Tools, Adhesives. description: Strong. Fast.");
  EXPECT_EQ(compose_text(t, t.values.at("B2"), false), "Tape. brand: Acme. categories: Tools");
  // --text-fields picks columns; a name the header lacks is an error naming the file.
  o = {};
  o.fields = {"genres"};
  t = read_entity_texts(write_file("m2.csv", "movieId,title,genres\n1,Heat,Crime\n"), o, false);
  EXPECT_EQ(t.fields, (std::vector<std::string>{"genres"}));
  o.fields = {"plot"};
  try {
    read_entity_texts(write_file("m3.csv", "movieId,title\n1,Heat\n"), o, false);
    FAIL() << "a missing --text-fields column was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("m3.csv:1: --text-fields names 'plot'"), std::string::npos) << e.what();
  }
}

// The text files keep the entities that survived the filters, under their new indices, with the
// original id beside; text lines for ids not in the data are counted, not written.
TEST(Import, TextFilesFollowTheKeptIdsAndCountWhatIsMissing) {
  EntityTexts t;
  t.fields = {"title", "text"};  // a column named like ours keeps its values under another name
  t.values = {{"b1", {"Heat\tThe", "x"}}, {"gone", {"Old", "y"}}};
  const std::string path = ::testing::TempDir() + "/import_item_text.tsv";
  const auto counts = write_entity_texts(path, t, {"a1", "b1"}, false);
  EXPECT_EQ(counts["with_text"], 1);
  EXPECT_EQ(counts["without_text"], 1);
  EXPECT_EQ(counts["not_in_the_data"], 1);
  std::ifstream in(path);
  std::string header, line;
  std::getline(in, header);
  std::getline(in, line);
  EXPECT_EQ(header, "item\tid\ttitle\toriginal_text\ttext");
  EXPECT_EQ(line, "1\tb1\tHeat The\tx\tHeat The. text: x");
}

// Every split mode, on data with repeated (user, item) pairs and shared timestamps: no pair lands in
// two splits (validation and test never share an interaction with training), and the time-based
// modes hold out only interactions no earlier than every training one (per user, or globally).
TEST(Import, NoSplitModeSharesAPairBetweenSplitsAndTimeModesHoldOutTheLatest) {
  std::mt19937 rng(11);
  RawData d;
  for (int k = 0; k < 3000; ++k) {
    const std::string u = "u" + std::to_string(rng() % 60), i = "i" + std::to_string(rng() % 40);
    d.rows.push_back({d.users.index_of(u), d.items.index_of(i), 5.0f, static_cast<double>(rng() % 500), d.rows.size()});
  }
  for (const char* mode : {"ratio", "loo-last", "loo-random", "temporal-user", "temporal-global"})
    for (const char* dup : {"first", "last"}) {
      SCOPED_TRACE(std::string(mode) + " " + dup);
      FilterReport report;
      const auto kept = filter_interactions(d.rows, {-1e300, dup, 2}, report);
      const auto split = split_interactions(kept, {mode, 0.1, 0.2, 5});
      std::map<std::pair<uint32_t, uint32_t>, int> where;
      std::map<uint32_t, double> last_train, first_held;
      double global_last_train = -1, global_first_held = 1e300;
      for (size_t k = 0; k < kept.size(); ++k) {
        const auto [it, added] = where.emplace(std::pair{kept[k].user, kept[k].item}, split[k]);
        EXPECT_TRUE(added) << "a pair appears twice after the duplicate filter";
        const double t = kept[k].time;
        if (split[k] == 0) {
          last_train[kept[k].user] = std::max(last_train[kept[k].user], t);
          global_last_train = std::max(global_last_train, t);
        } else {
          first_held[kept[k].user] = first_held.count(kept[k].user) ? std::min(first_held[kept[k].user], t) : t;
          global_first_held = std::min(global_first_held, t);
        }
      }
      EXPECT_GT(std::count(split.begin(), split.end(), 2), 0);
      if (std::string(mode) == "temporal-global") EXPECT_LE(global_last_train, global_first_held);
      if (std::string(mode) == "temporal-user" || std::string(mode) == "loo-last")
        for (const auto& [user, first] : first_held) EXPECT_LE(last_train[user], first) << "user " << user;
    }
}

// --duplicates resolves a pair before --min-rating judges it: with `last`, an older 5 and a later 1
// leave the 1, which fails the threshold, so the pair goes (dropping the 1 first kept the 5 as "the
// latest"); with `first`, an older 1 and a later 5 leave the 1. A row without a rating fails a
// threshold and passes when there is none.
TEST(Import, DuplicatesAreResolvedBeforeTheRatingThreshold) {
  RawData d = rows_of({{"A", "x", 1}, {"A", "x", 2}, {"A", "y", 3}, {"B", "x", 4}, {"B", "x", 5}, {"B", "z", 6}});
  const float ratings[] = {5, 1, 5, 1, 5, std::nanf("")};
  for (size_t k = 0; k < d.rows.size(); ++k) d.rows[k].rating = ratings[k];
  FilterReport report;
  auto kept = filter_interactions(d.rows, {4.0, "last", 0}, report);
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& r : kept) pairs.insert({d.users.ids()[r.user], d.items.ids()[r.item]});
  EXPECT_EQ(pairs, (std::set<std::pair<std::string, std::string>>{{"A", "y"}, {"B", "x"}}));
  EXPECT_EQ(report.duplicates, 2u);
  EXPECT_EQ(report.below_rating, 2u);  // (A, x)'s latest 1 and (B, z) without a rating
  kept = filter_interactions(d.rows, {4.0, "first", 0}, report);
  pairs.clear();
  for (const auto& r : kept) pairs.insert({d.users.ids()[r.user], d.items.ids()[r.item]});
  EXPECT_EQ(pairs, (std::set<std::pair<std::string, std::string>>{{"A", "x"}, {"A", "y"}}));
  kept = filter_interactions(d.rows, {kKeepEveryRating, "first", 0}, report);
  EXPECT_EQ(kept.size(), 4u);  // no threshold: the unrated (B, z) stays
  EXPECT_EQ(report.below_rating, 0u);
}

// --min-rating without a rating column and the time-ordered splits without a timestamp column are
// errors naming the option and the column (they kept every row and split by file order, silently);
// an input with the column on some rows only passes with a warning that says what happens to the rest.
TEST(Import, OptionsThatNeedAMissingColumnSaySo) {
  const std::string plain = write_file("nocols.csv", "user,item\na,x\na,y\na,z\nb,x\n");
  const RawData raw = read_interactions(plain, {});
  EXPECT_FALSE(raw.has_rating);
  EXPECT_FALSE(raw.has_time);
  const auto message = [&](const FilterOptions& f, const SplitOptions& s) {
    try {
      check_columns(raw, f, s, "in.csv");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string rating = message({4.0}, {"ratio"});
  EXPECT_NE(rating.find("in.csv: --min-rating needs a rating column, and the input has none"), std::string::npos) << rating;
  for (const char* mode : {"loo-last", "temporal-user", "temporal-global"}) {
    const std::string time = message({}, {mode});
    EXPECT_NE(time.find(std::string("in.csv: --split ") + mode + " orders interactions by time, and the input has no "
                        "timestamp column"), std::string::npos) << time;
  }
  for (const char* mode : {"ratio", "loo-random"}) EXPECT_TRUE(check_columns(raw, {}, {mode}, "in.csv").empty()) << mode;
  // Through the command: exit 2 and the message, nothing written.
  const std::string out = ::testing::TempDir() + "/import_refused";
  fs::remove_all(out);
  const auto r = recgrid::test::run_cli("data import " + plain + " --split temporal-user --out " + out);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--split temporal-user orders interactions by time"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out + "/train.tsv"));
  // Amazon reviews with the fields on some lines only (the first has neither): warnings with counts.
  const RawData some = read_interactions(
      write_file("some.json", R"({"reviewerID": "A", "asin": "x"})" "\n"
                              R"({"reviewerID": "A", "asin": "y", "overall": 5.0, "unixReviewTime": 7})" "\n"),
      {"amazon"});
  EXPECT_TRUE(some.has_rating);
  EXPECT_TRUE(some.has_time);
  const auto warnings = check_columns(some, {3.0}, {"loo-last"}, "r.json");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], "r.json: 1 of 2 interactions have no rating: --min-rating drops them");
  EXPECT_EQ(warnings[1], "r.json: 1 of 2 interactions have no timestamp: --split loo-last counts them as later than "
                         "every timed one, in file order");
}

// Rows with a time sort by time, rows without one after them in file order: one rule, a strict weak
// ordering. The old rule (time only when both rows had one, else file order) made a(t=2) < b(no time)
// < c(t=1) < a, a cycle, and the split depended on the sort's internals (it held out c, the earliest).
TEST(Import, RowsWithoutATimeComeAfterTimedRowsInFileOrder) {
  const double none = std::nan("");
  const RawData d = rows_of({{"U", "a", 2}, {"U", "b", none}, {"U", "c", 1}, {"U", "d", none}});
  auto s = split_of(d, d.rows, split_interactions(d.rows, {"loo-last"}));
  EXPECT_EQ(at(s, "U", "d"), 2);  // the last untimed row by file order is the latest
  EXPECT_EQ(at(s, "U", "b"), 1);
  EXPECT_EQ(at(s, "U", "a"), 0);
  EXPECT_EQ(at(s, "U", "c"), 0);
  const RawData three = rows_of({{"U", "a", 2}, {"U", "b", none}, {"U", "c", 1}});
  s = split_of(three, three.rows, split_interactions(three.rows, {"loo-last"}));
  EXPECT_EQ(at(s, "U", "b"), 2);
  EXPECT_EQ(at(s, "U", "a"), 1);
  EXPECT_EQ(at(s, "U", "c"), 0);
  s = split_of(three, three.rows, split_interactions(three.rows, {"temporal-global", 0.0, 0.34}));
  EXPECT_EQ(at(s, "U", "b"), 2);
  // Duplicates follow the same order: the untimed repeat is the latest, the timed one the first.
  RawData dup = rows_of({{"U", "x", none}, {"U", "x", 5}, {"U", "x", 3}});
  FilterReport report;
  auto kept = filter_interactions(dup.rows, {kKeepEveryRating, "last", 0}, report);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].order, 0u);
  kept = filter_interactions(dup.rows, {kKeepEveryRating, "first", 0}, report);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].time, 3);
}
