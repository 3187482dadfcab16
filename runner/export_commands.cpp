#include "export_commands.hpp"

#include <ATen/ATen.h>
#include <boost/program_options.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "command_line.hpp"
#include "config/config.hpp"
#include "data/npy.hpp"
#include "data/table_tensor.hpp"
#include "export/recommend.hpp"
#include "plugin/loader.hpp"
#include "train/trained_model.hpp"
#include "util/files.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace recgrid {

namespace {

// What both commands share: the run folder, plugin folders, the list length and what to exclude.
struct RunChoice {
  std::string run_dir, exclude = "train";
  std::vector<std::string> plugin_dirs;
  int64_t k = 20;

  // Adds the shared options and the RUN_DIR argument to `desc` and parses; false when --help was answered.
  bool parse(const std::vector<std::string>& args, po::options_description& desc) {
    add_to(desc);
    po::options_description hidden;
    hidden.add_options()("run", po::value<std::string>(&run_dir)->required(), "run folder");
    po::positional_options_description pos;
    pos.add("run", 1);
    return parse_command(args, desc, hidden, pos).has_value();
  }
  void add_to(po::options_description& desc) {
    desc.add_options()("k", po::value<int64_t>(&k)->default_value(20), "items per list")(
        "exclude-seen", po::value<std::string>(&exclude)->default_value("train"),
        "train: a user's training items never appear; all: their validation and test items neither")(
        "plugin-dir", po::value<std::vector<std::string>>(&plugin_dirs)->composing(), "plugin folder (repeatable)");
  }
  exporting::Exclude excluded() const {
    if (exclude != "train" && exclude != "all") throw std::invalid_argument("--exclude-seen must be train or all, not '" + exclude + "'");
    return exclude == "all" ? exporting::Exclude::All : exporting::Exclude::Train;
  }
};

// The run's resolved configuration (config.yaml) and its model at the best epoch.
struct LoadedRun {
  config::RunConfig config;
  train::TrainedModel model;
  exporting::IdNames names;
};

LoadedRun load_run(const RunChoice& c) {
  const std::string yaml = c.run_dir + "/config.yaml";
  if (!fs::exists(yaml)) throw std::invalid_argument(c.run_dir + " is not a run folder (no config.yaml): give the folder `recgrid run` wrote");
  if (c.k < 1) throw std::invalid_argument("--k must be at least 1");
  const plugin::Registry registry(plugin::plugin_search_path(c.plugin_dirs));
  config::Config cfg = config::load_layers(yaml, {});
  LoadedRun r{config::resolve(cfg, registry.schema_lookup()).run, {}, {}};
  r.model = train::load_trained_model(c.run_dir, r.config, registry);
  const std::string dir = r.config.dataset.format == "tsv" ? r.config.dataset.path : "";
  r.names = exporting::read_id_names(dir, r.model.dataset.n_users, r.model.dataset.n_items);
  return r;
}

void write_npy(const std::string& path, const at::Tensor& t) {
  data::write_table_npy(path, data::to_table(t.to(at::kCPU, at::kFloat).contiguous()));
  std::printf("  %s: %lld x %lld\n", path.c_str(), static_cast<long long>(t.size(0)), static_cast<long long>(t.size(1)));
}

void write_map(const std::string& path, const std::vector<std::string>& ids) {
  std::string text = "index\toriginal_id\n";
  for (size_t k = 0; k < ids.size(); ++k) text += std::to_string(k) + "\t" + ids[k] + "\n";
  write_file_atomic(path, text);
}

void write_embeddings(const LoadedRun& r, const std::string& out) {
  write_npy(out + "/user_embeddings.npy", r.model.embeddings.first);
  write_npy(out + "/item_embeddings.npy", r.model.embeddings.second);
  for (const auto& [name, t] : r.model.text_side) write_npy(out + "/text_side." + name + ".npy", t);
  write_map(out + "/user_map.tsv", r.names.users);
  write_map(out + "/item_map.tsv", r.names.items);
}

// recommendations.tsv (a row per user and rank) and recommendations.jsonl (a line per user), both
// streamed block by block through a temporary file each, renamed when complete.
void write_lists(const LoadedRun& r, const RunChoice& c, const std::string& out, int64_t block) {
  const std::string tsv = out + "/recommendations.tsv", jsonl = out + "/recommendations.jsonl";
  std::ofstream t(tsv + ".tmp"), j(jsonl + ".tmp");
  if (!t || !j) throw std::runtime_error(out + ": cannot write the recommendation files");
  t << "user\trank\titem\tscore\ttitle\n";
  const auto& n = r.names;
  exporting::top_k_all(r.model.embeddings.first, r.model.embeddings.second, exporting::seen_items(r.model.dataset, c.excluded()),
                       c.k, block, [&](int64_t u, const exporting::Ranked& list) {
                         nlohmann::ordered_json line = {{"user", n.users[u]}, {"items", nlohmann::json::array()},
                                                {"scores", list.scores}, {"titles", nlohmann::json::array()}};
                         for (size_t rank = 0; rank < list.items.size(); ++rank) {
                           const auto i = static_cast<size_t>(list.items[rank]);
                           t << n.users[u] << '\t' << rank + 1 << '\t' << n.items[i] << '\t' << list.scores[rank] << '\t'
                             << n.titles[i] << '\n';
                           line["items"].push_back(n.items[i]);
                           line["titles"].push_back(n.titles[i]);
                         }
                         j << line.dump() << '\n';
                       });
  t.close(), j.close();
  if (!t || !j) throw std::runtime_error(out + ": writing the recommendation files failed (disk full?)");
  fs::rename(tsv + ".tmp", tsv), fs::rename(jsonl + ".tmp", jsonl);
  std::printf("  %s, %s: top %lld for %lld users (%s items excluded)\n", tsv.c_str(), jsonl.c_str(),
              static_cast<long long>(c.k), static_cast<long long>(r.model.dataset.n_users),
              c.exclude == "all" ? "training, validation and test" : "training");
}

}  // namespace

int cmd_export(const std::vector<std::string>& args) {
  RunChoice c;
  std::string out;
  // 256 users: a 9.5 MB score block on amazon (9,332 items). Measured there, export took 1.3-1.7 s
  // with blocks of 64-512 users and 2.2-2.6 s with 1024 (the block leaves the cache).
  int64_t block = 256;
  po::options_description desc("recgrid export RUN_DIR [options]");
  desc.add_options()("help,h", "show this help")("out,o", po::value<std::string>(&out), "output folder (default RUN_DIR/export)")(
      "block", po::value<int64_t>(&block)->default_value(256), "users scored at once (memory: block x items floats)");
  if (!c.parse(args, desc)) return 0;
  if (block < 1) throw std::invalid_argument("--block must be at least 1");
  if (out.empty()) out = c.run_dir + "/export";
  const auto t0 = std::chrono::steady_clock::now();
  const LoadedRun r = load_run(c);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fs::create_directories(out);
  std::printf("%s: the model of %s at its best epoch (loaded in %.1f s)\n", out.c_str(), c.run_dir.c_str(), load_s);
  write_embeddings(r, out);
  write_lists(r, c, out, block);
  const double all_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const nlohmann::json about = {{"run", fs::absolute(c.run_dir).lexically_normal().string()}, {"k", c.k},
                                {"exclude_seen", c.exclude}, {"users", r.model.dataset.n_users},
                                {"items", r.model.dataset.n_items}, {"original_ids", r.names.has_maps},
                                {"load_s", load_s}, {"total_s", all_s}};
  write_file_atomic(out + "/export.json", about.dump(2) + "\n");
  std::printf("  done in %.1f s (export.json)\n", all_s);
  return 0;
}

int cmd_recommend(const std::vector<std::string>& args) {
  RunChoice c;
  std::string user;
  po::options_description desc("recgrid recommend RUN_DIR --user ID [options]");
  desc.add_options()("help,h", "show this help")("user,u", po::value<std::string>(&user)->required(),
                                                  "the user's original id (user_map.tsv), or index without maps");
  if (!c.parse(args, desc)) return 0;
  const LoadedRun r = load_run(c);
  const auto& n = r.names;
  const auto found = std::find(n.users.begin(), n.users.end(), user);
  if (found == n.users.end())
    throw std::invalid_argument("--user " + user + ": no such user in " + (n.has_maps ? "user_map.tsv" : "the dataset (ids are indices 0.." + std::to_string(n.users.size() - 1) + ")"));
  const int64_t u = found - n.users.begin();
  const auto seen = exporting::seen_items(r.model.dataset, c.excluded());
  const auto list = exporting::top_k_block(r.model.embeddings.first, r.model.embeddings.second, u, u + 1, seen, c.k)[0];
  const data::UserItemIndex valid(r.model.dataset.valid, r.model.dataset.n_users), test(r.model.dataset.test, r.model.dataset.n_users);
  std::printf("user %s (index %lld): %lld training items; top %zu (%s items excluded)\n", user.c_str(),
              static_cast<long long>(u), static_cast<long long>(seen[0].count(u)), list.items.size(),
              c.exclude == "all" ? "training, validation and test" : "training");
  for (size_t rank = 0; rank < list.items.size(); ++rank) {
    const int64_t i = list.items[rank];
    const char* held = test.contains(u, i) ? "  [test]" : valid.contains(u, i) ? "  [valid]" : "";
    std::printf("%3zu. %-14s %8.4f  %s%s\n", rank + 1, n.items[i].c_str(), list.scores[rank], n.titles[i].c_str(), held);
  }
  return 0;
}

}  // namespace recgrid
