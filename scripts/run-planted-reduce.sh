#!/usr/bin/env bash
# What does text.reduce_dim cost in accuracy? LightGCN + IRLLRec (paper preset) on the planted-intent
# dataset with informative text (snr 2) and 3072-wide profile and intent tables, trained on the full
# tables and on their top-N principal components, 3 seeds each. The interactions are the ones of
# scripts/run-planted.sh (the generator draws them before the tables), so its LightGCN cells are the
# baseline. Each cell trains in runs/planted-reduce/<cell>/ (resumable); its record is copied to
# results/planted-reduce/<cell>/ (committed) and recorded cells are skipped.
# Usage: [RECGRID=path/to/recgrid] [SEEDS="2023 2024 2025"] [DIMS="0 256 64"] scripts/run-planted-reduce.sh
#        [recgrid run options...]     (DIMS: 0 = the full 3072-wide tables)
set -euo pipefail
cd "$(dirname "$0")/.."
recgrid=${RECGRID:-./build/bin/recgrid}
mkdir -p runs/planted-reduce results/planted-reduce
for seed in ${SEEDS:-2023 2024 2025}; do
  for dim in ${DIMS:-0 256 64}; do
    cell="w3072-irllrec-r$dim-$seed" record="results/planted-reduce/w3072-irllrec-r$dim-$seed"
    if [ -f "$record/results.json" ]; then echo "== $cell: done"; continue; fi
    echo "== $cell: training in runs/planted-reduce/$cell"
    "$recgrid" run configs/experiments/planted-lightgcn-irllrec.yaml --out "runs/planted-reduce/$cell" --resume \
      --no-progress --set dataset.synthetic.profile_dim=3072 --set dataset.synthetic.intent_dim=3072 \
      --set text.reduce_dim=$dim --set train.seed=$seed "$@" > /dev/null 2>> runs/planted-reduce.log ||
      { echo "cell $cell failed: see runs/planted-reduce/$cell/log.txt"; exit 1; }
    mkdir -p "$record"
    cp "runs/planted-reduce/$cell"/{results.json,metrics.jsonl,config.yaml,log.txt} "$record/"
  done
done
