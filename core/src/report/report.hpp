// `recgrid report RUN_DIR`: the results of a grid as people read them.
//
//   RUN_DIR/report.md     Table 2 layout (per base model: the base row, one row per enhancer stack,
//                         an "Improv." row), mean ± std over seeds; the Significance section
//                         (per-user paired tests, bootstrap intervals, Holm/BH over the report, the
//                         seed-level t-test); beyond-accuracy and group tables, the gain-by-group chart;
//                         the comparison with a reference table; curves as SVG files
//   RUN_DIR/report.html   the same, self-contained (inline CSS and SVG, no scripts)
//   RUN_DIR/results.csv   the flat records, one line per cell
//   RUN_DIR/report/       the SVG charts the Markdown links to
#pragma once

#include <string>
#include <vector>

namespace recgrid::report {

struct ReportOptions {
  std::string run_dir;
  std::string reference;  // a reference table (configs/reference/*.yaml); "" = none
  // The enhancer stack the "Improv." rows are about (the paper's method by default); no row for a
  // grid without it, or with "none".
  std::string highlight = "irllrec";
  std::vector<std::string> metrics = {"recall@20", "ndcg@20"};
  std::string split = "test";  // test | valid
  // The significance family (significance.hpp): the per-user test that is corrected (t | wilcoxon) and
  // the correction over every comparison of the report (holm | bh).
  std::string test = "t";
  std::string correction = "holm";
};

struct ReportFiles {
  std::string markdown, html, csv;
  int records = 0;
};

ReportFiles write_report(const ReportOptions& options);

}  // namespace recgrid::report
