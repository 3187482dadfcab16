// The "Tuning" section of a grid report, from OUT/search/<row>/search.json (grid/search_runner.hpp)
// and the tuned cells' records (results.jsonl): where the horizon was and why; per searched row the
// method, the budget it was given and what it spent, the values it chose with their validation
// metric, trial 0's (the configured values, at convergence with epochs: auto), the chosen trial and
// the tuned seeds' mean against it; marks (with footnotes that say what to change) for a choice cut
// short (†: still improving at its last rung) and a row that tuning made worse (↓); and a chart of
// the best validation metric against the epochs spent.
#pragma once

#include <string>

namespace recgrid::report {

struct SearchSection {
  bool present = false;  // the grid had a search
  std::string markdown;  // the section, with the chart linked as report/search.svg
  std::string html;      // the section, with the chart inline
  std::string svg;       // the chart
};

SearchSection search_section(const std::string& run_dir);

}  // namespace recgrid::report
