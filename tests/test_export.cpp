// `recgrid export` / `recgrid recommend`: the top-K lists against a brute-force ranking, blocks of
// users giving the same lists as one block, and the id maps and titles of a dataset folder.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "eval/evaluator.hpp"
#include "export/recommend.hpp"

using namespace recgrid;
namespace fs = std::filesystem;

namespace {

data::Dataset toy_dataset() {
  data::Dataset ds;
  ds.n_users = 5, ds.n_items = 9;
  ds.train = {{0, 0, 1, 2, 4}, {1, 2, 0, 8, 3}};
  ds.valid = {{0, 3}, {4, 7}};
  ds.test = {{0, 1}, {5, 6}};
  return ds;
}

// The k best items of one user by sorting every score, skipping `excluded`.
std::vector<int64_t> brute_force(const at::Tensor& scores, int64_t u, const std::vector<std::pair<int64_t, int64_t>>& excluded, int64_t k) {
  std::vector<int64_t> order(static_cast<size_t>(scores.size(1)));
  std::iota(order.begin(), order.end(), 0);
  const auto row = scores[u];
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a].item<float>() > row[b].item<float>(); });
  std::vector<int64_t> out;
  for (int64_t i : order) {
    if (std::find(excluded.begin(), excluded.end(), std::pair<int64_t, int64_t>{u, i}) != excluded.end()) continue;
    if (static_cast<int64_t>(out.size()) < k) out.push_back(i);
  }
  return out;
}

}  // namespace

TEST(Export, TopKMatchesABruteForceRankingWithoutTheExcludedItems) {
  const data::Dataset ds = toy_dataset();
  at::manual_seed(3);
  const at::Tensor users = at::randn({5, 4}), items = at::randn({9, 4}), scores = users.mm(items.t());
  const std::vector<std::pair<int64_t, int64_t>> train{{0, 1}, {0, 2}, {1, 0}, {2, 8}, {4, 3}};
  std::vector<std::pair<int64_t, int64_t>> all = train;
  all.insert(all.end(), {{0, 4}, {3, 7}, {0, 5}, {1, 6}});  // valid, then test
  for (const auto& [exclude, pairs] : {std::pair{exporting::Exclude::Train, train}, std::pair{exporting::Exclude::All, all}}) {
    const auto seen = exporting::seen_items(ds, exclude);
    const auto block = exporting::top_k_block(users, items, 0, 5, seen, 8);  // 8 of 9: every exclusion shows
    for (int64_t u = 0; u < 5; ++u) {
      EXPECT_EQ(block[u].items, brute_force(scores, u, pairs, 8)) << "user " << u;
      for (size_t r = 0; r < block[u].items.size(); ++r)
        EXPECT_FLOAT_EQ(block[u].scores[r], scores[u][block[u].items[r]].item<float>());
    }
    // Blocks of 2 users: the same lists, in user order.
    std::vector<int64_t> order;
    exporting::top_k_all(users, items, seen, 8, 2, [&](int64_t u, const exporting::Ranked& list) {
      order.push_back(u);
      EXPECT_EQ(list.items, block[u].items) << "user " << u;
    });
    EXPECT_EQ(order, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  }
  // k beyond the candidates: only the items that are not excluded (user 0 has 9 - 2 = 7 under Train).
  EXPECT_EQ(exporting::top_k_block(users, items, 0, 1, exporting::seen_items(ds, exporting::Exclude::Train), 50)[0].items.size(), 7u);
}

TEST(Export, IdNamesComeFromTheMapsAndTheItemText) {
  const fs::path dir = fs::path(::testing::TempDir()) / "export_names";
  fs::create_directories(dir);
  std::ofstream(dir / "user_map.tsv") << "index\toriginal_id\n1\tbob\n0\talice\n";
  std::ofstream(dir / "item_map.tsv") << "index\toriginal_id\n0\tB0\n1\tB1\n";
  std::ofstream(dir / "item_text.tsv") << "item\tid\ttitle\ttext\n1\tB1\tGlue\tGlue. brand: Acme\n";
  auto n = exporting::read_id_names(dir.string(), 2, 2);
  EXPECT_TRUE(n.has_maps);
  EXPECT_EQ(n.users, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(n.items, (std::vector<std::string>{"B0", "B1"}));
  EXPECT_EQ(n.titles, (std::vector<std::string>{"", "Glue"}));
  // No maps: ids are indices. A map missing an index says which.
  n = exporting::read_id_names("", 2, 3);
  EXPECT_EQ(n.items, (std::vector<std::string>{"0", "1", "2"}));
  std::ofstream(dir / "user_map.tsv") << "index\toriginal_id\n1\tbob\n";
  try {
    exporting::read_id_names(dir.string(), 2, 2);
    FAIL() << "a map without index 0 was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("user_map.tsv: index 0 has no original id"), std::string::npos) << e.what();
  }
}

// Ties and NaN: export ranks as evaluation does (ties to the lower index, NaN last; at::topk put NaN
// first and left ties unspecified). Each exported rank r is checked against the evaluator itself: with
// that item as the user's only test item, Recall@K is 1 exactly for K > r. Evaluation masks training
// items with -1e8 where export leaves them out, so the two agree on every item scoring above -1e8:
// for user 1, who has a training item, the NaN item (export's last) is checked by hand only.
TEST(Export, TiesAndNaNRankAsInEvaluation) {
  const float nan = std::nanf("");
  // Items on a line: 0 NaN, 1 2 4 tie at 1, 3 6 tie at 2, 5 at 0.5, 7 at -1 (user 0; user 1 reversed).
  const at::Tensor items = at::tensor({nan, 1.f, 1.f, 2.f, 1.f, 0.5f, 2.f, -1.f}).view({8, 1});
  const at::Tensor users = at::tensor({1.f, -1.f}).view({2, 1});
  data::Dataset ds;
  ds.n_users = 2, ds.n_items = 8;
  ds.train = {{1}, {3}};  // user 1 trained on item 3; user 0 on nothing
  const auto seen = exporting::seen_items(ds, exporting::Exclude::Train);
  const auto lists = exporting::top_k_block(users, items, 0, 2, seen, 8);
  // By hand: the rule's order without the training item.
  EXPECT_EQ(lists[0].items, (std::vector<int64_t>{3, 6, 1, 2, 4, 5, 7, 0}));
  EXPECT_EQ(lists[1].items, (std::vector<int64_t>{7, 5, 1, 2, 4, 6, 0}));
  EXPECT_TRUE(std::isnan(lists[0].scores.back()));
  EXPECT_EQ(exporting::top_k_block(users, items, 0, 2, seen, 3)[0].items, (std::vector<int64_t>{3, 6, 1}));
  const std::vector<int> ks = {1, 2, 3, 4, 5, 6, 7, 8};
  for (size_t u = 0; u < 2; ++u)
    for (size_t r = 0; r < lists[u].items.size(); ++r) {
      if (std::isnan(lists[u].scores[r]) && u == 1) continue;
      data::Dataset one = ds;
      one.test = {{static_cast<int64_t>(u)}, {lists[u].items[r]}};
      const auto m = eval::Evaluator(one, one.test, ks, 1024, /*tile_items=*/3).run([&] { return eval::Embeddings{users, items}; });
      for (int k : ks)
        EXPECT_EQ(m.at("recall@" + std::to_string(k)), k > static_cast<int>(r) ? 1.0 : 0.0)
            << "user " << u << ", exported rank " << r << " (item " << lists[u].items[r] << "), recall@" << k;
    }
}
