#!/usr/bin/env bash
# Speed of one LightGCN training epoch on amazon (30 steps of 4096, negative sampling included) and
# of one full validation pass (9,857 users x 9,332 items, top-20), as measured inside the run:
# medians over EPOCHS epochs, each followed by a validation (train.test_step=1).
# Usage: bench/lightgcn_amazon_speed.sh [EPOCHS] [extra recgrid args...]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-20}"
shift || true
out="$(mktemp -d)/bench"
./build/bin/recgrid run configs/experiments/lightgcn-amazon.yaml --no-progress --out "$out" \
  --set train.epochs="$epochs" --set train.test_step=1 --set train.patience=1000 "$@" > /dev/null 2>&1
grep -E '"(median_epoch_train_s|median_eval_s|peak_rss_mib|threads)"' "$out/results.json"
rm -rf "$(dirname "$out")"
