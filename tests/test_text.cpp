// The offline text side: item texts and user documents (training items only), TF-IDF by hand, the
// randomised SVD against an exact one, the encoder on a hand-made corpus, provenance sidecars, and
// `recgrid text build` / `text check` on the scientific dataset.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/npy.hpp"
#include "data/table_tensor.hpp"
#include "test_support.hpp"
#include "text/item_texts.hpp"
#include "text/offline_encoder.hpp"
#include "text/provenance.hpp"
#include "text/randomized_svd.hpp"
#include "text/text_build.hpp"
#include "text/tfidf.hpp"
#include "train/text_inputs.hpp"

namespace fs = std::filesystem;
using namespace recgrid;

namespace {

std::string temp_file(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

std::string run_cli(const std::string& args, int* code) {
  const test::CliResult r = test::run_cli(args);
  *code = r.code;
  return r.output;
}

}  // namespace

TEST(ItemTexts, ReadsByIdAndNamesBadLines) {
  const auto path = temp_file("items.tsv", "item\tasin\ttext\n1\tB\tsecond item\n0\tA\tfirst item\n");
  const auto texts = text::read_item_texts(path, "text", 3);
  EXPECT_EQ(texts[0], "first item");
  EXPECT_EQ(texts[1], "second item");
  EXPECT_EQ(texts[2], "");  // no line: no text
  auto error_of = [](const std::string& content, const std::string& field = "text") {
    try {
      text::read_item_texts(temp_file("bad_items.tsv", content), field, 3);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("item\ttext\n0\tx\n7\ty\n").find("bad_items.tsv:3: item id '7' is not in [0, 3)"), std::string::npos);
  EXPECT_NE(error_of("item\ttext\n0\tx\n0\ty\n").find(":3: item 0 appears twice"), std::string::npos);
  EXPECT_NE(error_of("item\ttext\n0\n").find(":2: expected 2 tab-separated columns"), std::string::npos);
  EXPECT_NE(error_of("item\ttitle\n", "text").find(":1: the header needs the columns 'item' and 'text'"), std::string::npos);
}

TEST(ItemTexts, UserDocumentsUseTrainingItemsOnlyMostRecentFirstCut) {
  // tiny_dataset: user 0 trains on 0, 1 and has 2 (valid), 3 (test); user 2 trains on 1, 2, 3.
  const data::Dataset ds = test::tiny_dataset();
  const std::vector<std::string> items = {"alpha", "beta", "gamma", "delta"};
  const auto docs = text::user_documents(ds, items, {50, 4000});
  EXPECT_EQ(docs[0], "alpha\nbeta");  // no gamma (validation), no delta (test)
  EXPECT_EQ(docs[1], "beta");
  EXPECT_EQ(docs[2], "beta\ngamma\ndelta");
  EXPECT_EQ(text::user_documents(ds, items, {2, 4000})[2], "gamma\ndelta");  // the 2 most recent
  EXPECT_EQ(text::user_documents(ds, items, {50, 11})[2], "beta\ngamma");    // cut at a boundary
}

TEST(Tfidf, WeightsByHand) {
  // df: apple 2, banana 1, cherry 1 (min_df 1); n = 3.
  const std::vector<std::string> docs = {"Apple apple banana", "apple CHERRY", "a !"};
  const text::TfidfModel m(docs, {1, 100});
  EXPECT_EQ(text::tokenize("Apple, b2b! a"), (std::vector<std::string>{"apple", "b2b"}));
  ASSERT_EQ(m.vocabulary_size(), 3);
  const at::Tensor x = m.transform(docs).to_dense();
  const double idf_apple = std::log(4.0 / 3) + 1, idf_rare = std::log(4.0 / 2) + 1;
  // Doc 0: apple tf 2 -> (1 + log 2) idf_apple, banana tf 1 -> idf_rare; then L2-normalised.
  const double a = (1 + std::log(2.0)) * idf_apple, b = idf_rare, n0 = std::sqrt(a * a + b * b);
  const int64_t apple = m.vocabulary().at("apple"), banana = m.vocabulary().at("banana"), cherry = m.vocabulary().at("cherry");
  EXPECT_NEAR(x[0][apple].item<double>(), a / n0, 1e-12);
  EXPECT_NEAR(x[0][banana].item<double>(), b / n0, 1e-12);
  EXPECT_NEAR(x[0][cherry].item<double>(), 0, 0);
  const double n1 = std::sqrt(idf_apple * idf_apple + idf_rare * idf_rare);
  EXPECT_NEAR(x[1][cherry].item<double>(), idf_rare / n1, 1e-12);
  EXPECT_EQ(x[2].abs().sum().item<double>(), 0);  // nothing known: a zero row
  // min_df 2 keeps only apple.
  EXPECT_EQ(text::TfidfModel(docs, {2, 100}).vocabulary_size(), 1);
}

TEST(RandomizedSvd, MatchesTheExactSvdAndIsDeterministic) {
  at::manual_seed(0);
  // A rank-6 matrix plus a little noise: the top 6 singular values and subspace are recovered.
  const at::Tensor a = at::randn({120, 6}, at::kDouble).mm(at::randn({6, 80}, at::kDouble)) + 1e-3 * at::randn({120, 80}, at::kDouble);
  const auto got = text::randomized_svd(a.to_sparse(), 6, 7);
  const auto exact = at::linalg_svdvals(a).narrow(0, 0, 6);
  EXPECT_TRUE(at::allclose(got.singular_values, exact, 1e-6, 1e-8));
  // Same subspace: projecting the exact right vectors onto ours loses nothing.
  const at::Tensor v_exact = std::get<2>(at::linalg_svd(a, false)).narrow(0, 0, 6).t();
  const at::Tensor overlap = got.components.t().mm(v_exact);
  EXPECT_NEAR(overlap.pow(2).sum().item<double>(), 6.0, 1e-6);
  const auto again = text::randomized_svd(a.to_sparse(), 6, 7);
  EXPECT_TRUE(at::equal(got.components, again.components));
  EXPECT_THROW(text::randomized_svd(a, 0, 1), std::invalid_argument);
}

// --user-text: a user with a given text is encoded from it, the others from their training items;
// the sidecar records the file and both counts.
TEST(TextBuild, GivenUserTextsReplaceTrainingItemDocuments) {
  const data::Dataset ds = test::tiny_dataset();  // user 0 trains on items 0, 1; user 1 on 1; user 2 on 1, 2, 3
  const std::string items = temp_file("ub_items.tsv", "item\ttext\n0\tsteel caliper tool\n1\tsteel glue tube\n"
                                                      "2\tglue tape roll\n3\ttape caliper roll\n");
  const std::string users = temp_file("ub_users.tsv", "user\tid\ttext\n1\tbob\tcaliper tape\n");
  text::TextBuildOptions o;
  o.item_text_file = items;
  o.user_text_file = users;
  o.out_dir = ::testing::TempDir() + "/ub_tables";
  o.encoder.dim = 2;
  o.encoder.tfidf.min_df = 1;
  const text::TextBuild built = text::build_text_tables(ds, o);
  EXPECT_EQ(built.given_users, 1);
  const at::Tensor got = data::to_tensor(data::read_table(o.out_dir + "/profile_user.npy"));
  const text::OfflineEncoder enc(text::read_item_texts(items, "text", 4), o.encoder);
  const at::Tensor want = enc.encode({"steel caliper tool\nsteel glue tube", "caliper tape",
                                      "steel glue tube\nglue tape roll\ntape caliper roll"});
  EXPECT_TRUE(at::allclose(got, want, 1e-5, 1e-6)) << got << want;
  std::ifstream sidecar(o.out_dir + "/profile_user.npy.json");
  const auto p = nlohmann::json::parse(sidecar);
  EXPECT_EQ(p["source"]["given_users"], 1);
  EXPECT_EQ(p["source"]["training_item_users"], 2);
  EXPECT_EQ(p["source"]["user_text_file"], fs::absolute(users).lexically_normal().string());
}

TEST(OfflineEncoder, SimilarTextsAreCloserThanUnrelatedOnes) {
  const std::vector<std::string> corpus = {
      "stainless steel digital caliper for precise measurement",
      "digital caliper with lcd screen measurement tool steel",
      "cyanoacrylate super glue adhesive for plastic and rubber",
      "rubber cement adhesive glue tube for shoe repair",
      "nitrile disposable gloves powder free medium size",
      "latex free disposable exam gloves box",
      "lab glass beaker set borosilicate measurement",
      "borosilicate glass flask for lab chemistry",
  };
  text::OfflineEncoderOptions o;
  o.dim = 4;
  o.tfidf.min_df = 1;
  const text::OfflineEncoder enc(corpus, o);
  const at::Tensor e = enc.encode(corpus);
  const at::Tensor u = e / e.norm(2, 1, true);
  const at::Tensor cos = u.mm(u.t());
  // Each text's partner (0-1, 2-3, 4-5, 6-7) is closer than every text of another topic.
  for (int64_t i = 0; i < 8; ++i) {
    const int64_t partner = i ^ 1;
    for (int64_t j = 0; j < 8; ++j) {
      if (j / 2 == i / 2) continue;
      EXPECT_GT(cos[i][partner].item<float>(), cos[i][j].item<float>()) << i << " vs " << j;
    }
  }
  // A new text about gloves lands next to the glove items.
  const at::Tensor q = enc.encode({"box of disposable nitrile gloves"});
  const at::Tensor qs = (q / q.norm(2, 1, true)).mm(u.t()).squeeze(0);
  const int64_t best = qs.argmax().item<int64_t>();
  EXPECT_TRUE(best == 4 || best == 5) << best;
  // Deterministic for a seed.
  EXPECT_TRUE(at::equal(text::OfflineEncoder(corpus, o).encode(corpus), e));
}

TEST(Provenance, TheHostRefusesTablesThatChangedOrDoNotFit) {
  const std::string dir = ::testing::TempDir() + "/provenance";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = dir + "/profile_item.npy";
  data::write_table_npy(path, data::FloatTable{4, 2, {1, 2, 3, 4, 5, 6, 7, 8}});
  text::write_provenance(path, 4, 2, "items", {{"file", "x.tsv"}}, {{"name", "test"}});
  EXPECT_EQ(text::check_provenance(path, 4, 2)["encoder"]["name"], "test");
  EXPECT_TRUE(text::check_provenance(dir + "/no_sidecar.npy", 4, 2).is_null());
  // Through the loader: the right entities load; users refused.
  rg_input_spec items_spec{"profile_item", RG_ROWS_ITEMS, 0, ""}, users_spec{"profile_user", RG_ROWS_USERS, 0, ""};
  train::TableCache cache;
  EXPECT_NO_THROW(train::load_text_inputs("e", &items_spec, 1, {{"profile_item", path}}, 4, 4, at::kCPU, cache, {}));
  train::TableCache cache2;
  try {
    train::load_text_inputs("e", &users_spec, 1, {{"profile_user", path}}, 4, 4, at::kCPU, cache2, {});
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("built for items"), std::string::npos) << e.what();
  }
  // A table rewritten after it was built is refused, naming both checksums.
  data::write_table_npy(path, data::FloatTable{4, 2, {1, 2, 3, 4, 5, 6, 7, 9}});
  try {
    text::check_provenance(path, 4, 2);
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("its bytes changed after it was built"), std::string::npos) << e.what();
  }
}

TEST(TextCli, BuildOnScientificGivesTablesThatRankBetterThanRandom) {
  const std::string out = ::testing::TempDir() + "/scientific_text";
  fs::remove_all(out);
  const std::string data = test::fixture_data() + "/scientific";
  int code = 0;
  std::string log = run_cli("text build --data " + data + " --out " + out + " --dim 64", &code);
  ASSERT_EQ(code, 0) << log;
  for (const char* name : {"profile_user", "profile_item", "intent_user", "intent_item"}) {
    const auto t = data::read_table(out + "/" + name + ".npy");
    EXPECT_EQ(t.rows, std::string(name).find("user") != std::string::npos ? 800 : 1469) << name;  // its README
    EXPECT_EQ(t.cols, 64);
    EXPECT_NO_THROW(text::check_provenance(out + "/" + name + ".npy", t.rows, t.cols));
  }
  // The ranking check, recomputed here: text alone beats random ranking on the test split.
  const data::Dataset ds = data::load_tsv(data);
  auto load = [&](const char* name) { return data::to_tensor(data::read_table(out + "/" + name + ".npy")); };
  const auto c = text::text_only_ranking(ds, ds.test, load("profile_user"), load("profile_item"), 20);
  EXPECT_NEAR(c.random_recall, 20.0 / (1469 - 4430.0 / 800), 2e-3);  // K / candidates, about 0.0137
  EXPECT_GT(c.recall, 3 * c.random_recall) << c.recall;
  log = run_cli("text check --data " + data + " --tables " + out, &code);
  ASSERT_EQ(code, 0) << log;
  EXPECT_NE(log.find("test: text-only cosine ranking Recall@20"), std::string::npos) << log;
}
