#include "llm/embedding_client.hpp"

#include "util/hash.hpp"

namespace recgrid::llm {

std::vector<std::vector<float>> embed_texts(const ServerConfig& server, const std::vector<std::string>& entities,
                                            const std::vector<std::string>& texts, AnswerCache& cache,
                                            const EmbedOptions& options,
                                            const std::function<void(size_t, size_t)>& progress) {
  std::vector<std::vector<float>> rows(texts.size());
  std::vector<size_t> todo;
  std::vector<std::string> keys(texts.size());
  for (size_t k = 0; k < texts.size(); ++k) {
    keys[k] = AnswerCache::key(entities[k], fnv1a64_hex(texts[k]), server.model);
    if (auto hit = cache.find(keys[k])) rows[k] = (*hit)["embedding"].get<std::vector<float>>();
    else todo.push_back(k);
  }
  std::mt19937_64 rng(0x5eed);
  int retries = 0;
  for (size_t start = 0; start < todo.size(); start += static_cast<size_t>(options.batch)) {
    const size_t end = std::min(todo.size(), start + static_cast<size_t>(options.batch));
    nlohmann::json input = nlohmann::json::array();
    for (size_t j = start; j < end; ++j) input.push_back(texts[todo[j]]);
    const nlohmann::json reply =
        post_with_retries(server, "/embeddings", {{"model", server.model}, {"input", input}}, rng, retries);
    const auto& data = reply.at("data");
    if (data.size() != end - start)
      throw LlmError(server.base_url + "/embeddings: asked for " + std::to_string(end - start) + " embeddings, got " +
                     std::to_string(data.size()));
    for (const auto& item : data) {
      const size_t j = start + item.value("index", size_t{0});
      if (j >= end) throw LlmError(server.base_url + "/embeddings: an answer with an index out of range");
      rows[todo[j]] = item.at("embedding").get<std::vector<float>>();
      cache.append(keys[todo[j]], {{"entity", entities[todo[j]]}, {"model", server.model}, {"embedding", rows[todo[j]]}});
    }
    if (progress) progress(texts.size() - todo.size() + end, texts.size());
  }
  return rows;
}

}  // namespace recgrid::llm
