#!/usr/bin/env bash
# The table of docs/PLANTED.md from the records in results/planted/ (needs jq).
set -euo pipefail
cd "$(dirname "$0")/.."
metric() { jq -r ".test[\"$2\"]" "results/planted/$1/results.json"; }
echo "| text | model | seed | test R@20 | test N@20 | best epoch | s / epoch |"
echo "|---|---|---|---|---|---|---|"
for text in informative noise; do
  for model in lightgcn lightgcn-irllrec; do
    for d in results/planted/$text-$model-[0-9]*/; do
      cell=$(basename "$d") seed=${cell##*-}
      [ -f "$d/results.json" ] || continue
      printf "| %s | %s | %s | %.4f | %.4f | %s | %.2f |\n" "$text" "$model" "$seed" "$(metric "$cell" recall@20)" \
        "$(metric "$cell" ndcg@20)" "$(jq -r .best_epoch "$d/results.json")" "$(jq -r .median_epoch_train_s "$d/results.json")"
    done
  done
done
echo
echo "| text | LightGCN R@20 (mean of seeds) | + IRLLRec R@20 | relative | seeds where + IRLLRec > LightGCN |"
echo "|---|---|---|---|---|"
for text in informative noise; do
  base=() irl=() wins=0 n=0
  for d in results/planted/$text-lightgcn-[0-9]*/; do
    seed=$(basename "$d"); seed=${seed##*-}
    [ -f "results/planted/$text-lightgcn-irllrec-$seed/results.json" ] || continue
    b=$(metric "$text-lightgcn-$seed" recall@20) i=$(metric "$text-lightgcn-irllrec-$seed" recall@20)
    base+=("$b") irl+=("$i") n=$((n + 1))
    awk -v i="$i" -v b="$b" 'BEGIN { exit !(i > b) }' && wins=$((wins + 1))
  done
  [ "$n" -gt 0 ] || continue
  mb=$(printf "%s\n" "${base[@]}" | awk '{ s += $1 } END { printf "%.4f", s / NR }')
  mi=$(printf "%s\n" "${irl[@]}" | awk '{ s += $1 } END { printf "%.4f", s / NR }')
  rel=$(awk -v i="$mi" -v b="$mb" 'BEGIN { printf "%+.1f %%", 100 * (i - b) / b }')
  echo "| $text | $mb | $mi | $rel | $wins of $n |"
done
