#!/usr/bin/env bash
# Would a cache-friendly node order make the step faster (issue 15)? Times LightGCN's training step
# (as bench/growth.sh: keep_rate 0.8, batch 4096) on the growth data under four numberings of the
# same users and items, alternated for ROUNDS rounds in one sitting:
#   given   the generator's numbering (random with respect to the graph);
#   degree  users and items by descending training degree (hub sorting);
#   intent  grouped by each node's true dominant intent (truth_*_mixture.npy), by degree within a
#           group: the best any clustering order can do on planted data, whose items are drawn
#           independently within an intent;
#   band    not the same graph: user u rated the 13 consecutive items from u * items / users (11 for
#           training), so consecutive rows gather nearly the same rows. The floor of perfect locality.
# Usage: bash bench/node-order.sh [SIZE] [ROUNDS] (default 100x 3). Needs bench/growth.sh's data
# ($RECGRID_GROWTH_DATA/SIZE; the variants are written beside it once) and jq.
# Measured results: docs/PERFORMANCE.md, "Growth", "Node order".
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/planted-lib.sh
bin=build/bin/recgrid
data="${RECGRID_GROWTH_DATA:-/var/tmp/recgrid-growth}"
size="${1:-100x}"
rounds="${2:-3}"
steps="${STEPS:-10}"
src="$data/$size"
[ -f "$src/settings.json" ] || { echo "node-order: no $src (run bash bench/growth.sh $size first)" >&2; exit 2; }
n_users=$(jq .users "$src/settings.json")
n_items=$(jq .items "$src/settings.json")
n_intents=$(jq .intents "$src/settings.json")

# new_ids COLUMN [GROUPS]: "old new" for the users (COLUMN 1) or items (2) of train.tsv: by group
# (when given), then descending degree, then old id. Nodes without training pairs come last.
new_ids() {
  local column=$1 groups=${2:-/dev/null} count=$3
  awk -v c="$column" -v n="$count" 'FILENAME == ARGV[1] { group[$1] = $2; next } { degree[$c]++ }
      END { for (i = 0; i < n; i++) print i, (i in group ? group[i] : 0), degree[i] + 0 }' \
      "$groups" FS='\t' "$src/train.tsv" |
    sort -k2,2n -k3,3nr -k1,1n | awk '{ print $1, NR - 1 }'
}

# relabel OUT [GROUPED]: the three splits of $src under the new numbering.
relabel() {
  local out=$1 user_groups=/dev/null item_groups=/dev/null
  mkdir -p "$out"
  if [ "${2:-}" = grouped ]; then
    user_groups="$out/user_groups" item_groups="$out/item_groups"
    dominant_intent "$src/truth_user_mixture.npy" "$n_intents" > "$user_groups"
    dominant_intent "$src/truth_item_mixture.npy" "$n_intents" > "$item_groups"
  fi
  new_ids 1 "$user_groups" "$n_users" > "$out/user_ids"
  new_ids 2 "$item_groups" "$n_items" > "$out/item_ids"
  for split in train valid test; do
    awk 'FILENAME == ARGV[1] { u[$1] = $2; next } FILENAME == ARGV[2] { it[$1] = $2; next }
         { print u[$1] "\t" it[$2] }' "$out/user_ids" "$out/item_ids" FS='\t' "$src/$split.tsv" > "$out/$split.tsv"
  done
  cp "$src/settings.json" "$out/"
}

band() {  # band OUT: the floor of perfect locality, same users, items and interactions per user
  mkdir -p "$1"
  awk -v U="$n_users" -v I="$n_items" -v out="$1" 'BEGIN {
    for (u = 0; u < U; u++) { b = int(u * I / U)
      for (j = 0; j < 13; j++) {
        split_ = j < 11 ? "train" : j == 11 ? "valid" : "test"
        print u "\t" (b + j) % I > (out "/" split_ ".tsv") } } }'
  cp "$src/settings.json" "$1/"
}

[ -f "$data/$size-degree/test.tsv" ] || relabel "$data/$size-degree"
[ -f "$data/$size-intent/test.tsv" ] || relabel "$data/$size-intent" grouped
[ -f "$data/$size-band/test.tsv" ] || band "$data/$size-band"

printf '| order | train interactions | s/step of each round, sorted | median | ns per edge |\n|---|---|---|---|---|\n'
declare -A times interactions
for ((round = 1; round <= rounds; round++)); do
  for variant in given degree intent band; do
    dir="$data/$size-$variant"
    [ "$variant" = given ] && dir="$src"
    read -r step n < <("$bin" bench --set dataset.format=tsv --set "dataset.path=$dir" --set model.name=lightgcn \
        --set train.batch_size=4096 --steps "$steps" 2>/dev/null | jq -r '[.median_step_s, .train_interactions] | @tsv')
    times[$variant]+="$step "
    interactions[$variant]=$n
  done
done
for variant in given degree intent band; do
  tr ' ' '\n' <<<"${times[$variant]}" | grep . | sort -g | awk -v v="$variant" -v n="${interactions[$variant]}" \
      '{ t[NR] = $1; all = all sprintf("%.2f ", $1) } END { m = t[int((NR + 1) / 2)]
         printf "| %s | %d | %s| %.3f | %.0f |\n", v, n, all, m, m / (2 * n) * 1e9 }'
done
