#!/usr/bin/env bash
# The base rows of the paper's Table 2: 5 base models x 3 datasets, one run folder per cell under
# runs/table2-base/. Resumable: a finished cell is skipped (its results are printed again), an
# interrupted one continues from its checkpoint. Run it again after a stop until every cell is done.
# Usage: scripts/run-table2-base.sh [MODEL...]   (default: all five)
set -euo pipefail
cd "$(dirname "$0")/.."
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(lightgcn sgl simgcl dccf bigcf)
for m in "${models[@]}"; do
  for d in amazon yelp movie; do
    echo "== $m / $d"
    ./build/bin/recgrid run "configs/experiments/$m-$d.yaml" --out "runs/table2-base/$m-$d" --resume --no-progress \
      > /dev/null 2>> "runs/table2-base.log" || { echo "cell $m-$d failed: see runs/table2-base/$m-$d/log.txt"; exit 1; }
    sed -n '/"test"/,/}/p' "runs/table2-base/$m-$d/results.json" | grep -E '"(recall|ndcg)@20"'  # test metrics
  done
done
