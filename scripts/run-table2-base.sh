#!/usr/bin/env bash
# The base rows of the paper's Table 2: 5 base models x 3 datasets.
# Each cell trains in runs/table2-base/<model>-<dataset>/ (checkpointed: an interrupted cell resumes)
# and, once finished, its record (results.json, metrics.jsonl, config.yaml, log.txt) is copied to
# results/table2-base/<model>-<dataset>/, which is committed. A cell with a committed record is
# skipped, so the grid can be finished over several sittings and machines.
# Usage: [DATASETS="amazon yelp"] [RECGRID=path/to/recgrid] scripts/run-table2-base.sh [MODEL...]
# (default: all five models on all three datasets; RECGRID defaults to build/bin/recgrid: point it at an
# installed copy to keep rebuilding build/ while the grid runs).
set -euo pipefail
cd "$(dirname "$0")/.."
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(lightgcn sgl simgcl dccf bigcf)
mkdir -p runs results/table2-base
for m in "${models[@]}"; do
  for d in ${DATASETS:-amazon yelp movie}; do
    cell="$m-$d" record="results/table2-base/$m-$d"
    if [ -f "$record/results.json" ]; then
      echo "== $cell: done (recorded in $record)"
      continue
    fi
    echo "== $cell: training in runs/table2-base/$cell"
    "${RECGRID:-./build/bin/recgrid}" run "configs/experiments/$cell.yaml" --out "runs/table2-base/$cell" --resume --no-progress \
      > /dev/null 2>> runs/table2-base.log || { echo "cell $cell failed: see runs/table2-base/$cell/log.txt"; exit 1; }
    mkdir -p "$record"
    cp "runs/table2-base/$cell"/{results.json,metrics.jsonl,config.yaml,log.txt} "$record/"
    sed -n '/"test"/,/}/p' "$record/results.json" | grep -E '"(recall|ndcg)@20"'  # test metrics
  done
done
