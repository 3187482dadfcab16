#include "text/text_build.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>

#include "data/npy.hpp"
#include "data/table_tensor.hpp"
#include "eval/evaluator.hpp"
#include "recgrid/ops.hpp"
#include "text/intent_prompts.hpp"
#include "text/provenance.hpp"
#include "util/files.hpp"

namespace recgrid::text {

namespace fs = std::filesystem;

namespace {

BuiltTable write_table(const std::string& dir, const std::string& name, const at::Tensor& table,
                       const std::string& entities, const nlohmann::json& source, const nlohmann::json& encoder) {
  const std::string path = (fs::path(dir) / (name + ".npy")).string();
  const data::FloatTable ft = data::to_table(table);
  data::write_table_npy(path, ft);
  write_provenance(path, ft.rows, ft.cols, entities, source, encoder);
  return {name, path, ft.rows, ft.cols};
}

}  // namespace

namespace {

// Where the user documents came from, for the sidecar of the users' tables.
nlohmann::json user_documents_source(const TextBuildOptions& o, int64_t given, int64_t n_users) {
  const std::string built = "texts of the user's training items (at most " + std::to_string(o.limits.max_items) +
                            " items, " + std::to_string(o.limits.max_chars) + " characters)";
  nlohmann::json source = {{"file", o.item_text_file}, {"field", o.field}, {"documents", built}};
  if (!o.user_text_file.empty()) {
    source["documents"] = "given user texts where there is one, otherwise " + built;
    source["user_text_file"] = fs::absolute(o.user_text_file).lexically_normal().string();
    source["given_users"] = given;
    source["training_item_users"] = n_users - given;
  }
  return source;
}

}  // namespace

TextBuild build_text_tables(const data::Dataset& ds, const TextBuildOptions& o) {
  fs::create_directories(o.out_dir);
  const std::vector<std::string> items = read_item_texts(o.item_text_file, o.field, ds.n_items);
  std::vector<std::string> given;
  if (!o.user_text_file.empty()) given = read_user_texts(o.user_text_file, o.field, ds.n_users);
  TextBuild result;
  result.given_users = std::count_if(given.begin(), given.end(), [](const std::string& t) { return !t.empty(); });
  const std::vector<std::string> users = user_documents(ds, items, o.limits, given);
  const OfflineEncoder encoder(items, o.encoder);
  const nlohmann::json enc = encoder.describe();
  const nlohmann::json item_source = {{"file", o.item_text_file}, {"field", o.field}, {"documents", "item text"}};
  const nlohmann::json user_source = user_documents_source(o, result.given_users, ds.n_users);
  const at::Tensor item_table = encoder.encode(items), user_table = encoder.encode(users);
  std::vector<BuiltTable>& built = result.tables;
  built.push_back(write_table(o.out_dir, "profile_item", item_table, "items", item_source, enc));
  built.push_back(write_table(o.out_dir, "profile_user", user_table, "users", user_source, enc));
  if (!o.intents_cache.empty()) {
    // LLM intents: their own encoder, fitted on the item intents.
    const auto item_intents = answer_texts(o.intents_cache, "item_intent", "intent", "item", ds.n_items);
    const auto user_intents = answer_texts(o.intents_cache, "user_intent", "intent", "user", ds.n_users);
    const OfflineEncoder intent_encoder(item_intents, o.encoder);
    const nlohmann::json ienc = intent_encoder.describe();
    built.push_back(write_table(o.out_dir, "intent_item", intent_encoder.encode(item_intents), "items",
                                {{"file", o.intents_cache}, {"field", "intent"}, {"documents", "LLM item intents"}}, ienc));
    built.push_back(write_table(o.out_dir, "intent_user", intent_encoder.encode(user_intents), "users",
                                {{"file", o.intents_cache}, {"field", "intent"}, {"documents", "LLM user intents"}}, ienc));
    return result;
  }
  // Without LLM intents the intent tables are the same encodings (the sidecar records the stand-in).
  nlohmann::json stand_in_item = item_source, stand_in_user = user_source;
  stand_in_item["intents"] = stand_in_user["intents"] = "none generated: the raw-text encoding stands in";
  built.push_back(write_table(o.out_dir, "intent_item", item_table, "items", stand_in_item, enc));
  built.push_back(write_table(o.out_dir, "intent_user", user_table, "users", stand_in_user, enc));
  return result;
}

TextOnlyCheck text_only_ranking(const data::Dataset& ds, const data::Interactions& truth, const at::Tensor& user_table,
                                const at::Tensor& item_table, int k) {
  const eval::Evaluator evaluator(ds, truth, {k}, 1024);
  const auto metrics = evaluator.run([&] { return eval::Embeddings{ops::unit_rows(user_table), ops::unit_rows(item_table)}; });
  TextOnlyCheck c;
  c.recall = metrics.at("recall@" + std::to_string(k));
  c.ndcg = metrics.at("ndcg@" + std::to_string(k));
  c.users = evaluator.n_users();
  // Random order: each of a user's candidate items lands in the top K with probability K / candidates.
  const data::UserItemIndex train(ds.train, ds.n_users), target(truth, ds.n_users);
  double sum = 0;
  int64_t n = 0;
  for (int64_t u = 0; u < ds.n_users; ++u) {
    if (target.count(u) == 0) continue;
    const double candidates = static_cast<double>(ds.n_items - train.count(u));
    sum += std::min(1.0, k / candidates);
    ++n;
  }
  c.random_recall = n ? sum / static_cast<double>(n) : 0;
  return c;
}

}  // namespace recgrid::text
