#!/usr/bin/env bash
# Sets up, builds, and runs the main job on the embedded default: the built-in planted-intent dataset
# (configs/defaults.yaml, dataset.format: synthetic; nothing to download). It trains LightGCN (the
# built-in default configuration) and LightGCN + IRLLRec on the same data, each to early stopping,
# and prints their test metrics side by side. Runs live in runs/default and runs/default-irllrec:
# a rerun prints the finished results again, an interrupted one continues (--resume).
# Extra arguments go to both runs (e.g. --set train.threads=1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./build/bin/recgrid run --out runs/default --resume "$@"
./build/bin/recgrid run configs/experiments/planted-lightgcn-irllrec.yaml --out runs/default-irllrec --resume "$@"
echo
echo "planted-intent dataset, test split (the generator's settings: runs/default/config.yaml, dataset.synthetic)"
for run in default default-irllrec; do
  printf "  %-18s Recall@20 %.4f  NDCG@20 %.4f  (best epoch %s, %s s, status %s)\n" "$run" \
    "$(jq -r '.test["recall@20"]' runs/$run/results.json)" "$(jq -r '.test["ndcg@20"]' runs/$run/results.json)" \
    "$(jq -r .best_epoch runs/$run/results.json)" "$(jq -r '.wall_time_s | floor' runs/$run/results.json)" \
    "$(jq -r '.status // "ok"' runs/$run/results.json)"
done
