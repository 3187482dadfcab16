// `recgrid`: the command-line runner.
//
//   recgrid run [CONFIG] [--out DIR] [--set KEY=VALUE]... [--resume] [--force]
//   recgrid plugins
//   recgrid synth --out DIR [generator options]
//   recgrid version
//
// Without CONFIG, `run` trains on the built-in defaults (LightGCN on the built-in planted-intent dataset).
#include <boost/program_options.hpp>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

#include "config/config.hpp"
#include "config/run_config.hpp"
#include "data/ndarray.hpp"
#include "data/synthetic.hpp"
#include "plugin/loader.hpp"
#include "recgrid/version.hpp"
#include "train/progress.hpp"
#include "train/trainer.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace recgrid;

namespace {

const char* const kUsage =
    "usage: recgrid <command> [options]\n"
    "\n"
    "commands:\n"
    "  run [CONFIG]   train and evaluate one experiment (default: the built-in defaults)\n"
    "  plugins        list the installed plugins with their options\n"
    "  synth          write a planted-intent synthetic dataset (TSV splits + text tables)\n"
    "  version        print the version\n"
    "\n"
    "run `recgrid <command> --help` for a command's options\n";

std::vector<std::string> plugin_dirs(const po::variables_map& vm) {
  if (vm.count("plugin-dir")) return vm["plugin-dir"].as<std::vector<std::string>>();
  return plugin::default_plugin_dirs();
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description desc("recgrid run [CONFIG] [options]");
  desc.add_options()("help,h", "show this help")(
      "out,o", po::value<std::string>(), "run folder (default: runs/<name or config file stem>)")(
      "set,s", po::value<std::vector<std::string>>()->composing(), "override a key, e.g. --set train.epochs=5 (repeatable)")(
      "resume", "continue the run in --out from its last checkpoint")("force", "discard what --out holds and start over")(
      "plugin-dir", po::value<std::vector<std::string>>()->composing(), "plugin folder (repeatable; replaces the defaults)")(
      "no-progress", "never draw the progress line");
  po::options_description hidden;
  hidden.add_options()("config", po::value<std::string>(), "experiment file");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::options_description all;
  all.add(desc).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  const std::string experiment = vm.count("config") ? vm["config"].as<std::string>() : "";
  const auto sets = vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};

  plugin::Registry registry(plugin_dirs(vm));
  config::Config cfg = config::load_layers(experiment, sets);
  const YAML::Node resolved = config::validate(cfg, [&](const std::string& name, rg_plugin_kind kind) {
    const plugin::LoadedPlugin& p = registry.get(name, kind);
    return std::vector<rg_option_spec>(p.info->options, p.info->options + p.info->n_options);
  });
  const config::RunConfig run =
      config::to_run_config(resolved, [&](const std::string& key) { return cfg.origin(key).str(); });

  train::RunOptions options;
  std::string label = run.name;
  if (label.empty()) label = experiment.empty() ? "default" : fs::path(experiment).stem().string();
  options.out_dir = vm.count("out") ? vm["out"].as<std::string>() : "runs/" + label;
  options.resolved_yaml = cfg.dump();
  options.resume = vm.count("resume") > 0;
  options.force = vm.count("force") > 0;
  options.progress = !vm.count("no-progress") && train::stderr_is_tty();
  const auto results = train::run_training(run, registry, options);
  std::cout << results.dump(2) << std::endl;
  return 0;
}

void print_option(const rg_option_spec& o) {
  std::cout << "      " << o.name << " (" << o.type << ", default " << o.default_json << ")";
  if (o.help && *o.help) std::cout << ": " << o.help;
  std::cout << "\n";
}

int cmd_plugins(const std::vector<std::string>& args) {
  po::options_description desc("recgrid plugins [options]");
  desc.add_options()("help,h", "show this help")(
      "plugin-dir", po::value<std::vector<std::string>>()->composing(), "plugin folder (repeatable)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  plugin::Registry registry(plugin_dirs(vm));
  std::cout << "plugin folders: " << registry.where() << "\n";
  for (int32_t kind : {RG_KIND_BASE_MODEL, RG_KIND_ENHANCER}) {
    std::cout << "\n" << (kind == RG_KIND_BASE_MODEL ? "base models" : "enhancers") << ":\n";
    bool any = false;
    for (const plugin::LoadedPlugin* p : registry.plugins()) {
      if (p->info->kind != kind) continue;
      any = true;
      std::cout << "  " << p->info->name << " " << p->info->version << " (" << plugin::kind_name(kind)
                << ") - " << p->info->description << "\n    file: " << p->path << "\n    options:\n";
      if (p->info->n_options == 0) std::cout << "      (none)\n";
      for (uint32_t k = 0; k < p->info->n_options; ++k) print_option(p->info->options[k]);
      for (uint32_t k = 0; k < p->info->n_inputs; ++k) {
        const rg_input_spec& in = p->info->inputs[k];
        std::cout << "    input " << in.name << ": " << (in.rows == RG_ROWS_USERS ? "users" : "items") << " x "
                  << (in.cols ? std::to_string(in.cols) : std::string("any")) << " floats";
        if (in.help && *in.help) std::cout << " - " << in.help;
        std::cout << "\n";
      }
    }
    if (!any) std::cout << "  (none)\n";
  }
  for (const auto& problem : registry.problems()) std::cout << "\nrefused: " << problem << "\n";
  return 0;
}

int cmd_synth(const std::vector<std::string>& args) {
  data::SynthOptions o;
  std::string out;
  po::options_description desc("recgrid synth --out DIR [options]");
  desc.add_options()("help,h", "show this help")("out,o", po::value<std::string>(&out)->required(), "output folder")(
      "users", po::value<int64_t>(&o.users)->default_value(o.users), "number of users")(
      "items", po::value<int64_t>(&o.items)->default_value(o.items), "number of items")(
      "intents", po::value<int64_t>(&o.intents)->default_value(o.intents), "latent intents K")(
      "interactions-per-user", po::value<double>(&o.interactions_per_user)->default_value(o.interactions_per_user),
      "mean interactions per user")(
      "concentration", po::value<double>(&o.concentration)->default_value(o.concentration),
      "Dirichlet parameter of the intent mixtures")(
      "sharpness", po::value<double>(&o.sharpness)->default_value(o.sharpness), "affinity exponent")(
      "popularity", po::value<double>(&o.popularity)->default_value(o.popularity), "Zipf exponent of item popularity")(
      "noise", po::value<double>(&o.noise)->default_value(o.noise), "share of uniformly random interactions")(
      "snr", po::value<double>(&o.snr)->default_value(o.snr), "signal-to-noise ratio of the text tables (0 = noise)")(
      "profile-dim", po::value<int64_t>(&o.profile_dim)->default_value(o.profile_dim), "profile table width")(
      "intent-dim", po::value<int64_t>(&o.intent_dim)->default_value(o.intent_dim), "intent table width")(
      "seed", po::value<uint64_t>(&o.seed)->default_value(o.seed), "random seed");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  po::notify(vm);
  const data::SyntheticData d = data::generate_synthetic(o);
  data::write_synthetic(d, o, out);
  std::cout << out << ": " << d.dataset.n_users << " users, " << d.dataset.n_items << " items, "
            << d.dataset.train.size() << " / " << d.dataset.valid.size() << " / " << d.dataset.test.size()
            << " train / valid / test interactions; tables profile_{user,item}.npy (" << o.profile_dim
            << " wide), intent_{user,item}.npy (" << o.intent_dim << " wide), snr " << o.snr << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "run") return cmd_run(args);
    if (command == "plugins") return cmd_plugins(args);
    if (command == "synth") return cmd_synth(args);
    if (command == "version" || command == "--version") {
      std::cout << "recgrid " << RECGRID_VERSION << " (plugin ABI " << RECGRID_ABI_VERSION << ")\n";
      return 0;
    }
    std::cerr << "recgrid: unknown command '" << command << "'\n" << kUsage;
    return 2;
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
