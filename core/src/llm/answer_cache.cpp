#include "llm/answer_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "util/files.hpp"

namespace recgrid::llm {

AnswerCache::AnswerCache(std::string path) : path_(std::move(path)) {
  if (const auto parent = std::filesystem::path(path_).parent_path(); !parent.empty())
    std::filesystem::create_directories(parent);
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(path_ + ": cannot open the answer cache: " + std::strerror(errno));
  const std::string text = read_text(path_);
  const size_t whole = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  if (whole < text.size()) {  // a torn last line: drop it
    repaired_ = text.size() - whole;
    if (::ftruncate(fd_, static_cast<off_t>(whole)) != 0) throw std::runtime_error(path_ + ": cannot repair its last line");
  }
  size_t start = 0;
  for (int line_no = 1; start < whole; ++line_no) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(path_ + ":" + std::to_string(line_no) + ": not a JSON record (" + e.what() + ")");
    }
    const std::string key = record.value("key", "");
    if (key.empty()) throw std::runtime_error(path_ + ":" + std::to_string(line_no) + ": a record without \"key\"");
    if (index_.emplace(key, records_.size()).second) records_.push_back(std::move(record));
  }
}

AnswerCache::~AnswerCache() {
  if (fd_ >= 0) ::close(fd_);
}

std::string AnswerCache::key(const std::string& entity, const std::string& prompt_hash, const std::string& model) {
  return entity + "|" + prompt_hash + "|" + model;
}

std::optional<nlohmann::json> AnswerCache::find(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return records_[it->second];
}

void AnswerCache::append(const std::string& key, nlohmann::json record) {
  record["key"] = key;
  const std::string line = record.dump() + "\n";
  std::lock_guard<std::mutex> lock(mutex_);
  if (index_.count(key)) return;
  append_line_whole(fd_, path_, line);  // a failed append leaves the cache as it was
  index_.emplace(key, records_.size());
  records_.push_back(std::move(record));
}

size_t AnswerCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_.size();
}

std::vector<nlohmann::json> AnswerCache::records() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_;
}

}  // namespace recgrid::llm
