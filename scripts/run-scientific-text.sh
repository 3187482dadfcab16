#!/usr/bin/env bash
# The text side end to end on the data root's scientific dataset (docs/TEXT.md): offline text tables (TF-IDF + SVD, 256 wide)
# into data/text/scientific, the text-only ranking check, then the grid LightGCN vs + RLMRec-Con vs
# + IRLLRec (3 seeds, resumable) and its report. docs/TEXT.md records the results.
# Usage: [RECGRID=path/to/recgrid] scripts/run-scientific-text.sh [recgrid run options, e.g. --jobs 2]
set -euo pipefail
cd "$(dirname "$0")/.."
recgrid=${RECGRID:-./build/bin/recgrid}
data=${RECGRID_DATA_ROOT:-../shared/data}/scientific
[ -f data/text/scientific/profile_item.npy ] || "$recgrid" text build --data "$data" --out data/text/scientific
"$recgrid" text check --data "$data" --tables data/text/scientific
"$recgrid" run configs/grids/scientific-text.yaml --no-progress "$@"
"$recgrid" report runs/scientific-text --highlight irllrec
