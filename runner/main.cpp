// `recgrid`: the command-line runner.
//
//   recgrid run [CONFIG] [--out DIR] [--set KEY=VALUE]... [--resume] [--force]
//   recgrid run GRID.yaml [--out DIR] [--shard I/N] [--jobs N] [--set KEY=VALUE]...
//   recgrid run GRID.yaml --executor slurm [--partition P] [--time T] [--cpus-per-cell N] [--dry-run] ...
//   recgrid text build --data DIR [--out DIR] [--dim N] ...
//   recgrid text check --data DIR --tables DIR
//   recgrid intents generate --data DIR --base-url URL --model M ...
//   recgrid embed --answers FILE --what KIND --out FILE.npy ...
//   recgrid status GRID_DIR
//   recgrid cancel GRID_DIR
//   recgrid report RUN_DIR [--reference FILE] [--highlight STACK] [--metrics LIST] [--split test|valid]
//                  [--test t|wilcoxon] [--correction holm|bh]
//   recgrid plugins
//   recgrid synth --out DIR [generator options]
//   recgrid bench [CONFIG] [--steps N] [--eval-users N] [--set KEY=VALUE]...
//   recgrid version
//
// Without CONFIG, `run` trains on the built-in defaults (LightGCN on the built-in planted-intent dataset).
#include <boost/program_options.hpp>
#include <c10/util/Exception.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "config/config.hpp"
#include "config/host_keys.hpp"
#include "config/run_config.hpp"
#include "data/dataset.hpp"
#include "data/ndarray.hpp"
#include "data/npy.hpp"
#include "data/synthetic.hpp"
#include "data/synthetic_settings.hpp"
#include "grid/child_run_command.hpp"
#include "grid/grid_runner.hpp"
#include "grid/grid_status.hpp"
#include "plugin/encoding_pairs.hpp"
#include "plugin/loader.hpp"
#include "report/report.hpp"
#include "command_line.hpp"
#include "text_commands.hpp"
#include "data_commands.hpp"
#include "export_commands.hpp"
#include "grid_commands.hpp"
#include "run_options.hpp"
#include "recgrid/version.hpp"
#include "train/progress.hpp"
#include "train/checkpoint.hpp"
#include "train/fitted_run.hpp"
#include "train/benchmark.hpp"
#include "train/trainer.hpp"
#include "util/allocator.hpp"
#include "util/torch_error.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
namespace flag = recgrid::grid::run_flag;
using namespace recgrid;

namespace {

const char* const kUsage =
    "usage: recgrid <command> [options]\n"
    "\n"
    "commands:\n"
    "  run [CONFIG]   train and evaluate one experiment (default: the built-in defaults),\n"
    "                 or every cell of a grid file (one with a top-level 'grid:' key)\n"
    "  status DIR     cells done / running / failed / left of a grid folder, with an ETA (and Slurm's states)\n"
    "  cancel DIR     cancel a grid's queued and running Slurm tasks (they checkpoint first)\n"
    "  data import    raw interactions (any ids) -> a dataset folder: filtered, split, renumbered\n"
    "  data get NAME  fetch the paper's datasets (amazon, yelp, movie), sha256-checked, into the data root\n"
    "  text build     raw item text -> the enhancers' embedding tables (offline encoder)\n"
    "  text check     how well the text tables alone rank the test items (vs random)\n"
    "  intents generate  ask an OpenAI-compatible LLM for item/user intents or profiles (cached, resumable)\n"
    "  embed          LLM answers -> an embedding table (offline encoder or an embeddings server)\n"
    "  report DIR     Markdown + HTML report and CSV of a grid folder\n"
    "  export RUN     a trained run's embeddings and every user's top-K list (original ids, titles)\n"
    "  recommend RUN --user ID  one user's top-K list\n"
    "  plugins        list the installed plugins with their options\n"
    "  synth          write a planted-intent synthetic dataset (TSV splits + text tables)\n"
    "  bench [CONFIG] time training steps and an evaluation pass at a size (JSON; bench/growth.sh)\n"
    "  version        print the version\n"
    "\n"
    "run `recgrid <command> --help` for a command's options\n";

std::vector<std::string> plugin_dirs(const po::variables_map& vm) {
  return plugin::plugin_search_path(vm.count("plugin-dir") ? vm["plugin-dir"].as<std::vector<std::string>>()
                                                           : std::vector<std::string>{});
}

int cmd_run(const std::vector<std::string>& args) {
  const auto parsed = parse_with_config(args, run_options());
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (vm.count("help-config")) {
    std::cout << (vm.count("yaml") ? config::host_defaults_yaml() : config::host_keys_help());
    return 0;
  }
  const std::string experiment = vm.count("config") ? vm["config"].as<std::string>() : "";
  const auto sets = vm.count(flag::kSet) ? vm[flag::kSet].as<std::vector<std::string>>() : std::vector<std::string>{};

  plugin::Registry registry(plugin_dirs(vm));
  if (grid::is_grid_file(experiment)) return run_grid_file(experiment, sets, vm, registry);
  config::Config cfg = config::load_layers(experiment, sets);
  const config::RunConfig run = config::resolve(cfg, registry.schema_lookup()).run;
  train::check_fitted_pairing(run, registry);  // refused here, before a run folder is made
  plugin::check_encoding_pairs(run, registry);  // so is a base model lacking what an enhancer reads

  train::RunOptions options;
  std::string label = run.name;
  if (label.empty()) label = experiment.empty() ? "default" : fs::path(experiment).stem().string();
  options.out_dir = vm.count(flag::kOut) ? vm[flag::kOut].as<std::string>() : "runs/" + label;
  options.resolved_yaml = cfg.dump();
  options.resume = vm.count(flag::kResume) > 0;
  options.force = vm.count("force") > 0;
  options.progress = !vm.count(flag::kNoProgress) && train::stderr_is_tty();
  const auto results = train::run_training(run, registry, options);
  std::cout << results.dump(2) << std::endl;
  return 0;
}

// `recgrid bench [CONFIG]`: the cost of training at a size (timed steps, one evaluation pass), as JSON.
int cmd_bench(const std::vector<std::string>& args) {
  train::BenchOptions b;
  po::options_description desc("recgrid bench [CONFIG] [options]");
  desc.add_options()("help,h", "show this help")(
      "set,s", po::value<std::vector<std::string>>()->composing(), "override a key (repeatable), as for run")(
      "steps", po::value<int64_t>(&b.steps)->default_value(b.steps), "training steps timed (after the warm-up)")(
      "warmup", po::value<int64_t>(&b.warmup)->default_value(b.warmup), "steps run first, not timed")(
      "eval-users", po::value<int64_t>(&b.eval_users)->default_value(b.eval_users),
      "validation users of one timed evaluation pass (0: none)")(
      "plugin-dir", po::value<std::vector<std::string>>()->composing(), "plugin folder (repeatable)");
  const auto parsed = parse_with_config(args, desc);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (b.steps < 1 || b.warmup < 0 || b.eval_users < 0)
    throw std::invalid_argument("--steps must be at least 1, --warmup and --eval-users at least 0");
  const auto sets = vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  plugin::Registry registry(plugin_dirs(vm));
  config::Config cfg = config::load_layers(vm.count("config") ? vm["config"].as<std::string>() : "", sets);
  std::cout << train::benchmark_training(config::resolve(cfg, registry.schema_lookup()).run, registry, b).dump(2) << "\n";
  return 0;
}

int cmd_report(const std::vector<std::string>& args) {
  report::ReportOptions o;
  std::string metrics;
  po::options_description desc("recgrid report RUN_DIR [options]");
  desc.add_options()("help,h", "show this help")(
      "reference", po::value<std::string>(&o.reference), "a reference table to compare with, e.g. configs/reference/irllrec-table2.yaml")(
      "highlight", po::value<std::string>(&o.highlight), "the enhancer stack of the Improv. row (default irllrec; none = no row)")(
      "metrics", po::value<std::string>(&metrics)->default_value("recall@20,ndcg@20"), "table columns per dataset")(
      "split", po::value<std::string>(&o.split)->default_value("test"), "test or valid")(
      "test", po::value<std::string>(&o.test)->default_value("t"),
      "the per-user test a star stands for: t (paired t-test) or wilcoxon (signed-rank)")(
      "correction", po::value<std::string>(&o.correction)->default_value("holm"),
      "over every comparison of the report: holm (Holm-Bonferroni) or bh (Benjamini-Hochberg)");
  po::options_description hidden;
  hidden.add_options()("dir", po::value<std::string>(&o.run_dir), "grid folder");
  po::positional_options_description pos;
  pos.add("dir", 1);
  const auto parsed = parse_command(args, desc, hidden, pos);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (o.run_dir.empty()) throw std::invalid_argument("which grid folder? usage: recgrid report RUN_DIR");
  o.metrics.clear();
  std::stringstream ss(metrics);
  for (std::string m; std::getline(ss, m, ',');)
    if (!m.empty()) o.metrics.push_back(m);
  const report::ReportFiles f = report::write_report(o);
  if (f.csv.empty()) std::cout << "no finished cell yet; the search's choices: " << f.markdown << ", " << f.html << "\n";
  else std::cout << f.records << " records: " << f.markdown << ", " << f.html << ", " << f.csv << "\n";
  return 0;
}

void print_option(const rg_option_spec& o) {
  std::cout << "      " << o.name << " (" << o.type << ", default " << o.default_json
            << (o.range && *o.range ? std::string(", in ") + o.range : std::string()) << ")";
  if (o.help && *o.help) std::cout << ": " << o.help;
  std::cout << "\n";
}

// A plugin's options as the Markdown table its README carries (between the markers below).
void print_option_table(const rg_plugin_info& info) {
  std::cout << "<!-- options: generated from the plugin's declaration by `recgrid plugins --markdown " << info.name
            << "`; a test keeps the two equal -->\n| option | type | default | range | meaning |\n|---|---|---|---|---|\n";
  for (uint32_t k = 0; k < info.n_options; ++k) {
    const rg_option_spec& o = info.options[k];
    const auto value = nlohmann::json::parse(o.default_json);
    const std::string shown = value.is_string() ? value.get<std::string>() : std::string(o.default_json);  // as written
    std::cout << "| `" << o.name << "` | " << o.type << " | " << (shown.empty() ? "\"\"" : shown) << " | "
              << (o.range && *o.range ? o.range : "") << " | " << o.help << " |\n";
  }
  std::cout << "<!-- end of options -->\n";
}

// A base model's `gives` or an enhancer's `needs` (abi.h rg_tensor_spec), one line each.
void print_encoding(const char* label, const std::vector<rg_tensor_spec>& tensors) {
  std::cout << "    " << label << (tensors.empty() ? " (none)" : "") << ":\n";
  for (const rg_tensor_spec& t : tensors) {
    std::cout << "      " << t.name;
    if (std::string(t.name).find("<l>") != std::string::npos)
      std::cout << " (l = " << t.first_layer << ".." << (t.layers ? t.layers : "L") << ")";
    if (t.parameter) std::cout << " = parameter " << t.parameter;
    if (t.help && *t.help) std::cout << ": " << t.help;
    std::cout << "\n";
  }
}

void print_plugin(const plugin::LoadedPlugin& p) {
  const char* kind = p.is_fitted() ? "fitted base model, no enhancers" : plugin::kind_name(p.info->kind);
  std::cout << "  " << p.info->name << " " << p.info->version << " (" << kind << ") - "
            << p.info->description << "\n    file: " << p.path << "\n    options:\n";
  if (p.info->n_options == 0) std::cout << "      (none)\n";
  for (uint32_t k = 0; k < p.info->n_options; ++k) print_option(p.info->options[k]);
  for (uint32_t k = 0; k < p.info->n_inputs; ++k) {
    const rg_input_spec& in = p.info->inputs[k];
    std::cout << "    input " << in.name << ": " << (in.rows == RG_ROWS_USERS ? "users" : "items") << " x "
              << (in.cols ? std::to_string(in.cols) : std::string("any")) << " floats";
    if (in.help && *in.help) std::cout << " - " << in.help;
    std::cout << "\n";
  }
  // What each side of a base model x enhancer pair declares of the training encoding; a plugin built
  // before the declarations were appended shows neither (its pairs are not checked).
  if (!p.declares_encoding()) std::cout << "    encoding: not declared (built before gives/needs)\n";
  else if (p.is_base_model()) print_encoding("gives enhancers", p.gives());
  else print_encoding("needs from the base model", p.needs());
}

int cmd_plugins(const std::vector<std::string>& args) {
  po::options_description desc("recgrid plugins [options]");
  desc.add_options()("help,h", "show this help")(
      "markdown", po::value<std::string>(), "print only NAME's options as its README's Markdown table")(
      "plugin-dir", po::value<std::vector<std::string>>()->composing(),
      "plugin folder, searched before $RECGRID_PLUGIN_PATH and the installed plugins (repeatable)");
  const auto parsed = parse_command(args, desc);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  plugin::Registry registry(plugin_dirs(vm));
  if (vm.count("markdown")) {
    const std::string name = vm["markdown"].as<std::string>();
    for (const plugin::LoadedPlugin* p : registry.plugins())
      if (p->name() == name) return print_option_table(*p->info), 0;
    throw std::invalid_argument("--markdown " + name + ": no plugin of that name in " + registry.where());
  }
  std::cout << "plugin folders: " << registry.where() << "\n";
  for (int32_t kind : {RG_KIND_BASE_MODEL, RG_KIND_ENHANCER}) {
    std::cout << "\n" << (kind == RG_KIND_BASE_MODEL ? "base models" : "enhancers") << ":\n";
    bool any = false;
    for (const plugin::LoadedPlugin* p : registry.plugins())
      if (p->info->kind == kind) any = true, print_plugin(*p);
    if (!any) std::cout << "  (none)\n";
  }
  for (const auto& problem : registry.problems()) std::cout << "\nrefused: " << problem << "\n";
  return 0;
}

// `recgrid synth`'s generator flags: one per setting of data/synthetic_settings.cpp, as text that
// set_synth_setting checks against the setting's type and range.
std::map<std::string, std::string> add_synth_flags(po::options_description& desc) {
  std::map<std::string, std::string> values;
  for (const data::SynthSetting& s : data::synth_settings()) {
    std::string flag = s.name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    desc.add_options()(flag.c_str(), po::value<std::string>(&values[s.name])->default_value(s.default_yaml),
                       (std::string(s.help) + " " + s.range).c_str());
  }
  return values;
}

int cmd_synth(const std::vector<std::string>& args) {
  data::SynthOptions o;
  std::string out;
  po::options_description desc("recgrid synth --out DIR [options]");
  desc.add_options()("help,h", "show this help")("out,o", po::value<std::string>(&out)->required(), "output folder")(
      "sampler", po::value<std::string>(&o.sampler)->default_value(o.sampler),
      "exact (per user over all items: O(users x items)), alias (intent, then item: O(interactions)), or auto "
      "(exact up to 1e9 users x items)");
  const std::map<std::string, std::string> flags = add_synth_flags(desc);
  const auto parsed = parse_command(args, desc);
  if (!parsed) return 0;
  for (const data::SynthSetting& s : data::synth_settings()) data::set_synth_setting(s, flags.at(s.name), o);
  const data::SyntheticData d = data::generate_synthetic(o);
  data::write_synthetic(d, o, out);
  std::cout << out << ": " << d.dataset.n_users << " users, " << d.dataset.n_items << " items, "
            << d.dataset.train.size() << " / " << d.dataset.valid.size() << " / " << d.dataset.test.size()
            << " train / valid / test interactions; tables profile_{user,item}.npy (" << o.profile_dim
            << " wide), intent_{user,item}.npy (" << o.intent_dim << " wide), snr " << o.snr << ", "
            << data::synth_sampler_used(o) << " sampler\n";
  return 0;
}

int cmd_version(const std::vector<std::string>&) {
  std::cout << "recgrid " << RECGRID_VERSION << " (plugin ABI " << RECGRID_ABI_VERSION << ")\n";
  return 0;
}

// The subcommands, by name (kUsage lists them for people).
int dispatch(const std::string& command, const std::vector<std::string>& args) {
  using Command = int (*)(const std::vector<std::string>&);
  static const std::map<std::string, Command> commands = {
      {"run", cmd_run},         {"plugins", cmd_plugins},     {"report", cmd_report},   {"text", cmd_text},
      {"data", cmd_data},       {"export", cmd_export},       {"recommend", cmd_recommend},
      {"intents", cmd_intents}, {"embed", cmd_embed},         {"status", cmd_status},   {"synth", cmd_synth},
      {"cancel", cmd_cancel},   {"bench", cmd_bench},
      {"version", cmd_version}, {"--version", cmd_version}};
  const auto it = commands.find(command);
  if (it != commands.end()) return it->second(args);
  std::cerr << "recgrid: unknown command '" << command << "'\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  use_huge_pages(argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    return dispatch(command, args);
  } catch (const train::Interrupted& e) {
    std::cerr << "recgrid: " << e.what() << "; run the same command with --resume to continue\n";
    return train::kExitInterrupted;
  } catch (const train::Paused& e) {
    std::cerr << "recgrid: " << e.what() << "; run the same command with --resume (and a later or no "
                 "train.pause_after) to continue\n";
    return train::kExitPaused;
  } catch (const train::Diverged& e) {
    std::cerr << "recgrid: " << e.what() << "\n";
    return train::kExitDiverged;
  } catch (const train::DamagedRunFile& e) {
    std::cerr << "recgrid: run folder: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    // A LibTorch check failed inside the host: its message without the C++ stack, and what to do.
    std::cerr << "recgrid: LibTorch refused an operation: " << torch_error_first_line(e) << "\n"
              << "recgrid: this is a RecGrid bug or a value that no range check caught: check the configuration "
                 "(`recgrid run --help`), and please report it with the run folder's log.txt\n";
    return 1;
  } catch (const po::error& e) {
    std::cerr << "recgrid " << command << ": " << e.what() << "\n";
    return 2;
  } catch (const config::ConfigError& e) {
    std::cerr << "recgrid: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const data::FormatError& e) {
    std::cerr << "recgrid: data error: " << e.what() << "\n";
    return 1;
  } catch (const plugin::PluginError& e) {
    std::cerr << "recgrid: plugin error: " << e.what() << "\n";
    return 1;
  } catch (const std::invalid_argument& e) {
    std::cerr << "recgrid " << command << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "recgrid: error: " << e.what() << "\n";
    return 1;
  }
}
