#!/usr/bin/env bash
# Two model-free references for Recall@20 on the validation split of planted data (issue 15), to read
# a model's number against:
#   popularity         every user gets the most-rated training items they have not rated themselves;
#   intent popularity  the most-rated items among the users who share the user's dominant true intent
#                      (truth_user_mixture.npy): it knows what no model is told.
# Usage: bash bench/planted-oracle.sh DIR (a `recgrid synth` folder, e.g. /var/tmp/recgrid-growth/10x;
# ~1 min at 10x). Measured results: docs/PERFORMANCE.md, "Batch size".
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/planted-lib.sh
dir=${1:?usage: bash bench/planted-oracle.sh DIR}
n_intents=$(jq .intents "$dir/settings.json")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dominant_intent "$dir/truth_user_mixture.npy" "$n_intents" > "$tmp/groups"

# Each intent's (and, as intent -1, everyone's) 100 most-rated items: "intent item rank". A user rated
# 11 training items at most (13 per user), so 100 leave at least 20 unrated ones.
awk 'FILENAME == ARGV[1] { group[$1] = $2; next }
     { all[$2]++; within[group[$1] " " $2]++ }
     END { for (i in all) print -1, i, all[i]; for (k in within) print k, within[k] }' \
    "$tmp/groups" FS='\t' "$dir/train.tsv" |
  sort -k1,1n -k3,3nr -k2,2n | awk '$1 != last { last = $1; rank = 0 } ++rank <= 100 { print $1, $2, rank }' > "$tmp/top"

awk 'FILENAME == ARGV[1] { top[$1 " " $3] = $2; next }
     FILENAME == ARGV[2] { group[$1] = $2; next }
     FILENAME == ARGV[4] { rated[$1 " " $2] = 1; next }
     { wanted[$1 " " $2] = 1; n_wanted[$1]++ }
     function recall(u, g,    r, i, taken, hits) {
       for (r = 1; taken < 20 && (g " " r) in top; r++) {
         i = top[g " " r]
         if ((u " " i) in rated) continue
         taken++
         if ((u " " i) in wanted) hits++
       }
       return hits / n_wanted[u]
     }
     END { for (u in n_wanted) { users++; pop += recall(u, -1); intent += recall(u, group[u]) }
           printf "users %d  popularity R@20 %.4f  intent popularity R@20 %.4f\n", users, pop / users, intent / users }' \
    "$tmp/top" "$tmp/groups" FS='\t' "$dir/train.tsv" "$dir/valid.tsv"
