#!/usr/bin/env bash
# Does IRLLRec use informative text, and does it survive useless text? LightGCN vs LightGCN + IRLLRec
# on the built-in planted-intent dataset, with informative text tables (snr 2) and pure-noise tables
# (snr 0), 3 seeds each: 12 cells. Each cell trains in runs/planted/<cell>/ (resumable) and its record
# is copied to results/planted/<cell>/ (committed); recorded cells are skipped. Then
# scripts/planted-table.sh prints the table of docs/PLANTED.md.
# Usage: [RECGRID=path/to/recgrid] [SEEDS="2023 2024 2025"] [TEXTS="informative noise"] scripts/run-planted.sh
#        [recgrid run options...]
# (e.g. --set train.threads=1 to share the machine; the options are part of each cell's config)
set -euo pipefail
cd "$(dirname "$0")/.."
recgrid=${RECGRID:-./build/bin/recgrid}
mkdir -p runs/planted results/planted
for text in ${TEXTS:-informative noise}; do
  snr=2.0
  [ "$text" = noise ] && snr=0.0
  for seed in ${SEEDS:-2023 2024 2025}; do
    for model in lightgcn lightgcn-irllrec; do
      cell="$text-$model-$seed" record="results/planted/$text-$model-$seed"
      if [ -f "$record/results.json" ]; then echo "== $cell: done"; continue; fi
      echo "== $cell: training in runs/planted/$cell"
      "$recgrid" run "configs/experiments/planted-$model.yaml" --out "runs/planted/$cell" --resume --no-progress \
        --set dataset.synthetic.snr=$snr --set train.seed=$seed "$@" > /dev/null 2>> runs/planted.log ||
        { echo "cell $cell failed: see runs/planted/$cell/log.txt"; exit 1; }
      mkdir -p "$record"
      cp "runs/planted/$cell"/{results.json,metrics.jsonl,config.yaml,log.txt} "$record/"
    done
  done
done
bash scripts/planted-table.sh
