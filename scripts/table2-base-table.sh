#!/usr/bin/env bash
# The Table 2 base-row tables of docs/REPRODUCTION.md and docs/PERFORMANCE.md, from the committed
# records in results/table2-base/ and the paper's values in configs/reference/irllrec-table2.yaml.
# Usage: scripts/table2-base-table.sh   (needs jq)
set -euo pipefail
cd "$(dirname "$0")/.."
ref=configs/reference/irllrec-table2.yaml
paper() {  # DATASET MODEL COLUMN(1-based: 3 = R@20, 6 = N@20)
  awk -v ds="  $1:" -v row="    $2:" -v col="$3" '
    $0 == ds { inside = 1; next }
    /^  [a-z]/ { inside = 0 }
    inside && index($0, row) == 1 { gsub(/[][,]/, " "); split(substr($0, length(row) + 1), v, " "); print v[col] }' "$ref"
}
rel() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f %%", 100 * (a - b) / b }'; }
echo "| cell | R@20 | paper | diff | N@20 | paper | diff | best / run epochs | wall | command |"
echo "|---|---|---|---|---|---|---|---|---|---|"
perf="| cell | s / epoch (median) | validation pass | peak RSS |\n|---|---|---|---|\n"
for d in amazon yelp movie; do
  for m in lightgcn sgl simgcl dccf bigcf; do
    r="results/table2-base/$m-$d/results.json"
    if [ ! -f "$r" ]; then echo "| $m-$d | (not run yet) | | | | | | | | \`scripts/run-table2-base.sh $m\` |"; continue; fi
    R=$(jq -r '.test["recall@20"]' "$r") N=$(jq -r '.test["ndcg@20"]' "$r")
    pR=$(paper "$d" "$m" 3) pN=$(paper "$d" "$m" 6)
    printf "| %s | %.4f | %s | %s | %.4f | %s | %s | %s / %s | %.0f min | \`recgrid run configs/experiments/%s.yaml\` |\n" \
      "$m-$d" "$R" "$pR" "$(rel "$R" "$pR")" "$N" "$pN" "$(rel "$N" "$pN")" "$(jq -r .best_epoch "$r")" \
      "$(jq -r .epochs_run "$r")" "$(jq -r '.wall_time_s / 60' "$r")" "$m-$d"
    perf+=$(printf "| %s | %.2f s | %.2f s | %.0f MiB |" "$m-$d" "$(jq -r .median_epoch_train_s "$r")" \
      "$(jq -r .median_eval_s "$r")" "$(jq -r .peak_rss_mib "$r")")"\n"
  done
done
echo
printf "%b" "$perf"
