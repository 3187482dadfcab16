#!/usr/bin/env bash
# How RecGrid's cost grows (issue 15): LightGCN (keep_rate 0.8, batch 4096, this machine's cores) on
# planted data of amazon's shape at 1x, 10x and 100x (11,000 x 9,332; 110,000 x 93,320;
# 1,100,000 x 933,200 users x items, 13 interactions per user), one table:
#   size, interactions, median seconds per training step (STEPS steps after 2 warm-up steps), seconds
#   per epoch derived (steps x step time + the epoch's sampling), evaluation throughput (one
#   validation pass over EVAL_USERS users: full rank, every item scored), setup (load + graph +
#   model), peak RSS, nanoseconds per directed edge per step and its ratio to 1x.
# Generates the data once into $RECGRID_GROWTH_DATA (default /var/tmp/recgrid-growth; ~3 GB at 100x)
# and times `recgrid synth` then. Usage: bash bench/growth.sh [SIZES...] (default: 1x 10x 100x)
# Measured results: docs/PERFORMANCE.md, "Growth". Needs a build (bash scripts/setup.sh) and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bin/recgrid
data="${RECGRID_GROWTH_DATA:-/var/tmp/recgrid-growth}"
steps="${STEPS:-10}"
eval_users="${EVAL_USERS:-20480}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1x 10x 100x)
declare -A users=([1x]=11000 [10x]=110000 [100x]=1100000) items=([1x]=9332 [10x]=93320 [100x]=933200)
[ -x "$bin" ] || { echo "growth: no $bin (bash scripts/setup.sh first)" >&2; exit 2; }

make_data() {  # make_data SIZE: the planted data set, generated once (timed)
  local dir="$data/$1"
  [ -f "$dir/settings.json" ] && return 0
  mkdir -p "$data"
  /usr/bin/time -f "synth $1: %e s, peak %M KB" "$bin" synth --out "$dir" --users "${users[$1]}" \
      --items "${items[$1]}" --interactions-per-user 13 --seed 2023 >&2
}

printf '| size | users x items | train interactions | steps/epoch | s/step | s/epoch | eval (scores/s) | setup | peak RSS | ns per edge | vs 1x |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
base_ns=""
for size in "${sizes[@]}"; do
  [ -n "${users[$size]:-}" ] || { echo "growth: unknown size $size (1x, 10x, 100x)" >&2; exit 2; }
  make_data "$size"
  json=$("$bin" bench --set dataset.format=tsv --set "dataset.path=$data/$size" --set model.name=lightgcn \
         --set train.batch_size=4096 --steps "$steps" --eval-users "$eval_users" 2>/dev/null)
  read -r u i n spe step epoch rate setup rss < <(jq -r '[.users, .items, .train_interactions, .steps_per_epoch,
      .median_step_s, .epoch_s_estimate, .eval.scores_per_s, .setup_s, .peak_rss_mib] | @tsv' <<<"$json")
  ns=$(awk -v s="$step" -v n="$n" 'BEGIN { printf "%.0f", s / (2 * n) * 1e9 }')  # an edge each way per interaction
  [ -n "$base_ns" ] || base_ns=$ns
  awk -v size="$size" -v u="$u" -v i="$i" -v n="$n" -v spe="$spe" -v step="$step" -v epoch="$epoch" -v rate="$rate" \
      -v setup="$setup" -v rss="$rss" -v ns="$ns" -v base="$base_ns" 'BEGIN {
    printf "| %s | %d x %d | %d | %d | %.3f | %.1f | %.3f G | %.1f s | %.0f MiB | %d | %.2f |\n",
           size, u, i, n, spe, step, epoch, rate / 1e9, setup, rss, ns, ns / base }'
done
