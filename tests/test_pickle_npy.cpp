// Readers against files written by the real Python libraries (tests/fixtures, values in expected.json).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <numeric>

#include "data/npy.hpp"
#include "data/pickle.hpp"
#include "test_support.hpp"

using namespace recgrid;
using namespace recgrid::data;
using test::fixture;

namespace {

nlohmann::json expected() {
  std::ifstream f(fixture("expected.json"));
  return nlohmann::json::parse(f);
}

void expect_table(const FloatTable& t, const nlohmann::json& rows) {
  ASSERT_EQ(t.rows, static_cast<int64_t>(rows.size()));
  ASSERT_EQ(t.cols, static_cast<int64_t>(rows[0].size()));
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t c = 0; c < t.cols; ++c) EXPECT_EQ(t.values[r * t.cols + c], rows[r][c].get<float>()) << r << "," << c;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Pickle, CooEveryProtocolMatchesScipy) {
  const auto e = expected()["coo_5x4"];
  for (const char* name : {"coo_5x4_p2.pkl", "coo_5x4_p3.pkl", "coo_5x4_p4.pkl", "coo_5x4_p5.pkl"}) {
    SCOPED_TRACE(name);
    const CooMatrix m = read_coo_pickle(fixture(std::string("pickle/") + name));
    EXPECT_EQ(m.rows, 5);
    EXPECT_EQ(m.cols, 4);
    EXPECT_EQ(m.row, e["row"].get<std::vector<int64_t>>());
    EXPECT_EQ(m.col, e["col"].get<std::vector<int64_t>>());
    EXPECT_EQ(m.data, e["data"].get<std::vector<double>>());
  }
}

TEST(Pickle, LargeCooSums) {
  const auto e = expected()["coo_300x200_p4"];
  const CooMatrix m = read_coo_pickle(fixture("pickle/coo_300x200_p4.pkl"));
  EXPECT_EQ(m.rows, 300);
  EXPECT_EQ(m.cols, 200);
  EXPECT_EQ(static_cast<int64_t>(m.row.size()), e["nnz"].get<int64_t>());
  EXPECT_EQ(std::accumulate(m.row.begin(), m.row.end(), int64_t{0}), e["row_sum"].get<int64_t>());
  EXPECT_EQ(std::accumulate(m.col.begin(), m.col.end(), int64_t{0}), e["col_sum"].get<int64_t>());
}

TEST(Pickle, EmptyAndInt64Coo) {
  const CooMatrix empty = read_coo_pickle(fixture("pickle/coo_4x2_empty.pkl"));
  EXPECT_EQ(empty.rows, 4);
  EXPECT_EQ(empty.cols, 2);
  EXPECT_TRUE(empty.row.empty());
  const auto e = expected()["coo_3x3_int64_values"];
  const CooMatrix m = read_coo_pickle(fixture("pickle/coo_3x3_int64_values.pkl"));
  EXPECT_EQ(m.row, e["row"].get<std::vector<int64_t>>());
  EXPECT_EQ(m.col, e["col"].get<std::vector<int64_t>>());
  EXPECT_EQ(m.data, e["data"].get<std::vector<double>>());
}

TEST(Pickle, EmbeddingTables) {
  const auto e = expected();
  expect_table(read_table_pickle(fixture("pickle/emb_3x4_f32.pkl")), e["emb_3x4_f32"]["values"]);
  expect_table(read_table_pickle(fixture("pickle/emb_3x4_f32_p2.pkl")), e["emb_3x4_f32_p2"]["values"]);
  expect_table(read_table_pickle(fixture("pickle/emb_2x3_f64.pkl")), e["emb_2x3_f64"]["values"]);
  // Fortran order: same logical values, different storage.
  expect_table(read_table_pickle(fixture("pickle/emb_2x3_f64_fortran.pkl")), e["emb_2x3_f64"]["values"]);
}

TEST(Pickle, ProfilesDictParsesAsPlainData) {
  const auto want = expected()["profiles_dict"]["value"];
  const PickleValuePtr root = load_pickle(fixture("pickle/profiles_dict.pkl"));
  ASSERT_EQ(root->kind, PickleValue::Kind::Dict);
  ASSERT_EQ(root->items.size(), 2 * want.size());
  for (size_t k = 0; k < root->items.size(); k += 2) {
    const std::string id = std::to_string(root->items[k]->integer);
    const PickleValue& entry = *root->items[k + 1];
    EXPECT_EQ(entry.get("profile")->text, want[id]["profile"].get<std::string>());
    EXPECT_EQ(entry.get("reasoning")->text, want[id]["reasoning"].get<std::string>());
  }
}

// Found by fuzzing: a container put inside itself (memo GET + APPEND) made a shared_ptr cycle that
// was never freed. It is refused now (and its links cut, which the sanitizer build checks).
TEST(Pickle, ASelfContainingListIsRefused) {
  const std::string bytes = std::string("\x80\x02]q\x00h\x00" "a.", 9);  // l = []; l.append(l)
  try {
    parse_pickle(bytes, "self.pkl");
    FAIL() << "expected an error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("self.pkl: a structure that contains itself"), std::string::npos) << e.what();
  }
  // One list held twice by another (shared, no cycle) still parses: outer = [inner, inner].
  const PickleValuePtr ok = parse_pickle(std::string("\x80\x02]]q\x00" "ah\x00" "a.", 11), "ok.pkl");
  ASSERT_EQ(ok->kind, PickleValue::Kind::List);
  ASSERT_EQ(ok->items.size(), 2u);
  EXPECT_EQ(ok->items[0], ok->items[1]);
}

TEST(Pickle, RefusesCodeExecutionNamingFileAndOffset) {
  const std::string path = fixture("pickle/refuse_os_system.pkl");
  const std::string msg = error_of([&] { load_pickle(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte 28"), std::string::npos) << msg;  // the STACK_GLOBAL opcode
  EXPECT_NE(msg.find("posix.system"), std::string::npos) << msg;
  EXPECT_NE(msg.find("refusing"), std::string::npos) << msg;
}

TEST(Pickle, RefusesTruncatedFile) {
  const std::string path = fixture("pickle/refuse_truncated.pkl");
  const std::string msg = error_of([&] { read_coo_pickle(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(Pickle, WrongContentIsNamed) {
  // An embedding file where a matrix is expected, and the reverse.
  EXPECT_NE(error_of([] { read_coo_pickle(fixture("pickle/emb_3x4_f32.pkl")); }).find("expected a pickled scipy.sparse"),
            std::string::npos);
  EXPECT_NE(error_of([] { read_table_pickle(fixture("pickle/coo_5x4_p4.pkl")); }).find("expected a pickled 2-D numpy array"),
            std::string::npos);
  // An opcode outside the supported set (INST 'i').
  const std::string msg = error_of([] { parse_pickle(std::string("\x80\x02i", 3), "mem.pkl"); });
  EXPECT_NE(msg.find("mem.pkl: byte 2: unsupported pickle opcode 0x69"), std::string::npos) << msg;
}

TEST(Npy, ReadsNumpyFiles) {
  const auto e = expected()["npy"];
  expect_table(read_table_npy(fixture("npy/emb_3x4_f32.npy")), e["emb_3x4_f32.npy"]);
  expect_table(read_table_npy(fixture("npy/emb_2x3_f64.npy")), e["emb_2x3_f64.npy"]);
  expect_table(read_table_npy(fixture("npy/emb_2x3_f64_fortran.npy")), e["emb_2x3_f64.npy"]);
  const NdArray ids = read_npy(fixture("npy/ids_5_i64.npy"));
  EXPECT_EQ(ids.shape, std::vector<int64_t>{5});
  EXPECT_EQ(ids.to_int64(), e["ids_5_i64.npy"].get<std::vector<int64_t>>());
}

TEST(Npy, WriteReadRoundTripAndDispatch) {
  FloatTable t{2, 3, {1.5f, -2.f, 3.25f, 0.f, 1e-7f, 42.f}};
  const std::string path = ::testing::TempDir() + "/roundtrip.npy";
  write_table_npy(path, t);
  const FloatTable back = read_table(path);  // dispatches on the magic bytes
  EXPECT_EQ(back.rows, 2);
  EXPECT_EQ(back.cols, 3);
  EXPECT_EQ(back.values, t.values);
  // The header is padded to a multiple of 64 bytes, as numpy writes it.
  std::ifstream f(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ((bytes.size() - 6 * sizeof(float)) % 64, 0u);
  // And a pickle goes through the pickle reader.
  EXPECT_EQ(read_table(fixture("pickle/emb_3x4_f32.pkl")).rows, 3);
}

TEST(Npy, RejectsBadFiles) {
  const std::string path = ::testing::TempDir() + "/bad.npy";
  {
    const std::string header = "{'descr': '<f4'}";  // no fortran_order, no shape
    std::ofstream f(path, std::ios::binary);
    f << std::string("\x93NUMPY\x01\x00", 8) << static_cast<char>(header.size()) << '\0' << header;
  }
  const std::string msg = error_of([&] { read_npy(path); });
  EXPECT_NE(msg.find(path), std::string::npos);
  EXPECT_NE(msg.find("fortran_order"), std::string::npos) << msg;
}
