// `recgrid data get` and its pieces: SHA-256 against the FIPS 180-4 test vectors, the checksum
// table, the data-root resolution, and the command against a local HTTP server on 127.0.0.1 (a good
// copy, a corrupted file, a connection dropped mid-file, a 404, a signal mid-file) and a local folder.
// The served files are small reader fixtures; tests/fixtures/mirror.sha256 holds their checksums
// (made with coreutils' sha256sum) and replaces the published table through the command's test hook.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "data/data_root.hpp"
#include "data/fetch.hpp"
#include "test_support.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;
using namespace recgrid;

namespace {

std::string sha256_of(const std::string& s) {
  Sha256 h;
  h.update(s);
  return h.hex_digest();
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The three files of the test dataset "tiny", as a mirror serves them.
std::map<std::string, std::string> tiny_files() {
  return {{"trn_mat.pkl", slurp(test::fixture("pickle/coo_5x4_p4.pkl"))},
          {"val_mat.pkl", slurp(test::fixture("pickle/coo_5x4_p3.pkl"))},
          {"tst_mat.pkl", slurp(test::fixture("pickle/coo_5x4_p5.pkl"))}};
}

// A mirror on 127.0.0.1 serving /data/tiny/<file>; `damage` changes how one file is served.
class Mirror {
 public:
  enum class Damage { kNone, kCorrupt, kDropMidFile, kMissing, kStallMidFile };
  Mirror(Damage damage, std::string damaged_file) : damage_(damage), damaged_(std::move(damaged_file)) {
    server_.Get(R"(/data/tiny/(\w+\.pkl))", [this](const httplib::Request& req, httplib::Response& res) {
      serve(req.matches[1], res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Mirror() {
    release_ = true;
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/data"; }
  std::atomic<bool> stalled{false};

 private:
  void serve(const std::string& name, httplib::Response& res) {
    auto files = tiny_files();
    if (!files.count(name) || (damage_ == Damage::kMissing && name == damaged_)) {
      res.status = 404;
      return;
    }
    std::string body = files[name];
    if (name != damaged_ || damage_ == Damage::kNone) return res.set_content(body, "application/octet-stream");
    if (damage_ == Damage::kCorrupt) {
      body[body.size() / 2] ^= 0x20;  // one flipped bit
      return res.set_content(body, "application/octet-stream");
    }
    // Half the bytes of a response that announced all of them; then the connection closes (drop)
    // or hangs until the test ends (stall).
    res.set_content_provider(body.size(), "application/octet-stream",
                             [this, body](size_t offset, size_t, httplib::DataSink& sink) {
                               if (offset == 0) return sink.write(body.data(), body.size() / 2);
                               if (damage_ == Damage::kDropMidFile) return false;
                               stalled = true;
                               while (!release_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
                               return false;
                             });
  }
  Damage damage_;
  std::string damaged_;
  std::atomic<bool> release_{false};
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

std::string fresh_dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/fetch_" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

const std::string kHook = "RECGRID_TEST_DATA_CHECKSUMS=" + test::fixture("mirror.sha256");

test::CliResult get_tiny(const std::string& from, const std::string& to) {
  return test::run_cli("data get tiny --from " + from + " --to " + to, kHook);
}

// Nothing of `name` in `dir`: neither the file nor a temporary file of it.
void expect_nothing_of(const std::string& dir, const std::string& name) {
  EXPECT_FALSE(fs::exists(dir + "/tiny/" + name));
  if (fs::exists(dir + "/tiny"))
    for (const auto& e : fs::directory_iterator(dir + "/tiny"))
      EXPECT_EQ(e.path().filename().string().find(name + ".tmp"), std::string::npos) << e.path();
}

}  // namespace

// FIPS 180-4 / NIST CAVP examples: "abc", the empty message, the 448-bit two-block message, and a
// million 'a's fed in uneven pieces (the buffering across blocks).
TEST(Sha256, FipsTestVectors) {
  EXPECT_EQ(sha256_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 h;
  const std::string a(1000000, 'a');
  for (size_t at = 0, step = 1; at < a.size(); at += step, step = step * 7 % 1000 + 1)
    h.update(a.data() + at, std::min(step, a.size() - at));
  EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, FileDigestEqualsCoreutils) {
  EXPECT_EQ(sha256_file(test::fixture("pickle/coo_5x4_p4.pkl")),
            "b8a64d0e4a0492bf946822dc909d88d6acdddd0115e8596c092a78f085687a42");  // sha256sum
}

TEST(DataGet, ThePublishedTableNamesTheThreeDatasetsAndTheirNineFiles) {
  const auto& t = data::published_files();
  EXPECT_EQ(data::dataset_names(t), (std::vector<std::string>{"amazon", "yelp", "movie"}));
  ASSERT_EQ(t.size(), 9u);
  EXPECT_EQ(t[0].file, "trn_mat.pkl");
  EXPECT_EQ(t[0].sha256, "535cc15f915858a64249e3a893cceac9efe8e6f1ce17c08879a3c099c510b309");
}

TEST(DataGet, AChecksumLineThatIsNotHexAndPathIsRefusedWithItsLine) {
  try {
    data::parse_checksums("b8a64d0e4a0492bf946822dc909d88d6acdddd0115e8596c092a78f085687a42  tiny/a.pkl\nxyz  b\n", "S");
    FAIL() << "no error";
  } catch (const data::FetchError& e) {
    EXPECT_NE(std::string(e.what()).find("S:2: expected '<64 lowercase hex digits>  <dataset>/<file>'"),
              std::string::npos) << e.what();
  }
}

TEST(DataGet, AGoodCopyArrivesWithItsChecksumsAndARerunKeepsIt) {
  Mirror mirror(Mirror::Damage::kNone, "");
  const std::string to = fresh_dir("good");
  test::CliResult r = get_tiny(mirror.url(), to);
  ASSERT_EQ(r.code, 0) << r.output;
  for (const auto& [name, bytes] : tiny_files()) EXPECT_EQ(slurp(to + "/tiny/" + name), bytes) << name;
  EXPECT_EQ(std::distance(fs::directory_iterator(to + "/tiny"), fs::directory_iterator()), 3);
  EXPECT_NE(r.output.find("dataset config: configs/datasets/tiny.yaml"), std::string::npos) << r.output;
  r = get_tiny(mirror.url() + "/", to);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("tiny/trn_mat.pkl: already in place"), std::string::npos) << r.output;
}

TEST(DataGet, ACorruptedFileIsRefusedWithBothChecksumsAndNothingIsLeft) {
  Mirror mirror(Mirror::Damage::kCorrupt, "val_mat.pkl");
  const std::string to = fresh_dir("corrupt");
  const test::CliResult r = get_tiny(mirror.url(), to);
  EXPECT_EQ(r.code, 1) << r.output;
  std::string bad = tiny_files()["val_mat.pkl"];
  bad[bad.size() / 2] ^= 0x20;
  EXPECT_NE(r.output.find("tiny/val_mat.pkl: checksum mismatch"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("expected sha256 9fe0e5cc53f1934ea2b0c3e3cce0ec950ff3fb510963166f14bc86d1b4fe3609"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("got " + sha256_of(bad)), std::string::npos) << r.output;
  expect_nothing_of(to, "val_mat.pkl");
  EXPECT_EQ(slurp(to + "/tiny/trn_mat.pkl"), tiny_files()["trn_mat.pkl"]);  // the file before it stays
}

TEST(DataGet, AConnectionDroppedMidFileLeavesNothingAndARerunCompletes) {
  const std::string to = fresh_dir("drop");
  {
    Mirror mirror(Mirror::Damage::kDropMidFile, "trn_mat.pkl");
    const test::CliResult r = get_tiny(mirror.url(), to);
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_NE(r.output.find("tiny/trn_mat.pkl: cannot fetch " + mirror.url() + "/tiny/trn_mat.pkl"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("the connection dropped"), std::string::npos) << r.output;
    expect_nothing_of(to, "trn_mat.pkl");
  }
  Mirror good(Mirror::Damage::kNone, "");
  const test::CliResult r = get_tiny(good.url(), to);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(slurp(to + "/tiny/trn_mat.pkl"), tiny_files()["trn_mat.pkl"]);
}

TEST(DataGet, ANotFoundFileIsNamedWithItsHttpStatus) {
  Mirror mirror(Mirror::Damage::kMissing, "tst_mat.pkl");
  const std::string to = fresh_dir("missing");
  const test::CliResult r = get_tiny(mirror.url(), to);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("tiny/tst_mat.pkl: cannot fetch"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("HTTP 404 (not found at the source: check --from)"), std::string::npos) << r.output;
  expect_nothing_of(to, "tst_mat.pkl");
}

// SIGTERM while a file streams in: the command stops with status 4 and leaves no part of the file.
TEST(DataGet, ASignalMidFileLeavesNothingHalfWritten) {
  Mirror mirror(Mirror::Damage::kStallMidFile, "trn_mat.pkl");
  const std::string to = fresh_dir("signal");
  for (const char* ext : {".go", ".rc", ".out"}) fs::remove(to + ext);  // a previous run's
  const std::string script = kHook + " " + test::binary_dir() + "/bin/recgrid data get tiny --from " + mirror.url() +
                             " --to " + to + " > " + to + ".out 2>&1 & pid=$!; while [ ! -e " + to +
                             ".go ]; do sleep 0.05; done; kill -TERM $pid; wait $pid; echo $? > " + to + ".rc";
  std::thread shell([&] { std::system(("bash -c '" + script + "'").c_str()); });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!mirror.stalled && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::ofstream(to + ".go") << "";  // the signal goes now, or at the deadline (then the checks below fail)
  shell.join();
  EXPECT_TRUE(mirror.stalled) << "the transfer never reached the middle of the file";
  EXPECT_EQ(slurp(to + ".rc"), "4\n") << slurp(to + ".out");
  EXPECT_NE(slurp(to + ".out").find("interrupted by a signal"), std::string::npos) << slurp(to + ".out");
  expect_nothing_of(to, "trn_mat.pkl");
}

// --from a folder; a damaged file in place and a temporary file a killed run left are both replaced.
TEST(DataGet, FromAFolderRepairsADamagedFileAndRemovesLeftovers) {
  const std::string from = fresh_dir("folder_src");
  fs::create_directories(from + "/tiny");
  for (const auto& [name, bytes] : tiny_files()) std::ofstream(from + "/tiny/" + name, std::ios::binary) << bytes;
  const std::string to = fresh_dir("folder_dst");
  fs::create_directories(to + "/tiny");
  std::ofstream(to + "/tiny/val_mat.pkl") << "damaged";
  std::ofstream(to + "/tiny/trn_mat.pkl.tmp.99999") << "half";
  const test::CliResult r = get_tiny(from, to);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("tiny/val_mat.pkl: the file in place has another checksum"), std::string::npos) << r.output;
  for (const auto& [name, bytes] : tiny_files()) EXPECT_EQ(slurp(to + "/tiny/" + name), bytes) << name;
  EXPECT_FALSE(fs::exists(to + "/tiny/trn_mat.pkl.tmp.99999"));
  const std::string unknown = test::run_cli("data get nosuch --to " + to, kHook).output;
  EXPECT_NE(unknown.find("unknown dataset 'nosuch': one of tiny"), std::string::npos) << unknown;
}

// dataset.root left at its default: $RECGRID_DATA_ROOT, else ../shared/data where it exists, else the
// user's data folder ($XDG_DATA_HOME/recgrid/data, else ~/.local/share/recgrid/data).
TEST(DataRoot, TheDefaultResolvesToTheEnvironmentThenTheUsersDataFolder) {
  const std::string cwd = fs::current_path().string();
  const std::string empty = fresh_dir("root_cwd");
  fs::current_path(empty);  // no ../shared/data from here
  const char* old_root = std::getenv("RECGRID_DATA_ROOT");
  const std::string saved = old_root ? old_root : "";
  ::unsetenv("RECGRID_DATA_ROOT");
  ::setenv("XDG_DATA_HOME", "/xdg", 1);
  EXPECT_EQ(data::resolve_data_root(data::kDefaultDataRoot), "/xdg/recgrid/data");
  ::setenv("XDG_DATA_HOME", "relative", 1);  // invalid by the XDG rule: ignored
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(data::resolve_data_root(data::kDefaultDataRoot), "/home/u/.local/share/recgrid/data");
  ::setenv("RECGRID_DATA_ROOT", "/mirror", 1);
  EXPECT_EQ(data::resolve_data_root(data::kDefaultDataRoot), "/mirror");
  EXPECT_EQ(data::resolve_data_root("/set/in/the/config"), "/set/in/the/config");
  ::unsetenv("RECGRID_DATA_ROOT");
  fs::create_directories(empty + "/a/../shared/data");
  fs::create_directories(empty + "/a");
  fs::current_path(empty + "/a");
  EXPECT_EQ(data::resolve_data_root(data::kDefaultDataRoot), data::kDefaultDataRoot);
  fs::current_path(cwd);
  if (!saved.empty()) ::setenv("RECGRID_DATA_ROOT", saved.c_str(), 1);
}
