#include "config/host_keys.hpp"

#include <algorithm>
#include <deque>
#include <sstream>

#include "data/synthetic_settings.hpp"

namespace recgrid::config {

namespace {

void read_value(const YAML::Node& n, std::string& v) { v = n.IsNull() ? "" : n.as<std::string>(); }
template <typename T>
void read_value(const YAML::Node& n, T& v) {
  v = n.as<T>();
}

// A key stored in the RunConfig field of the same dotted name (train.lr -> RunConfig::train.lr).
#define RG_STORED(field, type, def, range, help) \
  HostKey { #field, type, def, range, help, [](const YAML::Node& n, RunConfig& c) { read_value(n, c.field); } }
// A key whose field to_run_config() derives (a path resolved against dataset.root, ...).
#define RG_DERIVED(key, type, def, range, help) \
  HostKey { key, type, def, range, help, nullptr }
// A mapping of the keys below it; "plugin_options" for one that also holds a plugin's options.
#define RG_SECTION(key, help) \
  HostKey { key, "section", "", "", help, nullptr }

// The list with one dataset.synthetic.* key per generator setting (declared in
// data/synthetic_settings.cpp) after the dataset.synthetic section.
std::vector<HostKey> with_synthetic_settings(std::vector<HostKey> keys) {
  static std::deque<std::string> names;  // the generated keys' text, alive as long as the table
  std::vector<HostKey> generated;
  for (const data::SynthSetting& s : data::synth_settings()) {
    names.push_back(std::string("dataset.synthetic.") + s.name);
    generated.push_back(HostKey{names.back().c_str(), s.type, s.default_yaml, s.range, s.help, nullptr});
  }
  const auto section = std::find_if(keys.begin(), keys.end(),
                                    [](const HostKey& k) { return std::string(k.key) == "dataset.synthetic"; });
  keys.insert(section + 1, generated.begin(), generated.end());
  return keys;
}

}  // namespace

// function-lengths: a table
const std::vector<HostKey>& host_keys() {
  static const std::vector<HostKey> keys = with_synthetic_settings({
      RG_STORED(name, "string", "\"\"", "", "run name; the default output folder is runs/<name>"),
      RG_SECTION("dataset", "the interactions and the text tables"),
      RG_STORED(dataset.name, "string", "\"\"", "", "label only"),
      RG_STORED(dataset.format, "string", "synthetic", "{synthetic, sslrec, tsv}",
                "synthetic (generated in memory, see dataset.synthetic) | sslrec (trn/val/tst_mat.pkl) | tsv (train/valid/test.tsv)"),
      RG_DERIVED("dataset.root", "string", "../shared/data", "",
                 "relative dataset paths start here (at this default: $RECGRID_DATA_ROOT, else this folder if present, else the user's data folder)"),
      RG_DERIVED("dataset.path", "string", "amazon", "", "folder of the split files, relative to root unless absolute"),
      RG_STORED(dataset.n_users, "int", "0", "[0, inf)", "tsv only: 0 = 1 + the largest user id"),
      RG_STORED(dataset.n_items, "int", "0", "[0, inf)", "tsv only: 0 = 1 + the largest item id"),
      RG_DERIVED("dataset.text", "string_map", "{}", "",
                 "embedding tables for enhancers, NAME: file (.npy or pickled numpy) relative to the dataset folder, "
                 "e.g. profile_user: usr_emb_np.pkl; a synthetic dataset provides profile_user, profile_item, "
                 "intent_user and intent_item itself"),
      RG_DERIVED("dataset.text_dir", "string", "\"\"", "",
                 "folder the text files are relative to instead (\"\" = the dataset folder), e.g. the output of "
                 "`recgrid text build` (relative to the working directory)"),
      RG_SECTION("dataset.synthetic",
                 "the planted-intent generator (format synthetic; `recgrid synth` writes the same data to files): users "
                 "and items are mixtures over latent intents; interactions follow intent affinity, popularity and noise "
                 "(above 1e9 users x items drawn intent by intent: data/planted_sampler.hpp); text tables are noisy "
                 "projections"),
      RG_SECTION("text", "how the enhancers' text tables are used"),
      RG_STORED(text.reduce_dim, "int", "0", "[0, inf)",
                "0 = the tables as given; N > 0: each enhancer text table wider than N is replaced by its top-N "
                "principal components (PCA once at load; towers become N wide: faster on CPU, docs/PERFORMANCE.md); "
                "tables an enhancer declares with a fixed width are kept"),
      RG_SECTION("train", "the training loop"),
      RG_STORED(train.epochs, "int", "3000", "[1, inf)", "upper bound; early stopping usually ends the run first"),
      RG_STORED(train.batch_size, "int", "4096", "[1, inf)", "BPR triplets per step"),
      RG_STORED(train.lr, "float", "0.001", "(0, inf)", "Adam, betas (0.9, 0.999), eps 1e-8, no weight decay"),
      RG_STORED(train.reg_weight, "float", "1.0e-6", "[0, inf)",
                "times the sum of squared norms of every parameter (ALGORITHMS.md §0 Reg)"),
      RG_STORED(train.test_step, "int", "3", "[1, inf)", "validate after epochs 0, test_step, 2*test_step, ..."),
      RG_STORED(train.patience, "int", "5", "[1, inf)", "stop after this many validations without a better Recall@20"),
      RG_STORED(train.min_epochs, "int", "0", "[0, inf)",
                "validations before this epoch do not count toward patience (a slow start is not a stop)"),
      RG_STORED(train.loss_bound, "float", "1.0e+6", "(0, inf)",
                "the run stops as diverged when an epoch's mean loss or a step's loss exceeds this (or a loss term "
                "becomes NaN / Inf); checkpoint.pt and best.pt keep the last good state"),
      RG_STORED(train.eval_batch, "int", "1024", "[1, inf)", "users per evaluation batch"),
      RG_STORED(train.topk, "int_list", "[5, 10, 20]", "[1, inf)", "the K of Recall@K and NDCG@K; must include 20"),
      RG_STORED(train.seed, "int", "2023", "[0, inf)", "the model's seed: initialisation, sampling, dropout"),
      RG_STORED(train.threads, "int", "0", "[0, inf)", "0 = every core"),
      RG_STORED(train.pause_after, "int", "0", "[0, inf)",
                "0 = never; N: the run stops after epoch N-1 with checkpoint.pt and exits with status 5, and "
                "--resume continues it (how a grid's search promotes a trial; like train.threads it does not name a run)"),
      RG_STORED(train.device, "string", "cpu", "", "cpu, cuda, cuda:1, ... (needs a CUDA build of LibTorch)"),
      RG_SECTION("eval",
                 "what the final evaluation (best epoch, valid and test) records beside Recall/NDCG@K in results.json "
                 "and the per-user files (docs/METRICS.md); these keys do not name a run: changing them reruns nothing"),
      RG_STORED(eval.metrics, "string_list", "[coverage, gini, novelty, arp]", "{coverage, gini, novelty, arp}",
                "beyond-accuracy metrics at every K of train.topk: catalog coverage, Gini index of item exposure, "
                "novelty (mean self-information -log2 of training popularity), average recommendation popularity"),
      RG_STORED(eval.per_user_valid, "bool", "false", "",
                "also write per_user_valid.tsv.gz (per_user_test.tsv.gz is always written)"),
      RG_STORED(eval.user_groups, "int", "4", "[1, 100]",
                "user groups: quantile buckets of the evaluation users' training interactions (the lowest is "
                "\"sparse\"; users of one count stay together, fewer buckets when counts tie)"),
      RG_STORED(eval.head_share, "float", "0.2", "(0, 1)",
                "item groups: head = the most popular items that together hold this share of the training "
                "interactions, tail = the rest"),
      RG_SECTION("model", "the base model: its name and its options (`recgrid plugins`)"),
      RG_STORED(model.name, "string", "lightgcn", "", "a base-model plugin"),
      RG_DERIVED("enhancers", "string_list", "[]", "", "stacked in order, e.g. [rlmrec_con, irllrec]"),
      RG_DERIVED("enhancer", "plugin_options", "{}", "", "per-enhancer options: enhancer: {NAME: {option: value}}"),
  });
  return keys;
}

YAML::Node node_at(const YAML::Node& root, const std::string& dotted) {
  YAML::Node n = root;
  std::stringstream ss(dotted);
  for (std::string p; std::getline(ss, p, '.');) {
    if (!n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& cn = n;
    YAML::Node child = cn[p];
    if (!child.IsDefined()) return child;
    n.reset(child);
  }
  return n;
}

std::string host_defaults_yaml() {
  std::string out =
      "# Built-in defaults: the lowest configuration layer. Generated from the host key table\n"
      "# (core/src/config/host_keys.cpp) by `recgrid run --help-config --yaml`; edit the table, not this file.\n"
      "# Layers, lowest first: these defaults < dataset file < model file < enhancer presets < experiment\n"
      "# file < --set.\n";
  for (const HostKey& k : host_keys()) {
    const std::string key = k.key;
    const size_t depth = static_cast<size_t>(std::count(key.begin(), key.end(), '.'));
    std::string line = std::string(2 * depth, ' ') + key.substr(key.rfind('.') + 1) + ":";
    if (*k.default_yaml) line += std::string(" ") + k.default_yaml;
    line.resize(std::max<size_t>(line.size() + 2, 32), ' ');
    out += line + "# " + k.help + "\n";
  }
  return out;
}

std::string host_keys_help() {
  std::string out = "Host configuration keys (plugins' options: `recgrid plugins`):\n";
  for (const HostKey& k : host_keys()) {
    if (std::string(k.type) == "section") continue;
    out += "  " + std::string(k.key) + " (" + k.type + ", default " + k.default_yaml +
           (*k.range ? std::string(", in ") + k.range : "") + ")\n      " + k.help + "\n";
  }
  return out;
}

}  // namespace recgrid::config
