#include "report/group_section.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "eval/groups.hpp"
#include "report/bar_chart.hpp"
#include "report/significance.hpp"
#include "report/svg_chart.hpp"
#include "report/table.hpp"
#include "util/files.hpp"

namespace recgrid::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kBeyond[] = {"coverage", "gini", "novelty", "arp"};

// K of the report's first metric ("recall@20" -> 20); 20 without one.
std::string k_of(const std::vector<std::string>& metrics) {
  for (const auto& m : metrics)
    if (const size_t at = m.find('@'); at != std::string::npos) return m.substr(at + 1);
  return "20";
}

// Each run's results.json (read once), or its record when the folder has none.
class ResultsCache {
 public:
  explicit ResultsCache(std::string run_dir) : run_dir_(std::move(run_dir)) {}
  const json& get(const json& record) {
    const std::string path = run_folder(run_dir_, record) + "/results.json";
    auto it = cache_.find(path);
    if (it == cache_.end()) {
      json j = fs::is_regular_file(path) ? json::parse(read_text(path), nullptr, false) : record;
      it = cache_.emplace(path, j.is_discarded() ? record : j).first;
    }
    return it->second;
  }

 private:
  std::string run_dir_;
  std::map<std::string, json> cache_;
};

// results[split][key], or the same under "<split>_groups" or "groups"/<split>: null when absent.
const json& locate(const json& results, const std::string& split, const std::string& key) {
  static const json none;
  for (const json* at : {results.contains(split) ? &results[split] : nullptr,
                         results.contains(split + "_groups") ? &results[split + "_groups"] : nullptr,
                         results.contains("groups") && results["groups"].contains(split) ? &results["groups"][split] : nullptr})
    if (at && at->is_object() && at->contains(key)) return (*at)[key];
  return none;
}

// The list inside a group object ({"buckets": [...]} / {"groups": [...]}) or the list itself.
const json& group_list(const json& node, const char* list_key) {
  static const json empty = json::array();
  if (node.is_array()) return node;
  if (node.is_object() && node.contains(list_key) && node[list_key].is_array()) return node[list_key];
  return empty;
}

double number_or_nan(const json& j, const std::string& key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

// A value of each result seed of a setting; NaN-only lists become empty (no value recorded).
template <typename Fn>
std::vector<double> seed_values(const Setting& s, ResultsCache& cache, Fn value) {
  std::vector<double> v;
  for (const auto& [seed, record] : s.by_seed)
    if (is_result(record)) v.push_back(value(cache.get(record)));
  return std::any_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); }) ? v : std::vector<double>{};
}

std::string row_text(const Grouped& g, const Setting& s) {
  return (g.datasets.size() > 1 ? s.dataset + ": " : "") + (s.row == "none" ? "(base)" : "+ " + s.row);
}

}  // namespace

std::vector<double> quantile_lower_edges(const std::vector<double>& n_train, int buckets) {
  if (n_train.empty() || buckets < 1) return {};
  for (double v : n_train)
    if (!std::isfinite(v) || v != std::floor(v)) return {};  // not counts (a file without n_train): no groups
  const eval::UserBuckets b = eval::UserBuckets::quantiles(std::vector<int64_t>(n_train.begin(), n_train.end()), buckets);
  return std::vector<double>(b.lower.begin(), b.lower.end());
}

int group_of(const std::vector<double>& lower, double n_train) {
  const auto it = std::upper_bound(lower.begin(), lower.end(), n_train);
  return std::max(0, static_cast<int>(it - lower.begin()) - 1);
}

std::vector<double> relative_gain_by_group(const std::vector<double>& a, const std::vector<double>& b,
                                           const std::vector<double>& n_train, const std::vector<double>& lower) {
  std::vector<double> sa(lower.size(), 0.0), sb(lower.size(), 0.0), count(lower.size(), 0.0);
  for (size_t k = 0; k < a.size(); ++k) {
    const auto gk = static_cast<size_t>(group_of(lower, n_train[k]));
    sa[gk] += a[k], sb[gk] += b[k], count[gk] += 1;
  }
  std::vector<double> gain(lower.size(), kNaN);
  for (size_t gk = 0; gk < lower.size(); ++gk)
    if (count[gk] > 0 && sb[gk] > 0) gain[gk] = 100 * (sa[gk] - sb[gk]) / sb[gk];
  return gain;
}

namespace {

// Every setting in table order: dataset, base model, its rows.
template <typename Fn>
void for_each_setting(const Grouped& g, Fn fn) {
  for (const auto& d : g.datasets)
    for (const auto& model : g.models)
      for (const auto& row : g.rows_of_model.at(model))
        if (const Setting* s = find_setting(g, d, model, row)) fn(*s);
}

// coverage, gini, novelty, arp @K: mean ± std over each row's seeds; no table when no run has them.
Table beyond_table(const Grouped& g, const GroupOptions& o, ResultsCache& cache) {
  Table t;
  const std::string k = k_of(o.metrics);
  t.header = {"base model", "row"};
  for (const char* name : kBeyond) t.header.push_back(std::string(name) + "@" + k);
  bool any = false;
  std::string last_model;
  for_each_setting(g, [&](const Setting& s) {
    std::vector<TableCell> cells = {{s.model == last_model ? "" : s.model, false, ""}, {row_text(g, s), false, ""}};
    for (const char* name : kBeyond) {
      const std::string key = std::string(name) + "@" + k;
      const auto v = seed_values(s, cache, [&](const json& r) {
        const json& at = locate(r, o.split, key);
        return at.is_number() ? at.get<double>() : kNaN;
      });
      any |= !v.empty();
      cells.push_back({mean_std(v), false, std::to_string(v.size()) + " seed(s)"});
    }
    t.separator_before.push_back(s.model != last_model);
    last_model = s.model;
    t.rows.push_back(cells);
  });
  if (!any) t.rows.clear(), t.separator_before.clear();
  return t;
}

// A user group as the first run that has groups recorded it: its name and n_train range.
struct UserGroup {
  std::string name;
  double n_train_min = kNaN, n_train_max = kNaN;
};

// The user groups and the item groups' names, from the first run that has them.
void group_names(const Grouped& g, const GroupOptions& o, ResultsCache& cache, std::vector<UserGroup>& users,
                 std::vector<std::string>& items) {
  for_each_setting(g, [&](const Setting& s) {
    for (const auto& [seed, record] : s.by_seed) {
      if (!users.empty() || !is_result(record)) continue;
      const json& r = cache.get(record);
      for (const json& b : group_list(locate(r, o.split, "user_groups"), "buckets"))
        users.push_back({b.value("name", "?"), number_or_nan(b, "n_train_min"), number_or_nan(b, "n_train_max")});
      for (const json& b : group_list(locate(r, o.split, "item_groups"), "groups")) items.push_back(b.value("name", "?"));
    }
  });
}

// The mean over seeds of `key` in the group called `name` of the list `list` (user_groups / item_groups).
std::string group_mean(const Setting& s, ResultsCache& cache, const GroupOptions& o, const char* list, const char* list_key,
                       const std::string& name, const std::string& key) {
  const auto v = seed_values(s, cache, [&](const json& r) {
    for (const json& b : group_list(locate(r, o.split, list), list_key))
      if (b.value("name", "") == name) return number_or_nan(b, key);
    return kNaN;
  });
  return v.empty() ? "–" : fixed(mean(v));
}

// A user group's mean over seeds, when every seed's run recorded the group with the same n_train range
// (runs of different versions or data can name different ranges "sparse"); else "–", saying why.
TableCell user_group_mean(const Setting& s, ResultsCache& cache, const GroupOptions& o, const UserGroup& u,
                          const std::string& key) {
  bool differs = false;
  const auto v = seed_values(s, cache, [&](const json& r) {
    for (const json& b : group_list(locate(r, o.split, "user_groups"), "buckets"))
      if (b.value("name", "") == u.name) {
        differs = differs || number_or_nan(b, "n_train_min") != u.n_train_min || number_or_nan(b, "n_train_max") != u.n_train_max;
        return number_or_nan(b, key);
      }
    return kNaN;
  });
  if (differs) return {"–", false, "the runs' " + u.name + " groups differ in their n_train range: not averaged"};
  return {v.empty() ? "–" : fixed(mean(v)), false, ""};
}

std::string user_group_label(const UserGroup& u) {
  if (!std::isfinite(u.n_train_min) || !std::isfinite(u.n_train_max)) return u.name;
  char range[64];
  std::snprintf(range, sizeof range, u.n_train_min == u.n_train_max ? " (%.0f)" : " (%.0f-%.0f)", u.n_train_min, u.n_train_max);
  return u.name + range;
}

Table group_table(const Grouped& g, const GroupOptions& o, ResultsCache& cache) {
  const std::string k = k_of(o.metrics);
  std::vector<UserGroup> users;
  std::vector<std::string> items;
  group_names(g, o, cache, users, items);
  Table t;
  if (users.empty() && items.empty()) return t;
  t.header = {"base model", "row"};
  for (const auto& u : users) t.header.push_back("R@" + k + " " + user_group_label(u));
  for (const auto& u : users) t.header.push_back("N@" + k + " " + user_group_label(u));
  for (const auto& i : items) t.header.push_back(i + " share@" + k);
  for (const auto& i : items) t.header.push_back(i + " R@" + k);
  std::string last_model;
  for_each_setting(g, [&](const Setting& s) {
    std::vector<TableCell> cells = {{s.model == last_model ? "" : s.model, false, ""}, {row_text(g, s), false, ""}};
    for (const char* metric : {"recall@", "ndcg@"})
      for (const auto& u : users) cells.push_back(user_group_mean(s, cache, o, u, metric + k));
    for (const char* metric : {"slot_share@", "recall@"})
      for (const auto& i : items) cells.push_back({group_mean(s, cache, o, "item_groups", "groups", i, metric + k), false, ""});
    t.separator_before.push_back(s.model != last_model);
    last_model = s.model;
    t.rows.push_back(cells);
  });
  return t;
}

// The user groups' lower n_train edges as the run recorded them (user_groups buckets' n_train_min).
std::vector<double> recorded_edges(const Setting& s, ResultsCache& cache, const std::string& split) {
  std::vector<double> lower;
  for (const auto& [seed, record] : s.by_seed) {
    if (!is_result(record) || !lower.empty()) continue;
    for (const json& b : group_list(locate(cache.get(record), split, "user_groups"), "buckets"))
      lower.push_back(number_or_nan(b, "n_train_min"));
  }
  if (std::any_of(lower.begin(), lower.end(), [](double v) { return !std::isfinite(v); })) lower.clear();
  return lower;
}

std::string group_label(const std::vector<double>& lower, size_t b, double largest) {
  char range[64];
  const double hi = b + 1 < lower.size() ? lower[b + 1] - 1 : largest;
  std::snprintf(range, sizeof range, lower[b] == hi ? " (%.0f)" : " (%.0f-%.0f)", lower[b], hi);
  return (b == 0 ? std::string("sparse") : "g" + std::to_string(b + 1)) + range;
}

// Each enhancer row's relative gain in `metric` over its base row per user group, one chart per
// (dataset, base model); "" when no row has per-user files.
std::string gain_chart(const Grouped& g, const GroupOptions& o, ResultsCache& cache, PerUserCache& per_user,
                       const std::string& d, const std::string& model, const std::string& metric) {
  const auto& rows = g.rows_of_model.at(model);
  BarChart c{d + " / " + model + ": " + metric + " gain over the base by user group", "relative gain (%)", {}, {}};
  std::vector<double> lower;
  double largest = 0;
  for (const auto& row : rows) {
    const Setting* a = is_base_row(row) ? nullptr : find_setting(g, d, model, row);
    const Setting* b = a ? find_setting(g, d, model, base_row_of(rows, row)) : nullptr;
    if (!a || !b || a == b) continue;
    const PairedUsers p = paired_users(*a, *b, metric, o.run_dir, per_user);
    if (!p.why_none.empty() || p.users.empty()) continue;
    if (lower.empty()) lower = recorded_edges(*b, cache, o.split);
    if (lower.empty()) lower = quantile_lower_edges(p.n_train, 4);
    largest = std::max(largest, *std::max_element(p.n_train.begin(), p.n_train.end()));
    c.series.push_back({row, relative_gain_by_group(p.a, p.b, p.n_train, lower)});
  }
  if (c.series.empty()) return "";
  for (size_t b = 0; b < lower.size(); ++b) c.categories.push_back(group_label(lower, b, largest));
  return render_bars(c);
}

std::string chart_slug(const std::string& d, const std::string& model) {
  std::string slug = "gain-" + d + "-" + model;
  for (char& ch : slug)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') ch = '_';
  return slug + ".svg";
}

const char* const kGroupsNote =
    "User groups: quantile buckets of the evaluation users' training interactions (the lowest is *sparse*); "
    "item groups: *head* = the most popular items that together hold the run's head share of the training "
    "interactions, *tail* = the rest; share = the group's part of all top-K slots, R = the recall of the "
    "group's ground-truth items. Means over each row's result seeds.";

}  // namespace

GroupSection group_section(const Grouped& g, const GroupOptions& o) {
  ResultsCache cache(o.run_dir);
  PerUserCache per_user(o.split, o.metrics);
  GroupSection out;
  const Table beyond = beyond_table(g, o, cache), groups = group_table(g, o, cache);
  const std::string none = "No run of this grid recorded them (runs from before these metrics, or not selected).";
  out.markdown = "\n## Beyond accuracy\n\n" + (beyond.rows.empty() ? none + "\n" : to_markdown(beyond));
  out.html = "<h2>Beyond accuracy</h2>\n" + (beyond.rows.empty() ? "<p class=\"note\">" + none + "</p>\n" : to_html(beyond, "beyond"));
  out.markdown += "\n## Groups\n\n" + (groups.rows.empty() ? none + "\n" : std::string(kGroupsNote) + "\n\n" + to_markdown(groups));
  out.html += "<h2>Groups</h2>\n" + (groups.rows.empty() ? "<p class=\"note\">" + none + "</p>\n"
                                                          : "<p class=\"note\">" + xml_escape(kGroupsNote) + "</p>\n" + to_html(groups, "groups"));
  std::string metric = o.metrics.empty() ? "recall@20" : o.metrics.front();
  for (const auto& m : o.metrics)
    if (m.rfind("recall@", 0) == 0) { metric = m; break; }
  std::string charts_md, charts_html;
  for (const auto& d : g.datasets)
    for (const auto& model : g.models)
      if (const std::string svg = gain_chart(g, o, cache, per_user, d, model, metric); !svg.empty()) {
        out.svgs.push_back({chart_slug(d, model), svg});
        charts_md += "![gain by user group](report/" + out.svgs.back().first + ") ";
        charts_html += "<figure>" + svg + "</figure>\n";
      }
  const std::string about = "Each enhancer row's relative gain in " + metric + " over its base row per user group, on the "
                            "seeds both ran and the users of both runs' per-user files.";
  out.markdown += "\n### Gain by user group\n\n" + (charts_md.empty() ? "No per-user files in these runs.\n" : about + "\n\n" + charts_md + "\n");
  out.html += "<h3>Gain by user group</h3>\n" + (charts_html.empty() ? std::string("<p class=\"note\">No per-user files in these runs.</p>\n")
                                                                     : "<p class=\"note\">" + xml_escape(about) + "</p>\n<div class=\"figs\">\n" + charts_html + "</div>\n");
  return out;
}

}  // namespace recgrid::report
