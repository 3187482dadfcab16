#include "grid/grid_spec.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <stdexcept>

#include "grid/search_checks.hpp"

namespace recgrid::grid {

namespace fs = std::filesystem;
using config::ConfigError;
using config::Origin;

namespace {

int line_of(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

// One axis value: what the cell id and `when:` rules see (`label`), and the node it came from.
struct AxisValue {
  std::string label;
  YAML::Node node;
  std::vector<std::string> presets;  // enhancers axis only: the stack's preset names
  std::string ref = {};              // dataset and model axes: what extends names (a name or a path)
};

// How a dataset or model named by path reads in cell ids, `status` and the report: a dataset file's
// `dataset.name` (an imported dataset's YAML has one), else the file's stem.
std::string readable_label(const std::string& grid_file, const std::string& axis, const std::string& path) {
  const fs::path file = fs::path(grid_file).parent_path() / path;
  if (axis == "dataset") {
    try {
      const YAML::Node root = YAML::LoadFile(file.string());
      if (root.IsMap() && root["dataset"] && root["dataset"]["name"] && root["dataset"]["name"].IsScalar() &&
          !root["dataset"]["name"].Scalar().empty())
        return root["dataset"]["name"].Scalar();
    } catch (const YAML::Exception&) {
      // unreadable: the stem; extends reports the file's problem with its line
    }
  }
  return file.stem().string();
}

struct Axis {
  std::string name;
  std::vector<AxisValue> values;
};

class GridReader {
 public:
  explicit GridReader(std::string path) : path_(std::move(path)) {}

  std::string at(const YAML::Node& n) const { return Origin{path_, line_of(n)}.str(); }

  [[noreturn]] void fail(const YAML::Node& n, const std::string& what) const { throw ConfigError(at(n) + ": " + what); }

  std::vector<YAML::Node> list(const YAML::Node& n, const std::string& key) const {
    if (!n.IsSequence() || n.size() == 0) fail(n, "grid." + key + " expects a non-empty list");
    return std::vector<YAML::Node>(n.begin(), n.end());
  }

  std::string scalar(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) fail(n, what + " expects a single value");
    return n.Scalar();
  }

  Axis names_axis(const YAML::Node& n, const std::string& key, const std::string& axis) const {
    Axis a{axis, {}};
    for (const YAML::Node& v : list(n, key)) {
      const std::string value = scalar(v, "each entry of grid." + key);
      const bool by_path = (axis == "dataset" || axis == "model") && config::names_a_file(value);
      a.values.push_back({by_path ? readable_label(path_, axis, value) : value, v, {}, value});
    }
    return a;
  }

  // none | PRESET | [PRESET, PRESET, ...] (a stack, labelled "a+b").
  Axis enhancers_axis(const YAML::Node& n) const {
    Axis a{"enhancers", {}};
    for (const YAML::Node& v : list(n, "enhancers")) {
      AxisValue value{"", v, {}};
      if (v.IsNull() || (v.IsScalar() && v.Scalar() == "none")) {
        value.label = "none";
      } else if (v.IsScalar()) {
        value.presets = {v.Scalar()};
      } else if (v.IsSequence() && v.size() > 0) {
        for (const YAML::Node& p : v) value.presets.push_back(scalar(p, "each preset of a stack"));
      } else {
        fail(v, "an enhancers entry is 'none', a preset name or a list of preset names (a stack)");
      }
      for (const std::string& p : value.presets) value.label += (value.label.empty() ? "" : "+") + p;
      a.values.push_back(value);
    }
    return a;
  }

  // sweep: {dotted.key: [v1, v2]} -> one axis per key, named by the key.
  std::vector<Axis> sweep_axes(const YAML::Node& n) const {
    if (!n.IsMap()) fail(n, "grid.sweep expects a mapping {dotted.key: [values]}");
    std::vector<Axis> axes;
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      Axis a{key, {}};
      for (const YAML::Node& v : list(kv.second, "sweep." + key)) a.values.push_back({scalar(v, "a sweep value"), v, {}});
      axes.push_back(a);
    }
    return axes;
  }

 private:
  std::string path_;
};

// {a: {b: value}} from "a.b" and a value node (which keeps its file line for error messages).
// Built by recursion: reassigning a YAML::Node handle would overwrite the node it refers to.
YAML::Node nested_from(const std::vector<std::string>& parts, size_t k, const YAML::Node& value) {
  if (k == parts.size()) return value;
  YAML::Node map(YAML::NodeType::Map);
  map[parts[k]] = nested_from(parts, k + 1, value);
  return map;
}

YAML::Node nested(const std::string& dotted, const YAML::Node& value) {
  std::vector<std::string> parts;
  std::stringstream ss(dotted);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  return nested_from(parts, 0, value);
}

// A `when:` / `exclude:` rule: every named axis must take one of the given values.
struct Rule {
  std::map<std::string, std::set<std::string>> wanted;
  YAML::Node set;  // overrides only

  bool matches(const std::map<std::string, std::string>& axes) const {
    for (const auto& [axis, values] : wanted) {
      auto it = axes.find(axis);
      if (it == axes.end() || !values.count(it->second)) return false;
    }
    return true;
  }
};

Rule read_rule(const GridReader& r, const YAML::Node& n, const std::set<std::string>& axis_names, const std::string& what) {
  if (!n.IsMap()) r.fail(n, what + " expects a mapping {axis: value or [values]}");
  Rule rule;
  for (const auto& kv : n) {
    const std::string axis = kv.first.as<std::string>();
    if (!axis_names.count(axis)) {
      std::string known;
      for (const std::string& a : axis_names) known += (known.empty() ? "" : ", ") + a;
      r.fail(kv.first, what + " names the axis '" + axis + "', which this grid does not have (axes: " + known + ")");
    }
    if (kv.second.IsSequence())
      for (const YAML::Node& v : kv.second) rule.wanted[axis].insert(r.scalar(v, what + "." + axis));
    else
      rule.wanted[axis].insert(r.scalar(kv.second, what + "." + axis));
  }
  return rule;
}

// File-name-safe text: letters, digits and . _ = + - survive; anything else becomes '_'.
std::string safe(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr("._=+-", c)) c = '_';
  return out;
}

// The part of a cell id an axis value contributes.
std::string id_part(const Axis& axis, const AxisValue& v) {
  if (axis.name == "seed") return "s" + v.label;
  if (axis.name == "dataset" || axis.name == "model" || axis.name == "enhancers") return v.label;
  const size_t dot = axis.name.rfind('.');
  return (dot == std::string::npos ? axis.name : axis.name.substr(dot + 1)) + "=" + v.label;
}

}  // namespace

std::set<std::string> select_cells(const GridSpec& spec, const std::vector<std::string>& filters) {
  std::map<std::string, std::set<std::string>> wanted;
  for (const std::string& f : filters) {
    const size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--only " + f + ": expected AXIS=VALUE, e.g. seed=2023");
    const std::string axis = f.substr(0, eq);
    if (!spec.cells.front().axes.count(axis)) throw std::invalid_argument("--only " + f + ": the grid has no axis '" + axis + "'");
    wanted[axis].insert(f.substr(eq + 1));
  }
  std::set<std::string> ids;
  for (const CellSpec& c : spec.cells) {
    bool match = true;
    for (const auto& [axis, values] : wanted) match = match && values.count(c.axes.at(axis));
    if (match) ids.insert(c.id);
  }
  if (ids.empty()) throw std::invalid_argument("--only matches no cell of the grid");
  return ids;
}

bool is_grid_file(const std::string& path) {
  if (path.empty() || !fs::is_regular_file(path)) return false;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    return root.IsMap() && root["grid"];
  } catch (const YAML::Exception&) {
    return false;  // the experiment loader reports the syntax error with its position
  }
}

namespace {

// The file's root, checked: a top-level `grid:` mapping holding only known keys.
YAML::Node read_grid_root(const std::string& path, const GridReader& r) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (!root.IsMap() || !root["grid"] || !root["grid"].IsMap())
    throw ConfigError(path + ": a grid file needs a top-level 'grid:' mapping");
  static const std::vector<std::string> kKeys = {"name", "datasets", "models", "enhancers", "seeds", "sweep", "exclude", "overrides"};
  for (const auto& kv : root["grid"]) {
    const std::string k = kv.first.as<std::string>();
    if (std::find(kKeys.begin(), kKeys.end(), k) == kKeys.end())
      r.fail(kv.first, "unknown key 'grid." + k + "'; did you mean 'grid." + config::closest_of(k, kKeys) + "'?");
  }
  return root;
}

// The axes in display order: datasets, models, enhancers, sweeps, seeds (innermost).
std::vector<Axis> read_axes(const GridReader& r, const YAML::Node& g) {
  std::vector<Axis> axes;
  if (g["datasets"]) axes.push_back(r.names_axis(g["datasets"], "datasets", "dataset"));
  if (g["models"]) axes.push_back(r.names_axis(g["models"], "models", "model"));
  if (g["enhancers"]) axes.push_back(r.enhancers_axis(g["enhancers"]));
  if (g["sweep"])
    for (Axis& a : r.sweep_axes(g["sweep"])) axes.push_back(std::move(a));
  if (g["seeds"]) {
    Axis seeds = r.names_axis(g["seeds"], "seeds", "seed");
    for (const AxisValue& v : seeds.values)
      if (v.label.find_first_not_of("0123456789") != std::string::npos) r.fail(v.node, "a seed is a non-negative integer");
    axes.push_back(seeds);
  }
  return axes;
}

struct GridRules {
  std::vector<Rule> excludes, overrides;
};

GridRules read_rules(const GridReader& r, const YAML::Node& g, const std::vector<Axis>& axes) {
  std::set<std::string> axis_names;
  for (const Axis& a : axes) axis_names.insert(a.name);
  GridRules rules;
  if (g["exclude"])
    for (const YAML::Node& n : r.list(g["exclude"], "exclude")) rules.excludes.push_back(read_rule(r, n, axis_names, "exclude"));
  if (g["overrides"]) {
    for (const YAML::Node& n : r.list(g["overrides"], "overrides")) {
      if (!n.IsMap() || !n["set"] || !n["set"].IsMap())
        r.fail(n, "each override is {when: {axis: value}, set: {key: value}}");
      Rule rule = n["when"] ? read_rule(r, n["when"], axis_names, "overrides.when") : Rule{};
      rule.set = n["set"];
      rules.overrides.push_back(rule);
    }
  }
  return rules;
}

bool names_a_preset(const Axis& axis) { return axis.name == "dataset" || axis.name == "model" || axis.name == "enhancers"; }

// Everything a cell is built from that does not depend on the cell.
struct CellContext {
  const std::string& path;
  const YAML::Node& grid;    // the `grid:` mapping (its line names where a preset came from)
  const YAML::Node& common;  // the file's other top-level keys
  const GridRules& rules;
};

// One cell's layers, lowest first: presets named by its axes < common keys < matching overrides <
// sweep values < seed (its name and --set come on top in load_grid).
CellSpec build_cell(const CellContext& c, const std::vector<Axis>& axes, const std::vector<size_t>& pick,
                    const std::map<std::string, std::string>& values) {
  CellSpec cell;
  cell.axes = values;
  config::Extends named;
  for (size_t a = 0; a < axes.size(); ++a) {
    const AxisValue& v = axes[a].values[pick[a]];
    cell.axis_order.push_back(axes[a].name);
    cell.id += (cell.id.empty() ? "" : "-") + safe(id_part(axes[a], v));
    if (axes[a].name != "seed") cell.row += (cell.row.empty() ? "" : "-") + safe(id_part(axes[a], v));
    if (axes[a].name == "dataset") named.dataset = v.ref;
    if (axes[a].name == "model") named.model = v.ref;
    if (axes[a].name == "enhancers") named.enhancer_presets = v.presets;
  }
  config::apply_extends(cell.config, named, c.path, Origin{c.path, line_of(c.grid)});
  cell.config.merge(c.common, c.path);
  for (const Rule& o : c.rules.overrides)
    if (o.matches(values)) cell.config.merge(o.set, c.path);
  for (size_t a = 0; a < axes.size(); ++a) {
    const AxisValue& v = axes[a].values[pick[a]];
    if (axes[a].name == "seed") cell.config.merge(nested("train.seed", v.node), c.path);
    else if (!names_a_preset(axes[a])) cell.config.merge(nested(axes[a].name, v.node), c.path);
  }
  return cell;
}

// Advances the odometer `pick` (last axis fastest); false after the last combination.
bool next_combination(std::vector<size_t>& pick, const std::vector<Axis>& axes) {
  for (size_t a = axes.size(); a-- > 0;) {
    if (++pick[a] < axes[a].values.size()) return true;
    pick[a] = 0;
  }
  return false;
}

}  // namespace

GridSpec load_grid(const std::string& path, const std::vector<std::string>& sets) {
  const GridReader r(path);
  const YAML::Node root = read_grid_root(path, r);
  const YAML::Node g = root["grid"];
  GridSpec spec;
  spec.file = path;
  spec.name = g["name"] ? r.scalar(g["name"], "grid.name") : fs::path(path).stem().string();
  const std::vector<Axis> axes = read_axes(r, g);
  const GridRules rules = read_rules(r, g, axes);
  YAML::Node common = YAML::Clone(root);
  common.remove("grid");
  common.remove("search");
  if (root["search"]) spec.search = read_search(root["search"], path);
  const CellContext context{path, g, common, rules};

  // The cross product, last axis fastest (seeds innermost, so one setting's seeds sit together).
  std::vector<size_t> pick(axes.size(), 0);
  std::set<std::string> ids;
  do {
    std::map<std::string, std::string> values;
    for (size_t a = 0; a < axes.size(); ++a) values[axes[a].name] = axes[a].values[pick[a]].label;
    if (std::any_of(rules.excludes.begin(), rules.excludes.end(), [&](const Rule& x) { return x.matches(values); }))
      continue;
    CellSpec cell = build_cell(context, axes, pick, values);
    if (cell.id.empty()) cell.id = safe(spec.name);
    if (cell.row.empty()) cell.row = safe(spec.name);
    if (!ids.insert(cell.id).second)
      throw ConfigError(path + ": two cells share the id '" + cell.id + "' (sweep values that differ only in "
                        "characters a folder name cannot hold?)");
    cell.config.merge(nested("name", YAML::Node(cell.id)), path);
    for (const std::string& s : sets) cell.config.set(s);
    spec.cells.push_back(std::move(cell));
  } while (next_combination(pick, axes));
  if (spec.cells.empty()) throw ConfigError(path + ": the grid has no cells (every cell is excluded)");
  check_search_against_grid(spec, root, sets);
  return spec;
}

}  // namespace recgrid::grid
