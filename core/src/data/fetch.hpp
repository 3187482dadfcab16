// `recgrid data get`: the paper's datasets fetched from their public source (the authors'
// repository) or a mirror, each file checked against its published SHA-256 before it is put in
// place. A file arrives as a temporary file beside its target and is renamed only once its checksum
// is right: a kill, a dropped connection, an HTTP error or a wrong checksum leaves the target as it
// was (absent, or the previous good file), and a rerun starts that file again.
#pragma once

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace recgrid::data {

// One published file: `dataset/file` and its SHA-256 (64 lowercase hex digits).
struct PublishedFile {
  std::string dataset, file, sha256;
};

// The authors' repository, raw files: <source>/<dataset>/<file>.
inline constexpr const char* kPublishedSource = "https://raw.githubusercontent.com/wangyu0627/IRLLRec/main/data";

// The paper's three datasets (amazon, yelp, movie: trn/val/tst_mat.pkl) with their published checksums.
const std::vector<PublishedFile>& published_files();
// The dataset names of a checksum table, in table order, each once.
std::vector<std::string> dataset_names(const std::vector<PublishedFile>& table);
// A SHA256SUMS-style text ("<64 hex>  <dataset>/<file>" per line); `origin` names it in errors.
std::vector<PublishedFile> parse_checksums(const std::string& text, const std::string& origin);

struct FetchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FetchOptions {
  std::string from = kPublishedSource;   // a URL (http://, https://, file://) or a folder of <dataset>/<file>
  std::string to;                        // the data root: files go to <to>/<dataset>/<file>
  std::vector<PublishedFile> checksums;  // the expected checksums (published_files() unless a test says)
  double timeout_s = 600;                // per file
  const std::atomic<bool>* stop = nullptr;              // set (by a signal handler): abandon the file
  std::function<void(const std::string&)> progress;    // a redrawn status text (terminals), may be empty
  std::function<void(const std::string&)> event;       // one line per file done
};

// Fetches every file of `dataset`. A file already in place with the right checksum is kept; one
// with a wrong checksum is fetched again. Throws FetchError naming the file and the cause (with
// both checksums on a mismatch) at the first file that fails; files done before it stay.
void fetch_dataset(const std::string& dataset, const FetchOptions& o);

}  // namespace recgrid::data
