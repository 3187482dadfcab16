// An append-only JSONL store of LLM answers (and embeddings), one record per line, keyed by
// (entity, prompt hash, model): a rerun or a killed run asks only what is not in it yet.
//
// A record is appended with one write(2) on an O_APPEND descriptor followed by fsync, so a record is
// either whole on disk or (killed mid-write) a torn last line. Opening the file repairs that: the
// torn tail is cut off (its answer was never recorded, so it is asked again) and every whole line is
// kept. A malformed line elsewhere is an error naming file:line.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace recgrid::llm {

class AnswerCache {
 public:
  explicit AnswerCache(std::string path);
  ~AnswerCache();
  AnswerCache(const AnswerCache&) = delete;
  AnswerCache& operator=(const AnswerCache&) = delete;

  static std::string key(const std::string& entity, const std::string& prompt_hash, const std::string& model);

  std::optional<nlohmann::json> find(const std::string& key) const;
  // Adds record (which gets "key") unless the key is already there; thread-safe.
  void append(const std::string& key, nlohmann::json record);
  size_t size() const;
  // Every record in file order (for readers such as `recgrid embed`).
  std::vector<nlohmann::json> records() const;
  // How many bytes of a torn last line opening the file removed (0 normally).
  size_t repaired_bytes() const { return repaired_; }

 private:
  std::string path_;
  int fd_ = -1;
  mutable std::mutex mutex_;
  std::map<std::string, size_t> index_;  // key -> position in records_
  std::vector<nlohmann::json> records_;
  size_t repaired_ = 0;
};

}  // namespace recgrid::llm
