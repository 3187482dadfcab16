// `recgrid text build`: a dataset with raw item text -> every table the enhancers read.
//
//   item documents  = the item text field (item_text.tsv)
//   user documents  = the user's given text (user_text.tsv, --user-text) where there is one, otherwise
//                     the texts of the user's training items (item_texts.hpp; never valid/test)
//   profile_item/profile_user.npy = encodings of those documents
//   intent_item/intent_user.npy   = encodings of LLM intents when an intents cache is given
//                                   (`recgrid intents generate`), otherwise of the same documents
//                                   (a stand-in when no LLM is available; the sidecar says which)
// Each table gets a provenance sidecar (provenance.hpp). The encoder is the offline TF-IDF + SVD
// (offline_encoder.hpp), fitted on the item documents.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "text/item_texts.hpp"
#include "text/offline_encoder.hpp"

namespace recgrid::text {

struct TextBuildOptions {
  std::string item_text_file;  // TSV with header: item, <field>, ...
  std::string field = "text";
  std::string user_text_file;  // optional: TSV with header: user, <field>, ...
  std::string out_dir;
  std::string intents_cache;   // optional: a JSONL answer cache of `recgrid intents generate`
  OfflineEncoderOptions encoder;
  UserDocumentLimits limits;
};

struct BuiltTable {
  std::string name, path;
  int64_t rows = 0, cols = 0;
};

struct TextBuild {
  std::vector<BuiltTable> tables;
  int64_t given_users = 0;  // users whose document is their given text (the others: their training items)
};
TextBuild build_text_tables(const data::Dataset& ds, const TextBuildOptions& options);

// Text-only ranking: scores items for each user by the cosine of their text embeddings, masks the
// user's training items, and returns Recall/NDCG@K on `truth`, beside what random ranking is
// expected to reach (Recall@K of a random order: K / candidates per user, averaged).
struct TextOnlyCheck {
  double recall = 0, ndcg = 0, random_recall = 0;
  int64_t users = 0;
};
TextOnlyCheck text_only_ranking(const data::Dataset& ds, const data::Interactions& truth, const at::Tensor& user_table,
                                const at::Tensor& item_table, int k);

}  // namespace recgrid::text
