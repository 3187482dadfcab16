#include "run_options.hpp"

#include "command_line.hpp"
#include "grid/child_run_command.hpp"
#include "grid_commands.hpp"

namespace po = boost::program_options;
namespace flag = recgrid::grid::run_flag;

namespace recgrid {

po::options_description run_options() {
  po::options_description desc("recgrid run [CONFIG] [options]");
  desc.add_options()("help,h", "show this help")(
      "help-config", "list every host configuration key: type, default, range, help")(
      "yaml", "with --help-config: print the defaults as YAML (configs/defaults.yaml)")(
      with_letter(flag::kOut, 'o').c_str(), po::value<std::string>(), "run folder (default: runs/<name or config file stem>)")(
      with_letter(flag::kSet, 's').c_str(), po::value<std::vector<std::string>>()->composing(),
      "override a key, e.g. --set train.epochs=5 (repeatable)")(
      flag::kResume, "continue the run in --out from its last checkpoint")("force", "discard what --out holds and start over")(
      flag::kPluginDir, po::value<std::vector<std::string>>()->composing(),
      "plugin folder, searched before $RECGRID_PLUGIN_PATH and the installed plugins (repeatable)")(
      flag::kNoProgress, "never draw the progress line");
  desc.add(grid_run_options()).add(slurm_run_options());
  return desc;
}

std::optional<po::variables_map> parse_with_config(const std::vector<std::string>& args, const po::options_description& desc) {
  po::options_description hidden;
  hidden.add_options()("config", po::value<std::string>(), "experiment file");
  po::positional_options_description pos;
  pos.add("config", 1);
  return parse_command(args, desc, hidden, pos);
}

}  // namespace recgrid
