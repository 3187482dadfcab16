// Interaction files, load-time checks and the BPR sampler (ALGORITHMS.md §1.1, §1.3).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "data/dataset.hpp"
#include "data/ndarray.hpp"
#include "data/fetch.hpp"
#include "data/sampler.hpp"
#include "test_support.hpp"
#include "util/sha256.hpp"

using namespace recgrid;
using namespace recgrid::data;

namespace {

std::string write_split_dir(const std::string& name, const std::string& train, const std::string& valid,
                            const std::string& test) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/train.tsv") << train;
  std::ofstream(dir + "/valid.tsv") << valid;
  std::ofstream(dir + "/test.tsv") << test;
  return dir;
}

}  // namespace

TEST(Tsv, ReadsAndChecks) {
  const std::string dir =
      write_split_dir("tsv_ok", "# comment\n0\t1\n0\t2\n1\t0\n0\t1\n", "1\t2\n\n", "0\t1\n1\t3\n");
  Dataset ds = load_tsv(dir);
  EXPECT_EQ(ds.n_users, 2);
  EXPECT_EQ(ds.n_items, 4);
  EXPECT_EQ(ds.train.size(), 3u);  // the repeated (0, 1) was removed
  ASSERT_EQ(ds.warnings.size(), 2u);
  EXPECT_NE(ds.warnings[0].find("train split: removed 1 duplicate"), std::string::npos) << ds.warnings[0];
  EXPECT_NE(ds.warnings[1].find("train/test splits share 1"), std::string::npos) << ds.warnings[1];
}

TEST(Tsv, BadLineNamesFileAndLine) {
  const std::string dir = write_split_dir("tsv_bad", "0\t1\n0 x\n", "", "");
  try {
    load_tsv(dir);
    FAIL() << "expected an error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/train.tsv:2: expected 'user<TAB>item'"), std::string::npos) << e.what();
  }
}

TEST(Tsv, OutOfRangeIdIsAnError) {
  const std::string dir = write_split_dir("tsv_range", "0\t1\n1\t0\n", "1\t1\n", "5\t0\n");
  EXPECT_THROW(load_tsv(dir, 2, 2), FormatError);
}

// The paper's datasets (Table 1 of the paper; counts as published with the files): label paper_data.
static void expect_published_counts(const std::string& name, int64_t users, int64_t items, size_t train, size_t valid,
                             size_t test) {
  const Dataset ds = load_sslrec(test::paper_data_root() + "/" + name);
  EXPECT_EQ(ds.n_users, users);
  EXPECT_EQ(ds.n_items, items);
  EXPECT_EQ(ds.train.size(), train);
  EXPECT_EQ(ds.valid.size(), valid);
  EXPECT_EQ(ds.test.size(), test);
  EXPECT_TRUE(ds.warnings.empty());  // disjoint splits, no duplicates (ALGORITHMS.md §1.1)
  for (const data::PublishedFile& f : data::published_files())  // the bytes `recgrid data get` checks
    if (f.dataset == name) EXPECT_EQ(sha256_file(test::paper_data_root() + "/" + name + "/" + f.file), f.sha256) << f.file;
}

TEST(PaperData, AmazonMatchesThePublishedCounts) {
  REQUIRE_PAPER_DATA("amazon");
  expect_published_counts("amazon", 11000, 9332, 120464, 40290, 40106);
}

TEST(PaperData, YelpMatchesThePublishedCounts) {
  REQUIRE_PAPER_DATA("yelp");
  expect_published_counts("yelp", 11091, 11010, 166620, 55479, 55436);
}

TEST(PaperData, MovieMatchesThePublishedCounts) {
  REQUIRE_PAPER_DATA("movie");
  expect_published_counts("movie", 16994, 9370, 134649, 16799, 16795);
}

TEST(Sampler, OneTripletPerInteractionWithTrueNegatives) {
  const Dataset ds = test::tiny_dataset();
  const UserItemIndex index(ds.train, ds.n_users);
  const BprSampler sampler(ds.train, index, ds.n_items);
  const Triplets t = sampler.sample_epoch(7);
  ASSERT_EQ(t.size(), ds.train.size());
  std::multiset<std::pair<int64_t, int64_t>> want, got;
  for (size_t k = 0; k < ds.train.size(); ++k) want.insert({ds.train.user[k], ds.train.item[k]});
  for (size_t k = 0; k < t.size(); ++k) {
    got.insert({t.users[k], t.pos[k]});
    EXPECT_FALSE(index.contains(t.users[k], t.neg[k])) << "negative is a training item";
    EXPECT_GE(t.neg[k], 0);
    EXPECT_LT(t.neg[k], ds.n_items);
  }
  EXPECT_EQ(got, want);  // a permutation of the training interactions
}

TEST(Sampler, SameSeedSameEpochAndShuffled) {
  const Dataset ds = test::load_tsv_scientific();
  const UserItemIndex index(ds.train, ds.n_users);
  const BprSampler sampler(ds.train, index, ds.n_items);
  const Triplets a = sampler.sample_epoch(11), b = sampler.sample_epoch(11), c = sampler.sample_epoch(12);
  EXPECT_EQ(a.users, b.users);
  EXPECT_EQ(a.neg, b.neg);
  EXPECT_NE(a.users, c.users);
  EXPECT_NE(a.users, ds.train.user);  // shuffled
  // Negatives are uniform over non-training items: the mean item id is near (N - 1) / 2.
  double mean = 0;
  for (int64_t n : a.neg) mean += static_cast<double>(n);
  mean /= static_cast<double>(a.size());
  EXPECT_NEAR(mean, (ds.n_items - 1) / 2.0, 0.03 * ds.n_items);
}

// Found by fuzzing: an id near 2^62 overflowed the (user * n_items + item) keys of the duplicate check.
TEST(Tsv, HugeIdsAreRefusedWithFileAndLine) {
  const std::string dir = write_split_dir("tsv_huge", "0\t1\n2\t3444444444444444444\n", "0\t0\n", "0\t0\n");
  try {
    load_tsv(dir);
    FAIL() << "expected an error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/train.tsv:2: id 3444444444444444444 is too large"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(load_tsv(write_split_dir("tsv_max", "0\t1\n", "0\t0\n", "0\t0\n"), 0, int64_t{1} << 40), FormatError);
}

TEST(Tsv, SparseRawIdsAreWarnedAbout) {
  const std::string dir = write_split_dir("tsv_sparse", "0\t1\n7\t2\n50000\t3\n", "0\t2\n", "7\t1\n");
  const Dataset ds = load_tsv(dir);
  ASSERT_EQ(ds.warnings.size(), 1u);
  EXPECT_NE(ds.warnings[0].find("only 3 of 50,001 user ids appear in the train split"), std::string::npos) << ds.warnings[0];
}
