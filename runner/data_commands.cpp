#include "data_commands.hpp"

#include <boost/program_options.hpp>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "command_line.hpp"
#include "data/data_root.hpp"
#include "data/fetch.hpp"
#include "data/import.hpp"
#include "util/files.hpp"
#include "util/signal_guard.hpp"
#include "util/status_line.hpp"
#include "util/test_hooks.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace recgrid {

namespace {

void print_summary(const nlohmann::json& s, const std::string& out) {
  const auto& f = s["filters"];
  const auto& n = s["interactions"];
  std::printf("%s: read %zu interactions; removed %zu below the rating threshold, %zu duplicates, %zu by the "
              "k-core (%zu round(s))\n",
              out.c_str(), f["read"].get<size_t>(), f["below_rating"].get<size_t>(), f["duplicates"].get<size_t>(),
              f["kcore_removed"].get<size_t>(), f["kcore_rounds"].get<size_t>());
  std::printf("  %zu users, %zu items, density %.5f%%; train %zu, valid %zu, test %zu (%s split)\n",
              s["users"].get<size_t>(), s["items"].get<size_t>(), 100 * s["density"].get<double>(),
              n["train"].get<size_t>(), n["valid"].get<size_t>(), n["test"].get<size_t>(),
              s["split"]["mode"].get<std::string>().c_str());
  std::printf("  users without a test item: %zu; without a training item: %zu\n", s["users_without_test"].get<size_t>(),
              s["users_without_train"].get<size_t>());
  for (const char* kind : {"item", "user"}) {
    const std::string key = std::string(kind) + "_text";
    if (!s.contains(key)) continue;
    const auto& t = s[key];
    std::printf("  %s text: %zu of %zu %ss have one (%s/%s.tsv); %zu text lines name %ss not in the data\n", kind,
                t["with_text"].get<size_t>(), t["with_text"].get<size_t>() + t["without_text"].get<size_t>(), kind,
                out.c_str(), key.c_str(), t["not_in_the_data"].get<size_t>(), kind);
  }
  std::printf("  dataset config: %s/%s.yaml (maps back to the original ids: user_map.tsv, item_map.tsv)\n",
              out.c_str(), s["name"].get<std::string>().c_str());
  if (s.contains("item_text"))
    std::printf("  next: recgrid text build --data %s%s\n", out.c_str(),
                s.contains("user_text") ? (" --user-text " + out + "/user_text.tsv").c_str() : "");
}

// Comma-separated names ("title,genres") as a list.
std::vector<std::string> names_in(const std::string& list) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= list.size();) {
    const size_t at = std::min(list.find(',', start), list.size());
    if (at > start) out.push_back(list.substr(start, at - start));
    start = at + 1;
  }
  return out;
}

// --item-text / --user-text, read in --text-format (default: the interactions' own format).
struct TextInputs {
  std::string item_file, user_file, fields;
  data::TextReadOptions read;
  data::EntityTexts items, users;

  TextInputs() { read.format.clear(); }  // empty: the interactions' format
  data::ImportTexts read_all(const std::string& interactions_format) {
    if (read.format.empty()) read.format = interactions_format;
    read.fields = names_in(fields);
    data::ImportTexts texts;
    if (!item_file.empty()) items = data::read_entity_texts(item_file, read, false), texts.items = &items;
    if (!user_file.empty()) {
      data::TextReadOptions user_read = read;
      if (user_read.format == "amazon") user_read.format = "delimited";  // Amazon has no user metadata
      users = data::read_entity_texts(user_file, user_read, true), texts.users = &users;
    }
    return texts;
  }
};

int cmd_import(const std::vector<std::string>& args) {
  data::ReadOptions read;
  data::FilterOptions filter;
  data::SplitOptions split;
  TextInputs text;
  std::string input, out, name;
  po::options_description desc("recgrid data import INPUT --out DIR [options]   (INPUT and text files: plain or gzip)");
  desc.add_options()("help,h", "show this help")("out,o", po::value<std::string>(&out)->required(), "the dataset folder to write")(
      "name", po::value<std::string>(&name), "the dataset's name (default: the folder's name)")(
      "format", po::value<std::string>(&read.format)->default_value("delimited"),
      "delimited (a header, or --columns), movielens (u.data, ratings.dat), atomic (RecBole .inter), amazon (JSON lines)")(
      "sep", po::value<std::string>(&read.sep)->default_value(","), "delimited: the field separator (tab: '\\t')")(
      "columns", po::value<std::string>(&read.columns), "delimited without a header: e.g. user,item,rating,timestamp")(
      "min-rating", po::value<double>(&filter.min_rating), "keep interactions rated at least this (default: all)")(
      "duplicates", po::value<std::string>(&filter.duplicates)->default_value("first"),
      "a repeated (user, item): keep the first or the last (by time, then file order)")(
      "kcore", po::value<int>(&filter.kcore)->default_value(0), "drop users and items with fewer interactions, until none has (0: off)")(
      "split", po::value<std::string>(&split.mode)->default_value("ratio"),
      "ratio (per user, seeded), loo-last, loo-random, temporal-user, temporal-global")(
      "valid", po::value<double>(&split.valid)->default_value(0.1, "0.1"), "share held out for validation (ratio, temporal)")(
      "test", po::value<double>(&split.test)->default_value(0.1, "0.1"), "share held out for test (ratio, temporal)")(
      "seed", po::value<uint64_t>(&split.seed)->default_value(2023), "the seed of the random splits")(
      "item-text", po::value<std::string>(&text.item_file),
      "item descriptions: a CSV/TSV with a header (an id column and text columns), MovieLens movies.dat / u.item, "
      "RecBole .item, Amazon metadata JSON lines -> item_text.tsv")(
      "user-text", po::value<std::string>(&text.user_file),
      "user descriptions (a CSV/TSV with a header, MovieLens users.dat / u.user, RecBole .user) -> user_text.tsv")(
      "text-format", po::value<std::string>(&text.read.format),
      "the format of the text files (default: --format; delimited, movielens, atomic, amazon)")(
      "text-sep", po::value<std::string>(&text.read.sep)->default_value("auto"),
      "delimited text files: the separator (auto: tab, '::' or '|' when the header has one, else ',')")(
      "text-fields", po::value<std::string>(&text.fields),
      "the text columns, e.g. title,genres (default: every column but the id)");
  po::options_description hidden;
  hidden.add_options()("input", po::value<std::string>(&input)->required(), "interactions file (gzip or not)");
  po::positional_options_description pos;
  pos.add("input", 1);
  if (!parse_command(args, desc, hidden, pos)) return 0;
  if (name.empty()) name = fs::path(out).lexically_normal().filename().string();
  if (name.empty() || name == "." || name == "..") name = "dataset";
  const data::ImportTexts texts = text.read_all(read.format);  // first: a bad text file fails in seconds
  const data::RawData raw = data::read_interactions(input, read);
  for (const std::string& w : data::check_columns(raw, filter, split, input)) std::cerr << "warning: " << w << "\n";
  data::FilterReport report;
  const auto kept = data::filter_interactions(raw.rows, filter, report);
  if (kept.empty())
    throw std::runtime_error(input + ": no interaction is left after the filters (read " + std::to_string(report.read) +
                             "; below --min-rating " + std::to_string(report.below_rating) + "; duplicates " +
                             std::to_string(report.duplicates) + "; the k-core removed " +
                             std::to_string(report.kcore_removed) + "): lower --kcore or --min-rating");
  const auto assigned = data::split_interactions(kept, split);
  print_summary(data::write_dataset(out, name, raw, kept, assigned, report, split, texts), out);
  return 0;
}

// The published checksums, unless a test names its own (test_hooks::test_data_checksums_file).
std::vector<data::PublishedFile> expected_checksums() {
  const std::string path = test_hooks::test_data_checksums_file();
  if (path.empty()) return data::published_files();
  return data::parse_checksums(read_text(path), path);
}

std::atomic<bool> g_fetch_stop{false};
void on_fetch_signal(int) { g_fetch_stop = true; }

// Where the fetched data is read from, and the configuration that names it.
void print_dataset_config(const std::string& name, const std::string& to) {
  const fs::path dir = fs::absolute(fs::path(to) / name).lexically_normal();
  std::printf("%s: ready in %s\n", name.c_str(), dir.c_str());
  std::printf("  dataset config: configs/datasets/%s.yaml (extends: {dataset: %s}), e.g.\n", name.c_str(), name.c_str());
  std::printf("  recgrid run configs/experiments/lightgcn-%s.yaml\n", name.c_str());
  const std::string root_here = data::resolve_data_root(data::kDefaultDataRoot);
  std::error_code ec;
  if (!fs::equivalent(root_here, to, ec))
    std::printf("  the data root here is %s: add --set dataset.root=%s (or export RECGRID_DATA_ROOT=%s)\n",
                root_here.c_str(), fs::absolute(to).c_str(), fs::absolute(to).c_str());
}

int cmd_get(const std::vector<std::string>& args) {
  data::FetchOptions o;
  std::vector<std::string> names;
  po::options_description desc("recgrid data get NAME... [--from URL|DIR] [--to DIR]   (NAME: amazon, yelp, movie)");
  desc.add_options()("help,h", "show this help")(
      "from", po::value<std::string>(&o.from)->default_value(data::kPublishedSource),
      "where the files are: a URL (a mirror, file://) or a folder, holding NAME/trn_mat.pkl, val_mat.pkl, tst_mat.pkl")(
      "to", po::value<std::string>(&o.to)->default_value(data::user_data_dir()), "the data root to write NAME/ into")(
      "timeout", po::value<double>(&o.timeout_s)->default_value(600), "seconds per file");
  po::options_description hidden;
  hidden.add_options()("name", po::value<std::vector<std::string>>(&names)->required(), "dataset names");
  po::positional_options_description pos;
  pos.add("name", -1);
  if (!parse_command(args, desc, hidden, pos)) return 0;
  while (o.from.size() > 1 && o.from.back() == '/') o.from.pop_back();
  o.checksums = expected_checksums();
  StatusLine line(::isatty(2) != 0);
  o.progress = [&](const std::string& text) { line.draw(text); };
  o.event = [&](const std::string& text) { line.event(text); };
  o.stop = &g_fetch_stop;
  const SignalGuard guard({SIGINT, SIGTERM}, on_fetch_signal);
  try {
    for (const std::string& name : names) data::fetch_dataset(name, o);
  } catch (const data::FetchError& e) {
    line.clear();
    std::cerr << "recgrid: data get: " << e.what() << "\n";
    return g_fetch_stop ? 4 : 1;
  }
  for (const std::string& name : names) print_dataset_config(name, o.to);
  return 0;
}

}  // namespace

int cmd_data(const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args.front();
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (sub == "import") return cmd_import(rest);
  if (sub == "get") return cmd_get(rest);
  std::cerr << "usage: recgrid data import INPUT --out DIR [options]   (recgrid data import --help)\n"
               "       recgrid data get NAME... [--from URL|DIR] [--to DIR]   (recgrid data get --help)\n";
  return 2;
}

}  // namespace recgrid
