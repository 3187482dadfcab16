// docs/YOUR_DATA.md, replayed: its commands, read block by block from the page, run as written on
// files this test generates in each input format (MovieLens, CSV, RecBole atomic, Amazon JSON
// lines gzipped), through import, text build, a grid, the report, export and recommend. Then the
// outputs are checked against the generated files: original ids everywhere, no training item in a
// list, titles in `recommend`.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "doc_replay.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using recgrid::test::run_block;
using recgrid::test::source_dir;

namespace {

// 200 users with a favourite genre each, 120 movies in 6 genres; every user rates 8 movies of their
// genre 4 or 5 and 4 others 1 or 2 (removed by --min-rating 3). Seeded: the same files every time.
struct Rating {
  int user, item, stars;
  long time;
};
const char* const kGenres[] = {"Drama", "Comedy", "Thriller", "Western", "Musical", "Documentary"};

std::vector<Rating> generate_ratings() {
  std::mt19937 rng(7);
  std::vector<Rating> out;
  for (int u = 1; u <= 200; ++u) {
    std::set<int> rated;
    for (int k = 0; k < 12; ++k) {
      const bool liked = k < 8;
      int item;
      do {
        const int genre = liked ? u % 6 : static_cast<int>((u % 6 + 1 + rng() % 5) % 6);
        item = 1 + genre + 6 * static_cast<int>(rng() % 20);
      } while (!rated.insert(item).second);
      out.push_back({u, item, liked ? 4 + static_cast<int>(rng() % 2) : 1 + static_cast<int>(rng() % 2), 1000000L + u * 100 + k});
    }
  }
  return out;
}

std::string title_of(int item) { return "Movie " + std::to_string(item) + ", a " + kGenres[(item - 1) % 6]; }
std::string asin_of(int item) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "B%09d", item);
  return buf;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
void write_gz(const fs::path& p, const std::string& text) {
  gzFile f = gzopen(p.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
}

// The generated files of one format in `dir`; returns the item id each movie has in that format.
std::map<int, std::string> write_inputs(const std::string& format, const fs::path& dir, const std::vector<Rating>& ratings) {
  std::ostringstream r, t;
  std::map<int, std::string> ids;
  for (int i = 1; i <= 120; ++i) ids[i] = format == "amazon" ? asin_of(i) : std::to_string(i);
  if (format == "movielens") {
    for (const Rating& x : ratings) r << x.user << "::" << x.item << "::" << x.stars << "::" << x.time << "\n";
    for (int i = 1; i <= 120; ++i) t << i << "::" << title_of(i) << "::" << kGenres[(i - 1) % 6] << "\n";
    write(dir / "ratings.dat", r.str()), write(dir / "movies.dat", t.str());
  } else if (format == "delimited") {
    r << "userId,movieId,rating,timestamp\n";
    for (const Rating& x : ratings) r << x.user << "," << x.item << "," << x.stars << "," << x.time << "\n";
    t << "movieId,title,genres\n";
    for (int i = 1; i <= 120; ++i) t << i << ",\"" << title_of(i) << "\"," << kGenres[(i - 1) % 6] << "\n";  // quoted: it has a comma
    write(dir / "ratings.csv", r.str()), write(dir / "movies.csv", t.str());
  } else if (format == "atomic") {
    r << "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
    for (const Rating& x : ratings) r << x.user << "\t" << x.item << "\t" << x.stars << "\t" << x.time << "\n";
    t << "item_id:token\tmovie_title:token_seq\tgenre:token_seq\n";
    for (int i = 1; i <= 120; ++i) t << i << "\t" << title_of(i) << "\t" << kGenres[(i - 1) % 6] << "\n";
    write(dir / "mymovies.inter", r.str()), write(dir / "mymovies.item", t.str());
  } else {
    for (const Rating& x : ratings)
      r << R"({"reviewerID": ")" << x.user << R"(", "asin": ")" << asin_of(x.item) << R"(", "overall": )" << x.stars
        << R"(, "unixReviewTime": )" << x.time << "}\n";
    for (int i = 1; i <= 120; ++i)
      t << R"({"asin": ")" << asin_of(i) << R"(", "title": ")" << title_of(i) << R"(", "category": ["Movies", ")"
        << kGenres[(i - 1) % 6] << "\"]}\n";
    write_gz(dir / "reviews.json.gz", r.str()), write_gz(dir / "meta.json.gz", t.str());
  }
  return ids;
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> tab_fields(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
  return f;
}

// index -> original id of a map file.
std::vector<std::string> read_map(const fs::path& p) {
  std::vector<std::string> ids;
  const auto lines = read_lines(p);
  for (size_t k = 1; k < lines.size(); ++k) ids.push_back(tab_fields(lines[k]).at(1));
  return ids;
}

// The exported lists hold original ids of generated movies, never a user's training item, and the
// training pairs map back to ratings of 3 or more in the generated file.
void check_outputs(const fs::path& dir, const std::map<int, std::string>& item_ids, const std::vector<Rating>& ratings) {
  std::set<std::pair<std::string, std::string>> liked;
  for (const Rating& x : ratings)
    if (x.stars >= 3) liked.insert({std::to_string(x.user), item_ids.at(x.item)});
  std::set<std::string> movies;
  for (const auto& [i, id] : item_ids) movies.insert(id);
  const fs::path data = dir / "data/mymovies";
  const auto users = read_map(data / "user_map.tsv"), items = read_map(data / "item_map.tsv");
  std::set<std::pair<std::string, std::string>> train;
  for (const std::string& line : read_lines(data / "train.tsv")) {
    const auto f = tab_fields(line);
    train.insert({users.at(std::stoul(f[0])), items.at(std::stoul(f[1]))});
  }
  for (const auto& pair : train) ASSERT_TRUE(liked.count(pair)) << pair.first << " " << pair.second;
  const fs::path cells = dir / "runs/mymovies/cells";
  fs::path run;
  for (const auto& e : fs::directory_iterator(cells))
    if (e.path().filename().string().rfind("mymovies-lightgcn-irllrec-s2023-", 0) == 0) run = e.path();
  ASSERT_FALSE(run.empty());
  const auto lists = read_lines(run / "export/recommendations.tsv");
  ASSERT_EQ(lists.size(), 1 + 200 * 20u);
  EXPECT_EQ(lists[0], "user\trank\titem\tscore\ttitle");
  for (size_t k = 1; k < lists.size(); ++k) {
    const auto f = tab_fields(lists[k]);
    ASSERT_EQ(f.size(), 5u) << lists[k];
    EXPECT_TRUE(movies.count(f[2])) << lists[k];
    EXPECT_FALSE(train.count({f[0], f[2]})) << "a training item in the list: " << lists[k];
    EXPECT_EQ(f[4].rfind("Movie ", 0), 0u) << lists[k];
  }
  for (const char* file : {"user_embeddings.npy", "item_embeddings.npy", "text_side.irllrec.user.npy", "text_side.irllrec.item.npy"})
    EXPECT_TRUE(fs::exists(run / "export" / file)) << file;
  std::ifstream report(dir / "runs/mymovies/report.md");
  const std::string text((std::istreambuf_iterator<char>(report)), {});
  EXPECT_NE(text.find("mymovies R@20"), std::string::npos);
}

}  // namespace

TEST(YourData, TheWalkThroughRunsAsWrittenInEveryInputFormat) {
  const recgrid::test::Walkthrough w = recgrid::test::read_walkthrough(source_dir() + "/docs/YOUR_DATA.md");
  ASSERT_EQ(w.imports.size(), 4u) << "one import block per format";
  ASSERT_EQ(w.files.count("mymovies-grid.yaml"), 1u);
  ASSERT_EQ(w.steps.size(), 3u);
  const std::vector<Rating> ratings = generate_ratings();
  for (const auto& [format, import] : w.imports) {
    SCOPED_TRACE(format);
    const fs::path dir = fs::path(::testing::TempDir()) / ("your_data_" + format);
    fs::remove_all(dir);
    fs::create_directories(dir);
    const auto item_ids = write_inputs(format, dir, ratings);
    for (const auto& [name, text] : w.files) write(dir / name, text);
    ASSERT_NO_FATAL_FAILURE(run_block(dir, import));
    for (const std::string& step : w.steps) ASSERT_NO_FATAL_FAILURE(run_block(dir, step));
    // The last block ends with `recgrid recommend ... --user 42`: its output has the user and titles.
    std::ifstream out(dir / "block.out");
    const std::string printed((std::istreambuf_iterator<char>(out)), {});
    EXPECT_NE(printed.find("user 42 (index"), std::string::npos) << printed;
    EXPECT_NE(printed.find("  1. "), std::string::npos) << printed;
    EXPECT_NE(printed.find("Movie "), std::string::npos) << printed;
    check_outputs(dir, item_ids, ratings);
  }
}
