#!/usr/bin/env bash
# Every base model and every text enhancer at 10x (issue 15, items 2 and 3): on the planted data of
# bench/growth.sh (10x: 110,000 x 93,320, 1.14 M training interactions; 64-wide profile tables,
# 128-wide intent tables, written by `recgrid synth`), batch 4096, this machine's cores, each model's
# and enhancer's preset. One row per stack: median seconds per training step (STEPS steps after WARMUP
# warm-up steps, default 5 and 2), seconds per epoch derived, validation throughput (with
# `-- --eval-users N`: one pass over N users, every item scored), setup (load + graph + model) and
# peak RSS. A stack is MODEL or MODEL+ENHANCER. Extra options after `--` go to every run, e.g.
#   bash bench/stacks-growth.sh 10x lightgcn+irllrec -- --set enhancer.irllrec.translation_keys=4096
# Usage: bash bench/stacks-growth.sh [SIZE] [STACKS...] [-- SETS...]
#   SIZE: 1x, 10x (default) or 100x. STACKS default: the five base models, then LightGCN with each
#   enhancer (rlmrec_con rlmrec_gen kar alpharec irllrec irllrec-ref).
# Measured results: docs/PERFORMANCE.md, "Growth". Needs a build (bash scripts/setup.sh), jq, and the
# data of bench/growth.sh (run it once for the size, or it is generated here the same way).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bin/recgrid
data="${RECGRID_GROWTH_DATA:-/var/tmp/recgrid-growth}"
steps="${STEPS:-5}"
warmup="${WARMUP:-2}"
size="${1:-10x}"
[ $# -gt 0 ] && shift
stacks=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do stacks+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
extra=("$@")
[ ${#stacks[@]} -gt 0 ] || stacks=(lightgcn sgl simgcl dccf bigcf lightgcn+rlmrec_con lightgcn+rlmrec_gen lightgcn+kar
                                  lightgcn+alpharec lightgcn+irllrec lightgcn+irllrec-ref)
[ -x "$bin" ] || { echo "stacks-growth: no $bin (bash scripts/setup.sh first)" >&2; exit 2; }
[ -f "$data/$size/settings.json" ] || bash bench/growth.sh "$size" >/dev/null

printf '| stack | s/step | steps/epoch | s/epoch | eval (scores/s) | setup | peak RSS |\n|---|---|---|---|---|---|---|\n'
for stack in "${stacks[@]}"; do
  cfg=$(mktemp --suffix=.yaml)
  {
    model=${stack%%+*}
    if [ "$model" = "$stack" ]; then echo "extends: {model: $model}"; else echo "extends: {model: $model, enhancers: ${stack#*+}}"; fi
    echo "dataset: {name: planted-$size, format: tsv, path: $data/$size, text_dir: $data/$size,"
    echo "  text: {profile_user: profile_user.npy, profile_item: profile_item.npy, intent_user: intent_user.npy,"
    echo "         intent_item: intent_item.npy}}"
    echo "train: {batch_size: 4096}"
  } > "$cfg"
  if json=$("$bin" bench "$cfg" --steps "$steps" --warmup "$warmup" "${extra[@]}" 2>"$cfg.err"); then
    jq -r --arg s "$stack" '"| \($s) | \(.median_step_s * 1000 | round / 1000) | \(.steps_per_epoch) | \(.epoch_s_estimate | round) | \(if .eval then "\(.eval.scores_per_s / 1e7 | round / 100) G" else "-" end) | \(.setup_s * 10 | round / 10) s | \(.peak_rss_mib | round) MiB |"' <<<"$json"
  else
    echo "| $stack | failed: $(tail -1 "$cfg.err") | | | | | |"
  fi
  rm -f "$cfg" "$cfg.err"
done
