#!/usr/bin/env bash
# Records the tuned baselines grid (configs/grids/table2-baselines.yaml) in results/table2-baselines/
# and reports it beside the recorded Table 2 base rows (results/table2-base/), baselines first:
#   results/table2-baselines/results.jsonl, search/<row>/search.json, report.md   the grid alone
#   results/table2-baselines/with-base/results.jsonl, report.md                  + the 15 base rows
# Usage: scripts/table2-baselines-record.sh [GRID_DIR=runs/table2-baselines] [BUILD_DIR=build]   (needs jq)
set -euo pipefail
cd "$(dirname "$0")/.."
grid="${1:-runs/table2-baselines}"
recgrid="${2:-build}/bin/recgrid"
out=results/table2-baselines
mkdir -p "$out/with-base"
cp "$grid/results.jsonl" "$out/results.jsonl"
for s in "$grid"/search/*/search.json; do
  row="$(basename "$(dirname "$s")")"
  mkdir -p "$out/search/$row"
  cp "$s" "$out/search/$row/search.json"
done
"$recgrid" report "$out" --highlight none > /dev/null
# The base rows' records, as a grid would have written them (their cells ran through scripts/run-table2-base.sh).
{
  cat "$out/results.jsonl"
  for r in results/table2-base/*/results.json; do
    jq -c '{grid: "table2-base", cell: (.model + "-" + .dataset), dataset, model, enhancers, seed, status,
            valid, test, best_epoch, epochs_run, stopped_by, wall_time_s, median_epoch_train_s, median_eval_s,
            peak_rss_mib, threads} | with_entries(select(.value != null))' "$r"
  done
} > "$out/with-base/results.jsonl"
"$recgrid" report "$out/with-base" --highlight none --reference configs/reference/irllrec-table2.yaml > /dev/null
echo "wrote $out/report.md and $out/with-base/report.md"
