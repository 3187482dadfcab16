#include "data/fetch.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include "util/files.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace recgrid::data {

std::vector<std::string> dataset_names(const std::vector<PublishedFile>& table) {
  std::vector<std::string> names;
  for (const PublishedFile& f : table)
    if (std::find(names.begin(), names.end(), f.dataset) == names.end()) names.push_back(f.dataset);
  return names;
}

std::vector<PublishedFile> parse_checksums(const std::string& text, const std::string& origin) {
  std::vector<PublishedFile> table;
  std::istringstream in(text);
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream fields(line);
    std::string hex, path;
    fields >> hex >> path;
    const size_t slash = path.find('/');
    const bool hex_ok = hex.size() == 64 && hex.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex_ok || slash == std::string::npos || slash == 0 || slash + 1 == path.size())
      throw FetchError(origin + ":" + std::to_string(line_no) +
                       ": expected '<64 lowercase hex digits>  <dataset>/<file>', found '" + line + "'");
    table.push_back({path.substr(0, slash), path.substr(slash + 1), hex});
  }
  return table;
}

namespace {

bool is_url(const std::string& from) { return from.find("://") != std::string::npos; }

// "1.8 MiB", "0.4 KiB": sizes in progress lines and messages.
std::string mib(double bytes) {
  char buf[32];
  if (bytes < 1024.0 * 1024.0)
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return buf;
}

// The bytes of one file on their way in: into the temporary file and the hash at once.
struct Incoming {
  AtomicFile file;
  Sha256 hash;
  double bytes = 0;
  std::string write_error;  // an exception cannot cross libcurl's C callbacks
  explicit Incoming(const std::string& target) : file(target) {}
  bool take(const char* data, size_t n) {
    try {
      file.write(data, n);
    } catch (const std::exception& e) {
      write_error = e.what();
      return false;
    }
    hash.update(data, n);
    bytes += static_cast<double>(n);
    return true;
  }
};

struct Transfer {
  Incoming* in;
  const FetchOptions* o;
  std::string name;
};

size_t on_data(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  return t->in->take(data, size * n) ? size * n : 0;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->o->stop && t->o->stop->load()) return 1;  // abandons the transfer
  if (t->o->progress)
    t->o->progress(t->name + "  " + mib(static_cast<double>(now)) +
                   (total > 0 ? " of " + mib(static_cast<double>(total)) : std::string()));
  return 0;
}

// Why a transfer failed, in words a user acts on.
std::string transfer_failure(CURL* curl, CURLcode rc, const char* detail, const Transfer& t) {
  if (!t.in->write_error.empty()) return t.in->write_error;
  if (rc == CURLE_ABORTED_BY_CALLBACK) return "interrupted by a signal; run the command again";
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (rc == CURLE_HTTP_RETURNED_ERROR)
    return "HTTP " + std::to_string(status) + (status == 404 ? " (not found at the source: check --from)" : "");
  std::string cause = *detail ? detail : curl_easy_strerror(rc);
  if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_OPERATION_TIMEDOUT)
    cause += " (the connection dropped after " + mib(t.in->bytes) + "; run the command again)";
  return cause;
}

// libcurl: GET `url` into `in`; an empty string on success, else the cause.
std::string download(const std::string& url, const std::string& name, Incoming& in, const FetchOptions& o) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (!curl) return "libcurl cannot create a handle";
  Transfer t{&in, &o, name};
  char detail[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);  // an HTTP error status is a failure, not a body
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  const CURLcode rc = curl_easy_perform(curl);
  const std::string failure = rc == CURLE_OK ? "" : transfer_failure(curl, rc, detail, t);
  curl_easy_cleanup(curl);
  return failure;
}

// A local mirror: copy `path` into `in`; an empty string on success, else the cause.
std::string copy_local(const std::string& path, Incoming& in, const FetchOptions& o) {
  std::ifstream src(path, std::ios::binary);
  if (!src) return std::string("cannot read ") + path + " (" + std::strerror(errno) + ")";
  std::vector<char> buf(1 << 16);
  while (src.read(buf.data(), static_cast<std::streamsize>(buf.size())) || src.gcount() > 0) {
    if (o.stop && o.stop->load()) return "interrupted by a signal; run the command again";
    if (!in.take(buf.data(), static_cast<size_t>(src.gcount()))) return in.write_error;
  }
  return src.bad() ? "read error in " + path : "";
}

// Temporary files a killed earlier run left (AtomicFile names them <file>.tmp.<pid>).
void remove_leftovers(const fs::path& target) {
  std::error_code ec;
  const std::string prefix = target.filename().string() + ".tmp.";
  for (const auto& e : fs::directory_iterator(target.parent_path(), ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove(e.path(), ec);
}

void fetch_file(const PublishedFile& f, const FetchOptions& o) {
  const std::string name = f.dataset + "/" + f.file;
  const fs::path target = fs::path(o.to) / f.dataset / f.file;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) throw FetchError(name + ": cannot create " + target.parent_path().string() + " (" + ec.message() + ")");
  remove_leftovers(target);
  if (fs::exists(target)) {
    if (sha256_file(target.string()) == f.sha256) {
      if (o.event) o.event(name + ": already in place (sha256 " + f.sha256.substr(0, 12) + "... checked)");
      return;
    }
    if (o.event) o.event(name + ": the file in place has another checksum; fetching it again");
  }
  const std::string source = is_url(o.from) ? o.from + "/" + name : (fs::path(o.from) / f.dataset / f.file).string();
  Incoming in(target.string());
  const std::string failure = is_url(o.from) ? download(source, name, in, o) : copy_local(source, in, o);
  if (!failure.empty()) throw FetchError(name + ": cannot fetch " + source + ": " + failure + "; nothing was written");
  const std::string got = in.hash.hex_digest();
  if (got != f.sha256)
    throw FetchError(name + ": checksum mismatch for " + source + ": expected sha256 " + f.sha256 + ", got " + got +
                     " (a damaged or different file); nothing was written");
  in.file.commit();
  if (o.event) o.event(name + ": " + mib(in.bytes) + ", sha256 " + got.substr(0, 12) + "... ok");
}

}  // namespace

void fetch_dataset(const std::string& dataset, const FetchOptions& o) {
  bool any = false;
  for (const PublishedFile& f : o.checksums)
    if (f.dataset == dataset) fetch_file(f, o), any = true;
  if (!any) {
    std::string known;
    for (const std::string& n : dataset_names(o.checksums)) known += (known.empty() ? "" : ", ") + n;
    throw FetchError("unknown dataset '" + dataset + "': one of " + known);
  }
}

}  // namespace recgrid::data
