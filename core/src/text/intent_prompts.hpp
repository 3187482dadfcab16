// The prompts of `recgrid intents generate`: one per item from its text fields, one per user from
// the fields of their TRAINING items (capped in items and characters), rendered from the templates
// in configs/prompts/ (item_intent.txt, user_intent.txt: the paper's chain-of-thought prompts of
// Figures 7 and 8; item_profile.txt, user_profile.txt: RLMRec-style profiles).
#pragma once

#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "llm/generation_job.hpp"
#include "llm/prompt_template.hpp"
#include "text/item_texts.hpp"

namespace recgrid::text {

struct PromptInputs {
  std::string domain = "product";  // the noun the templates use: movie, book, business, product
  UserDocumentLimits limits{20, 6000};
  // Given user texts (user_text.tsv; "" = none): a user with one gets it as the first entry of
  // {{items}}, {"about the user": TEXT}, before their training items.
  std::vector<std::string> user_texts;
};

std::vector<llm::GenerationTask> item_prompts(const llm::PromptTemplate& t, const std::vector<nlohmann::json>& items,
                                              const PromptInputs& in);
std::vector<llm::GenerationTask> user_prompts(const llm::PromptTemplate& t, const data::Dataset& ds,
                                              const std::vector<nlohmann::json>& items, const PromptInputs& in);

// The answers of one kind ("item_intent", ...) from an answer cache, as texts for entities
// prefix:0 .. prefix:n-1 (the field `field` of each answer; several answers for one entity: the
// last). Throws naming how many entities have none (and the first of them).
std::vector<std::string> answer_texts(const std::string& cache_path, const std::string& kind, const std::string& field,
                                      const std::string& prefix, int64_t n);

}  // namespace recgrid::text
