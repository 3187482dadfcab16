// A client for OpenAI-compatible embedding servers: POST {base_url}/embeddings in batches, with the
// chat client's retries, and the answer cache so a rerun pays only for texts it has not embedded.
#pragma once

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "llm/answer_cache.hpp"
#include "llm/chat_client.hpp"

namespace recgrid::llm {

struct EmbedOptions {
  int batch = 64;  // texts per request
};

// Rows of embeddings for `texts` (entity names are the cache keys' first part); cached vectors are
// reused. `progress(done, total)` is called after each batch.
std::vector<std::vector<float>> embed_texts(const ServerConfig& server, const std::vector<std::string>& entities,
                                            const std::vector<std::string>& texts, AnswerCache& cache,
                                            const EmbedOptions& options,
                                            const std::function<void(size_t, size_t)>& progress = {});

}  // namespace recgrid::llm
