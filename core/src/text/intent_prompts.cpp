#include "text/intent_prompts.hpp"

#include <stdexcept>

namespace recgrid::text {

std::vector<llm::GenerationTask> item_prompts(const llm::PromptTemplate& t, const std::vector<nlohmann::json>& items,
                                              const PromptInputs& in) {
  std::vector<llm::GenerationTask> tasks;
  for (size_t i = 0; i < items.size(); ++i)
    tasks.push_back({"item:" + std::to_string(i), t.render({{"domain", in.domain}, {"item", items[i].dump()}})});
  return tasks;
}

std::vector<llm::GenerationTask> user_prompts(const llm::PromptTemplate& t, const data::Dataset& ds,
                                              const std::vector<nlohmann::json>& items, const PromptInputs& in) {
  std::vector<llm::GenerationTask> tasks;
  const auto per_user = training_items(ds, in.limits.max_items);
  for (size_t u = 0; u < per_user.size(); ++u) {
    // The most recent items first, as many as fit in max_chars.
    std::string list;
    if (u < in.user_texts.size() && !in.user_texts[u].empty())
      list = nlohmann::json{{"about the user", in.user_texts[u]}}.dump();
    for (auto it = per_user[u].rbegin(); it != per_user[u].rend(); ++it) {
      const std::string entry = items[static_cast<size_t>(*it)].dump();
      if (!list.empty() && static_cast<int64_t>(list.size() + entry.size() + 2) > in.limits.max_chars) break;
      list += (list.empty() ? "" : ",\n") + entry;
    }
    tasks.push_back({"user:" + std::to_string(u), t.render({{"domain", in.domain}, {"items", "[\n" + list + "\n]"}})});
  }
  return tasks;
}

std::vector<std::string> answer_texts(const std::string& cache_path, const std::string& kind, const std::string& field,
                                      const std::string& prefix, int64_t n) {
  const llm::AnswerCache cache(cache_path);
  std::vector<std::string> texts(static_cast<size_t>(n));
  std::vector<bool> have(static_cast<size_t>(n), false);
  for (const auto& r : cache.records()) {
    if (r.value("kind", "") != kind || !r.contains("answer")) continue;
    const std::string entity = r.value("entity", "");
    if (entity.rfind(prefix + ":", 0) != 0) continue;
    const int64_t id = std::stoll(entity.substr(prefix.size() + 1));
    if (id < 0 || id >= n) continue;
    texts[static_cast<size_t>(id)] = r["answer"].value(field, "");
    have[static_cast<size_t>(id)] = true;
  }
  int64_t missing = 0, first = -1;
  for (int64_t k = 0; k < n; ++k)
    if (!have[static_cast<size_t>(k)]) {
      ++missing;
      if (first < 0) first = k;
    }
  if (missing)
    throw std::runtime_error(cache_path + ": " + std::to_string(missing) + " of " + std::to_string(n) + " " + prefix +
                             "s have no " + kind + " answer (the first: " + prefix + ":" + std::to_string(first) +
                             "); run `recgrid intents generate` again to finish them");
  return texts;
}

}  // namespace recgrid::text
