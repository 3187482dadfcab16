// Asks the LLM for many entities at once: bounded concurrency (worker threads), the answer cache
// consulted first and filled as answers arrive, a progress line with ETA and token counts, and
// failures collected (an entity that fails is reported, the others go on).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llm/answer_cache.hpp"
#include "llm/chat_client.hpp"

namespace recgrid::llm {

struct GenerationTask {
  std::string entity;  // "item:17", "user:3"
  std::string prompt;
};

struct GenerationOptions {
  std::string kind;                // "item_intent", ... (stored with each answer)
  std::vector<std::string> keys;   // the answer's keys
  int concurrency = 4;
  bool progress_tty = false;       // redraw one line; otherwise a line every ~10 % of the work
};

struct GenerationSummary {
  int64_t cached = 0, asked = 0, retries = 0, reasks = 0;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  std::vector<std::string> failures;  // "entity: reason"
};

GenerationSummary generate(const std::vector<GenerationTask>& tasks, const ChatClient& client, AnswerCache& cache,
                           const GenerationOptions& options);

}  // namespace recgrid::llm
