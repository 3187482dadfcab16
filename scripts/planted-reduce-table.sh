#!/usr/bin/env bash
# The text.reduce_dim table of docs/PLANTED.md from results/planted-reduce/ (scripts/run-planted-reduce.sh)
# and the LightGCN baseline cells of results/planted/ (same interactions). Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
field() { jq -r "$2" "$1/results.json"; }
echo "| tables | seed | test R@20 | test N@20 | best epoch | s / epoch | setup |"
echo "|---|---|---|---|---|---|---|"
for dim in 0 256 64; do
  for d in results/planted-reduce/w3072-irllrec-r$dim-[0-9]*/; do
    [ -f "$d/results.json" ] || continue
    cell=$(basename "$d") seed=${cell##*-}
    label="3072 wide (full)"; [ "$dim" != 0 ] && label="PCA to $dim"
    printf "| %s | %s | %.4f | %.4f | %s | %.2f | %.1f s |\n" "$label" "$seed" "$(field "$d" '.test["recall@20"]')" \
      "$(field "$d" '.test["ndcg@20"]')" "$(field "$d" .best_epoch)" "$(field "$d" .median_epoch_train_s)" \
      "$(field "$d" .setup_time_s)"
  done
done
echo
echo "| LightGCN + IRLLRec on | test R@20 (mean of seeds) | vs full tables | vs LightGCN (same seeds) | s / epoch (median of cells) |"
echo "|---|---|---|---|---|"
full=""
for dim in 0 256 64; do
  rs=() bs=() ts=()
  for d in results/planted-reduce/w3072-irllrec-r$dim-[0-9]*/; do
    [ -f "$d/results.json" ] || continue
    cell=$(basename "$d") seed=${cell##*-}
    rs+=("$(field "$d" '.test["recall@20"]')") ts+=("$(field "$d" .median_epoch_train_s)")
    bs+=("$(field "results/planted/informative-lightgcn-$seed" '.test["recall@20"]')")
  done
  [ ${#rs[@]} -gt 0 ] || continue
  m=$(printf "%s\n" "${rs[@]}" | awk '{ s += $1 } END { printf "%.4f", s / NR }')
  b=$(printf "%s\n" "${bs[@]}" | awk '{ s += $1 } END { printf "%.4f", s / NR }')
  t=$(printf "%s\n" "${ts[@]}" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')
  [ "$dim" = 0 ] && full=$m
  vs_full="—"; [ -n "$full" ] && [ "$dim" != 0 ] && vs_full=$(awk -v a="$m" -v b="$full" 'BEGIN { printf "%+.1f %%", 100 * (a - b) / b }')
  vs_base=$(awk -v a="$m" -v b="$b" 'BEGIN { printf "%+.1f %%", 100 * (a - b) / b }')
  label="full 3072-wide tables"; [ "$dim" != 0 ] && label="text.reduce_dim: $dim"
  echo "| $label (${#rs[@]} seeds) | $m | $vs_full | $vs_base | $t |"
done
