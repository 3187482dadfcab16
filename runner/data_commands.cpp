#include "data_commands.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "command_line.hpp"
#include "data/import.hpp"

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
  std::printf("  dataset config: %s/%s.yaml (maps back to the original ids: user_map.tsv, item_map.tsv)\n",
              out.c_str(), s["name"].get<std::string>().c_str());
}

int cmd_import(const std::vector<std::string>& args) {
  data::ReadOptions read;
  data::FilterOptions filter;
  data::SplitOptions split;
  std::string input, out, name;
  po::options_description desc("recgrid data import INPUT --out DIR [options]");
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
      "valid", po::value<double>(&split.valid)->default_value(0.1), "share held out for validation (ratio, temporal)")(
      "test", po::value<double>(&split.test)->default_value(0.1), "share held out for test (ratio, temporal)")(
      "seed", po::value<uint64_t>(&split.seed)->default_value(2023), "the seed of the random splits");
  po::options_description hidden;
  hidden.add_options()("input", po::value<std::string>(&input)->required(), "interactions file");
  po::positional_options_description pos;
  pos.add("input", 1);
  if (!parse_command(args, desc, hidden, pos)) return 0;
  if (name.empty()) name = fs::path(out).lexically_normal().filename().string();
  if (name.empty() || name == "." || name == "..") name = "dataset";
  const data::RawData raw = data::read_interactions(input, read);
  data::FilterReport report;
  const auto kept = data::filter_interactions(raw.rows, filter, report);
  if (kept.empty())
    throw std::runtime_error(input + ": no interaction is left after the filters (read " + std::to_string(report.read) +
                             "; below --min-rating " + std::to_string(report.below_rating) + "; duplicates " +
                             std::to_string(report.duplicates) + "; the k-core removed " +
                             std::to_string(report.kcore_removed) + "): lower --kcore or --min-rating");
  const auto assigned = data::split_interactions(kept, split);
  print_summary(data::write_dataset(out, name, raw, kept, assigned, report, split), out);
  return 0;
}

}  // namespace

int cmd_data(const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args.front();
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (sub == "import") return cmd_import(rest);
  std::cerr << "usage: recgrid data import INPUT --out DIR [options]   (recgrid data import --help)\n";
  return 2;
}

}  // namespace recgrid
