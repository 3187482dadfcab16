#include "text_commands.hpp"

#include <ATen/ATen.h>
#include <boost/program_options.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "command_line.hpp"
#include "data/dataset.hpp"
#include "data/import.hpp"
#include "data/npy.hpp"
#include "data/table_tensor.hpp"
#include "llm/embedding_client.hpp"
#include "llm/generation_job.hpp"
#include "llm/prompt_template.hpp"
#include "text/intent_prompts.hpp"
#include "text/provenance.hpp"
#include "text/text_build.hpp"
#include "train/progress.hpp"
#include "util/files.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace recgrid {

namespace {

// The TSV dataset of a text command: splits + item text in one folder.
data::Dataset load_text_dataset(const std::string& dir) {
  data::Dataset ds = data::load_tsv(dir);
  data::check_dataset(ds);
  return ds;
}

// Given user texts, with a line saying how many users have one.
std::vector<std::string> given_user_texts(const std::string& path, const std::string& field, int64_t n_users) {
  auto texts = text::read_user_texts(path, field, n_users);
  const auto given = std::count_if(texts.begin(), texts.end(), [](const std::string& t) { return !t.empty(); });
  std::cout << path << ": " << given << " of " << n_users << " users have a given text\n";
  return texts;
}

// The users whose profile_user row came from a given text (its sidecar names the file), or none.
std::vector<bool> users_with_given_text(const std::string& tables, int64_t n_users) {
  const std::string sidecar = tables + "/profile_user.npy.json";
  if (!fs::exists(sidecar)) return {};
  const auto p = nlohmann::json::parse(read_text(sidecar), nullptr, false);
  if (p.is_discarded() || !p.contains("source") || !p["source"].contains("user_text_file")) return {};
  const auto& src = p["source"];
  const auto texts = text::read_user_texts(src["user_text_file"].get<std::string>(), src.value("field", "text"), n_users);
  std::vector<bool> given(static_cast<size_t>(n_users));
  for (size_t u = 0; u < given.size(); ++u) given[u] = !texts[u].empty();
  return given;
}

// The interactions of the users in (or out of) a group.
data::Interactions of_users(const data::Interactions& all, const std::vector<bool>& group, bool in_group) {
  data::Interactions out;
  for (size_t k = 0; k < all.size(); ++k)
    if (group[static_cast<size_t>(all.user[k])] == in_group) out.user.push_back(all.user[k]), out.item.push_back(all.item[k]);
  return out;
}

void print_check(const char* split, const char* who, const text::TextOnlyCheck& c, int k) {
  std::printf("%s%s: text-only cosine ranking Recall@%d %.4f NDCG@%d %.4f over %lld users; random ranking Recall@%d %.4f (x%.1f)\n",
              split, who, k, c.recall, k, c.ndcg, static_cast<long long>(c.users), k, c.random_recall,
              c.random_recall > 0 ? c.recall / c.random_recall : 0.0);
}

int cmd_text_check(const std::vector<std::string>& args) {
  std::string data_dir, tables;
  int k = 20;
  po::options_description desc("recgrid text check --data DIR --tables DIR [options]");
  desc.add_options()("help,h", "show this help")("data", po::value<std::string>(&data_dir)->required(), "dataset folder")(
      "tables", po::value<std::string>(&tables)->required(), "folder with profile_user.npy and profile_item.npy")(
      "k", po::value<int>(&k)->default_value(20), "cut-off K");
  const auto parsed = parse_command(args, desc);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  const data::Dataset ds = load_text_dataset(data_dir);
  const at::Tensor users = data::to_tensor(data::read_table(tables + "/profile_user.npy"));
  const at::Tensor items = data::to_tensor(data::read_table(tables + "/profile_item.npy"));
  // Users with a given text and users with training-item documents are reported apart as well.
  const std::vector<bool> given = users_with_given_text(tables, ds.n_users);
  for (const auto& [split, truth] : {std::pair<const char*, const data::Interactions*>{"valid", &ds.valid}, {"test", &ds.test}}) {
    print_check(split, "", text::text_only_ranking(ds, *truth, users, items, k), k);
    if (given.empty()) continue;
    for (const bool in_group : {true, false}) {
      const data::Interactions part = of_users(*truth, given, in_group);
      if (part.size() == 0) continue;
      print_check(split, in_group ? " (users with a given text)" : " (users with training-item documents)",
                  text::text_only_ranking(ds, part, users, items, k), k);
    }
  }
  return 0;
}


// Server settings from options, with environment fallbacks (RECGRID_LLM_BASE_URL, RECGRID_LLM_MODEL
// and the key in the variable --api-key-env names).
struct ServerArgs {
  std::string base_url, model, key_env = "OPENAI_API_KEY";
  double timeout = 120;
  int attempts = 6;
  void add_to(po::options_description& desc, const char* what) {
    desc.add_options()("base-url", po::value<std::string>(&base_url), (std::string(what) + " server, e.g. http://127.0.0.1:8000/v1 (env RECGRID_LLM_BASE_URL)").c_str())(
        "model", po::value<std::string>(&model), "model name (env RECGRID_LLM_MODEL)")(
        "api-key-env", po::value<std::string>(&key_env)->default_value(key_env), "environment variable holding the API key")(
        "timeout", po::value<double>(&timeout)->default_value(timeout), "seconds per request")(
        "max-attempts", po::value<int>(&attempts)->default_value(attempts), "attempts per request (429, 5xx, timeouts are retried)");
  }
  llm::ServerConfig config(const char* model_env) const {
    llm::ServerConfig s;
    s.base_url = base_url.empty() && std::getenv("RECGRID_LLM_BASE_URL") ? std::getenv("RECGRID_LLM_BASE_URL") : base_url;
    s.model = model.empty() && std::getenv(model_env) ? std::getenv(model_env) : model;
    if (s.base_url.empty()) throw std::invalid_argument("no server: pass --base-url or set RECGRID_LLM_BASE_URL");
    if (s.model.empty()) throw std::invalid_argument(std::string("no model: pass --model or set ") + model_env);
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    if (const char* key = std::getenv(key_env.c_str())) s.api_key = key;
    s.timeout_s = timeout;
    s.retry.max_attempts = attempts;
    return s;
  }
};

// Asks the LLM for every kind in `what` (item_intent, user_intent, item_profile, user_profile),
// the first `limit` entities of each (0 = all); returns how many prompts failed.
size_t generate_answers(const data::Dataset& ds, const std::vector<nlohmann::json>& items, const std::vector<std::string>& what,
                        const std::string& prompts, const text::PromptInputs& in, const llm::ChatClient& client,
                        llm::AnswerCache& cache, llm::GenerationOptions go, int64_t limit) {
  size_t failed = 0;
  for (const std::string& kind : what) {
    if (kind != "item_intent" && kind != "user_intent" && kind != "item_profile" && kind != "user_profile")
      throw std::invalid_argument("--what " + kind + ": expected item_intent, user_intent, item_profile or user_profile");
    const llm::PromptTemplate t = llm::PromptTemplate::load(prompts + "/" + kind + ".txt");
    std::vector<llm::GenerationTask> tasks =
        kind.rfind("item", 0) == 0 ? text::item_prompts(t, items, in) : text::user_prompts(t, ds, items, in);
    if (limit > 0 && static_cast<int64_t>(tasks.size()) > limit) tasks.resize(static_cast<size_t>(limit));
    go.kind = kind;
    go.keys = t.answer_keys();
    const llm::GenerationSummary summary = llm::generate(tasks, client, cache, go);
    for (const std::string& f : summary.failures) std::cerr << "  failed " << f << "\n";
    failed += summary.failures.size();
  }
  return failed;
}

int cmd_intents_generate(const std::vector<std::string>& args) {
  std::string data_dir, item_text, user_text, prompts = "configs/prompts", cache_path;
  std::vector<std::string> what;
  text::PromptInputs in;
  llm::GenerationOptions go;
  llm::ChatOptions co;
  ServerArgs server;
  int64_t limit = 0;
  po::options_description desc("recgrid intents generate --data DIR --base-url URL --model M [options]");
  desc.add_options()("help,h", "show this help")("data", po::value<std::string>(&data_dir)->required(), "dataset folder (TSV splits + item text)")(
      "item-text", po::value<std::string>(&item_text), "item text TSV (default DIR/item_text.tsv)")(
      "user-text", po::value<std::string>(&user_text), "given user texts (TSV: user, text): a user prompt gets its user's first")(
      "what", po::value<std::vector<std::string>>(&what)->composing(),
      "item_intent, user_intent, item_profile, user_profile (repeatable; default item_intent and user_intent)")(
      "prompts", po::value<std::string>(&prompts)->default_value("configs/prompts"), "folder of the <what>.txt templates")(
      "domain", po::value<std::string>(&in.domain)->default_value(in.domain), "the templates' {{domain}} noun")(
      "cache", po::value<std::string>(&cache_path), "answer cache, JSONL (default data/text/<dataset>/answers.jsonl)")(
      "concurrency", po::value<int>(&go.concurrency)->default_value(go.concurrency), "requests at once")(
      "reasks", po::value<int>(&co.reasks)->default_value(2), "extra turns when an answer is not the JSON asked for")(
      "temperature", po::value<double>(&co.temperature)->default_value(0), "sampling temperature")(
      "no-json-mode", "do not send response_format json_object (servers that reject it)")(
      "max-items", po::value<int64_t>(&in.limits.max_items)->default_value(20), "training items in a user prompt")(
      "max-chars", po::value<int64_t>(&in.limits.max_chars)->default_value(6000), "characters of items in a user prompt")(
      "limit", po::value<int64_t>(&limit)->default_value(0), "only the first N entities of each kind (0 = all)");
  server.add_to(desc, "chat-completion");
  const auto parsed = parse_command(args, desc);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  co.json_mode = !vm.count("no-json-mode");
  if (what.empty()) what = {"item_intent", "user_intent"};
  if (item_text.empty()) item_text = (fs::path(data_dir) / "item_text.tsv").string();
  if (cache_path.empty()) cache_path = "data/text/" + fs::path(data_dir).lexically_normal().filename().string() + "/answers.jsonl";
  const data::Dataset ds = load_text_dataset(data_dir);
  const auto items = text::read_item_records(item_text, ds.n_items);
  if (!user_text.empty()) in.user_texts = given_user_texts(user_text, "text", ds.n_users);
  const llm::ChatClient client(server.config("RECGRID_LLM_MODEL"), co);
  llm::AnswerCache cache(cache_path);
  if (cache.repaired_bytes())
    std::cerr << cache_path << ": removed a torn last line (" << cache.repaired_bytes() << " bytes) left by a killed run\n";
  go.progress_tty = train::stderr_is_tty();
  const size_t failed = generate_answers(ds, items, what, prompts, in, client, cache, go, limit);
  std::cout << cache_path << ": " << cache.size() << " answers" << (failed ? ", " + std::to_string(failed) + " prompts failed (run again to retry them)" : "") << "\n";
  return failed ? 1 : 0;
}

// A text table and how it was encoded (its provenance's "encoder").
struct EncodedTable {
  at::Tensor table;
  nlohmann::json described;
};

EncodedTable encode_offline(const std::vector<std::string>& texts, const text::OfflineEncoderOptions& eo) {
  const text::OfflineEncoder enc(texts, eo);
  EncodedTable e{enc.encode(texts), enc.describe()};
  e.described["fitted_on"] = "these texts";
  return e;
}

// Row k is the embedding of texts[k], asked of an embeddings API in batches and cached by entity.
EncodedTable encode_with_server(const llm::ServerConfig& s, const std::vector<std::string>& texts,
                                const std::string& prefix, const std::string& cache_path, int batch) {
  llm::AnswerCache cache(cache_path);
  const auto n = static_cast<int64_t>(texts.size());
  std::vector<std::string> entities;
  for (int64_t k = 0; k < n; ++k) entities.push_back(prefix + ":" + std::to_string(k));
  const auto rows = llm::embed_texts(s, entities, texts, cache, {batch}, [](size_t done, size_t total) {
    std::cerr << "\rembedded " << done << "/" << total << std::flush;
  });
  std::cerr << "\n";
  const int64_t d = static_cast<int64_t>(rows.front().size());
  at::Tensor table = at::empty({n, d}, at::kFloat);
  for (int64_t k = 0; k < n; ++k) {
    if (static_cast<int64_t>(rows[static_cast<size_t>(k)].size()) != d)
      throw std::runtime_error("the server returned embeddings of different widths");
    std::copy(rows[static_cast<size_t>(k)].begin(), rows[static_cast<size_t>(k)].end(), table[k].data_ptr<float>());
  }
  return {table, {{"name", "server"}, {"base_url", s.base_url}, {"model", s.model}}};
}

int cmd_embed_answers(const std::vector<std::string>& args) {
  std::string data_dir, answers, kind, field, out, encoder = "offline", embed_cache;
  text::OfflineEncoderOptions eo;
  ServerArgs server;
  int batch = 64;
  po::options_description desc("recgrid embed --data DIR --answers FILE --what KIND --out FILE.npy [options]");
  desc.add_options()("help,h", "show this help")("data", po::value<std::string>(&data_dir)->required(), "dataset folder (for the user and item counts)")(
      "answers", po::value<std::string>(&answers)->required(), "answer cache of `recgrid intents generate`")(
      "what", po::value<std::string>(&kind)->required(), "item_intent, user_intent, item_profile or user_profile")(
      "field", po::value<std::string>(&field), "the answer's text key (default: intent, or summarization for profiles)")(
      "out", po::value<std::string>(&out)->required(), "the table to write (.npy, plus a provenance sidecar)")(
      "encoder", po::value<std::string>(&encoder)->default_value("offline"), "offline (TF-IDF + SVD) or server (an embeddings API)")(
      "dim", po::value<int64_t>(&eo.dim)->default_value(eo.dim), "offline: width")(
      "min-df", po::value<int64_t>(&eo.tfidf.min_df)->default_value(eo.tfidf.min_df), "offline: keep tokens in at least this many texts")(
      "seed", po::value<uint64_t>(&eo.seed)->default_value(eo.seed), "offline: SVD seed")(
      "batch", po::value<int>(&batch)->default_value(64), "server: texts per request")(
      "embed-cache", po::value<std::string>(&embed_cache), "server: embedding cache (default OUT.cache.jsonl)");
  server.add_to(desc, "embeddings");
  const auto parsed = parse_command(args, desc);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  const bool items = kind.rfind("item", 0) == 0;
  if (field.empty()) field = kind.find("profile") != std::string::npos ? "summarization" : "intent";
  const data::Dataset ds = load_text_dataset(data_dir);
  const int64_t n = items ? ds.n_items : ds.n_users;
  const std::string prefix = items ? "item" : "user";
  const std::vector<std::string> texts = text::answer_texts(answers, kind, field, prefix, n);
  EncodedTable encoded;
  if (encoder == "offline") encoded = encode_offline(texts, eo);
  else if (encoder == "server")
    encoded = encode_with_server(server.config("RECGRID_EMBED_MODEL"), texts, prefix,
                                 embed_cache.empty() ? out + ".cache.jsonl" : embed_cache, batch);
  else throw std::invalid_argument("--encoder must be offline or server");
  const at::Tensor& table = encoded.table;
  const nlohmann::json& described = encoded.described;
  const data::FloatTable ft = data::to_table(table);
  if (const auto parent = fs::path(out).parent_path(); !parent.empty()) fs::create_directories(parent);
  data::write_table_npy(out, ft);
  text::write_provenance(out, ft.rows, ft.cols, items ? "items" : "users",
                         {{"file", answers}, {"kind", kind}, {"field", field}}, described);
  std::cout << out << ": " << ft.rows << " x " << ft.cols << " (provenance in " << out << ".json)\n";
  return 0;
}

constexpr const char* kTextTables =
    "text: {profile_user: profile_user.npy, profile_item: profile_item.npy, intent_user: intent_user.npy, "
    "intent_item: intent_item.npy}";

// Adds (or replaces) dataset.text_dir and dataset.text in an imported dataset YAML, so runs and
// grids naming it read the tables without another step.
void point_dataset_at_tables(const std::string& yaml, const std::string& tables_dir) {
  std::string kept, line;
  std::istringstream in(read_text(yaml));
  while (std::getline(in, line))
    if (line.rfind("  text_dir:", 0) != 0 && line.rfind("  text:", 0) != 0) kept += line + "\n";
  kept += "  text_dir: " + fs::absolute(tables_dir).lexically_normal().string() + "\n  " + kTextTables + "\n";
  write_file_atomic(yaml, kept);
}

// What `text build` made, and where the tables are named (an imported dataset's YAML, or a hint).
void report_built(const text::TextBuild& built, const text::TextBuildOptions& o, int64_t n_users,
                  const std::string& imported_yaml) {
  if (!built.tables.empty() && built.tables.front().cols < o.encoder.dim)
    std::cout << "note: the tables are " << built.tables.front().cols << " wide, not " << o.encoder.dim
              << ": the item texts hold too few distinct tokens (in at least --min-df items) for more\n";
  for (const text::BuiltTable& t : built.tables)
    std::cout << t.path << ": " << t.rows << " x " << t.cols << " (provenance in " << t.path << ".json)\n";
  if (!o.user_text_file.empty())
    std::cout << "user documents: " << built.given_users << " given (" << o.user_text_file << "), "
              << n_users - built.given_users << " built from the user's training items\n";
  if (!imported_yaml.empty()) {
    point_dataset_at_tables(imported_yaml, o.out_dir);
    std::cout << imported_yaml << ": now names these tables (dataset.text_dir, dataset.text)\n";
  } else {
    std::cout << "use them with: dataset: {text_dir: " << o.out_dir << ", " << kTextTables << "}\n";
  }
}

int cmd_text_build(const std::vector<std::string>& args) {
  text::TextBuildOptions o;
  std::string data_dir, prompts;
  text::PromptInputs in;
  llm::GenerationOptions go;
  ServerArgs server;
  po::options_description desc("recgrid text build --data DIR [options]");
  desc.add_options()("help,h", "show this help")(
      "data", po::value<std::string>(&data_dir)->required(), "dataset folder (train/valid/test.tsv and the item text)")(
      "item-text", po::value<std::string>(&o.item_text_file), "item text TSV (default DIR/item_text.tsv)")(
      "field", po::value<std::string>(&o.field)->default_value(o.field), "the text column")(
      "user-text", po::value<std::string>(&o.user_text_file),
      "given user texts (TSV with header: user, <field>; e.g. DIR/user_text.tsv of `recgrid data import`) instead of "
      "documents built from each user's training items (users without one keep those)")(
      "out", po::value<std::string>(&o.out_dir), "output folder (default data/text/<dataset folder name>)")(
      "dim", po::value<int64_t>(&o.encoder.dim)->default_value(o.encoder.dim), "width of the tables")(
      "min-df", po::value<int64_t>(&o.encoder.tfidf.min_df)->default_value(o.encoder.tfidf.min_df), "keep tokens in at least this many items")(
      "max-features", po::value<int64_t>(&o.encoder.tfidf.max_features)->default_value(o.encoder.tfidf.max_features), "vocabulary cap")(
      "seed", po::value<uint64_t>(&o.encoder.seed)->default_value(o.encoder.seed), "seed of the randomised SVD")(
      "max-items", po::value<int64_t>(&o.limits.max_items)->default_value(o.limits.max_items), "training items per user document")(
      "max-chars", po::value<int64_t>(&o.limits.max_chars)->default_value(o.limits.max_chars), "characters per user document")(
      "intents", po::value<std::string>(&o.intents_cache), "answer cache of `recgrid intents generate`: intent tables from the LLM intents")(
      "llm", "first ask the chat server (--base-url, --model) for the item and user intents (cached in OUT/answers.jsonl)")(
      "domain", po::value<std::string>(&in.domain)->default_value(in.domain), "--llm: the prompts' {{domain}} noun")(
      "prompts", po::value<std::string>(&prompts)->default_value("configs/prompts"), "--llm: prompt templates")(
      "concurrency", po::value<int>(&go.concurrency)->default_value(go.concurrency), "--llm: requests at once");
  server.add_to(desc, "--llm: chat-completion");
  const auto parsed = parse_command(args, desc);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (o.item_text_file.empty()) o.item_text_file = (fs::path(data_dir) / "item_text.tsv").string();
  const std::string imported = data::imported_dataset_yaml(data_dir);
  if (o.out_dir.empty())
    o.out_dir = imported.empty() ? "data/text/" + fs::path(data_dir).lexically_normal().filename().string()
                                 : (fs::path(data_dir) / "text").string();
  const data::Dataset ds = load_text_dataset(data_dir);
  if (vm.count("llm")) {  // the one-shot path: intents from the LLM, then every table
    if (!o.intents_cache.empty()) throw std::invalid_argument("--llm writes its own answer cache; drop --intents");
    o.intents_cache = o.out_dir + "/answers.jsonl";
    llm::AnswerCache cache(o.intents_cache);
    go.progress_tty = train::stderr_is_tty();
    const llm::ChatClient client(server.config("RECGRID_LLM_MODEL"), {});
    const auto items = text::read_item_records(o.item_text_file, ds.n_items);
    if (!o.user_text_file.empty()) in.user_texts = given_user_texts(o.user_text_file, o.field, ds.n_users);
    if (const size_t failed = generate_answers(ds, items, {"item_intent", "user_intent"}, prompts, in, client, cache, go, 0)) {
      std::cerr << failed << " prompts failed; nothing built. Run the same command again: answered prompts are not asked again\n";
      return 1;
    }
  }
  o.encoder.shrink_to_fit = vm["dim"].defaulted();  // the default width gives way to small text; an asked one does not
  report_built(text::build_text_tables(ds, o), o, ds.n_users, imported);
  return 0;
}

}  // namespace

int cmd_intents(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "generate")
    throw std::invalid_argument("usage: recgrid intents generate [options] (see recgrid intents generate --help)");
  return cmd_intents_generate(std::vector<std::string>(args.begin() + 1, args.end()));
}

int cmd_embed(const std::vector<std::string>& args) { return cmd_embed_answers(args); }

int cmd_text(const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "build" && args[0] != "check"))
    throw std::invalid_argument("usage: recgrid text build|check [options] (see recgrid text build --help)");
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  return args[0] == "build" ? cmd_text_build(rest) : cmd_text_check(rest);
}

}  // namespace recgrid
