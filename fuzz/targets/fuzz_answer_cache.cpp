// The LLM answer cache (JSONL, append-only): opening repairs a torn last line and refuses a damaged
// one with its line number; lookups and one append must then work. Seeds: fuzz/seeds/answer_cache.
#include "fuzz_support.hpp"
#include "llm/answer_cache.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recgrid;
  const std::string path = fuzz::write_scratch("answers.jsonl", data, size);
  fuzz::expect_clean([&] {
    llm::AnswerCache cache(path);
    for (const auto& record : cache.records()) cache.find(record.value("key", std::string()));
    cache.append(llm::AnswerCache::key("item:1", "abc", "model"), nlohmann::json{{"answer", "x"}});
    if (!cache.find(llm::AnswerCache::key("item:1", "abc", "model"))) std::abort();
  });
  return 0;
}
