// Report tables as rows of cells, rendered to Markdown or HTML, and the number formats they use.
#pragma once

#include <string>
#include <vector>

namespace recgrid::report {

struct TableCell {
  std::string text;
  bool bold = false;
  std::string note;  // HTML title (a tooltip): p-values and the like
};
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<TableCell>> rows;
  std::vector<bool> separator_before;  // a rule above this row (a new base-model group)
};

// The first two columns are left-aligned labels, the rest right-aligned numbers.
std::string to_markdown(const Table& t);
std::string to_html(const Table& t, const std::string& css_class);

// v with `digits` decimals; "–" for NaN or infinity.
std::string fixed(double v, int digits = 4);
// "mean ± sample std" of seeds' values (one value alone; "–" for none).
std::string mean_std(const std::vector<double>& v);
// recall@20 -> R@20, ndcg@20 -> N@20.
std::string short_metric(const std::string& m);

}  // namespace recgrid::report
