#!/usr/bin/env bash
# What successive halving would have chosen, replayed on a random search's trials (issue 18).
# A random search trains every trial the whole budget and logs validation every few epochs; a halving
# trial paused at a rung and continued gives the numbers of an unpaused run (test
# Search.APausedRunContinuedRungByRungEqualsOneUnpausedRun), so its rung values are the best
# validation metric logged before each rung's epoch in the random search's metrics.jsonl: the replay
# is exact, with the rules of core/src/grid/search_runner.cpp (a rung keeps max(1, n / reduction^k)
# trials, ties to the lower trial number; the best of the last rung is chosen).
# Usage: bash bench/halving-replay.sh ROW_DIR EPOCHS [METRIC] -- [MIN_EPOCHS:REDUCTION ...]
#   ROW_DIR: OUT/search/<row> of a `method: random` search. Default schedules: min 3..20 x reduction 2, 3.
#   EPOCHS: the horizon, or `auto` for a search with `epochs: auto` (its search.json's horizon). Trials
#   that early stopping ended before a rung carry their result up, as in the runner, and spend only
#   the epochs they ran; with `auto` trial 0's whole run to early stopping is spent.
# Prints, per schedule, the rungs, the chosen trial, its metric, its gap to random search's best, and
# the epochs spent against random search's. Needs jq.
set -euo pipefail
row="$1"; epochs="$2"; metric="${3:-recall@20}"
shift 3 2>/dev/null || shift $#
[ "${1:-}" = "--" ] && shift
schedules=("$@")
converged0=0
if [ "$epochs" = auto ]; then
  epochs=$(jq -r '.horizon.epochs' "$row/search.json")
  converged0=$(jq -r '.trials[0].converged.epochs_run // 0' "$row/search.json")
fi
if [ ${#schedules[@]} -eq 0 ]; then
  for r in 2 3; do for m in 3 4 5 6 7 8 10 12 15 20; do schedules+=("$m:$r"); done; done
fi
# Per trial: its validations ("k epoch value"), then "R k epochs_run" (the most of its rung files'
# epochs_run and its last validated epoch + 1: early stopping ends a run on a validation).
curves=$(for t in "$row"/trial-*/; do
  k=$((10#$(basename "$t" | cut -d- -f2)))
  jq -r --arg m "$metric" --arg k "$k" 'select(.valid != null) | "\($k) \(.epoch) \(.valid[$m])"' "$t/metrics.jsonl"
  run=$(jq -s 'map(.epoch) | max + 1' "$t/metrics.jsonl")
  for r in "$t"/rung-*.json; do [ -e "$r" ] && run=$(( $(jq '.epochs_run' "$r") > run ? $(jq '.epochs_run' "$r") : run )); done
  echo "R $k $run"
done)
for s in "${schedules[@]}"; do
  awk -v epochs="$epochs" -v min="${s%%:*}" -v red="${s##*:}" -v row="$(basename "$row")" -v conv0="$converged0" '
    $1 == "R" { run[$2] = $3; next }
    { n = ($1 + 1 > n) ? $1 + 1 : n; ++m; ep[m] = $2; tr[m] = $1; val[m] = $3 }
    function best_before(t, e,   i, b) { b = -1; for (i = 1; i <= m; ++i) if (tr[i] == t && ep[i] < e && val[i] > b) b = val[i]; return b }
    function upto(t, e) { return run[t] < e ? run[t] : e }
    END {
      nr = 0; for (e = min; e < epochs; e *= red) rung[nr++] = e; rung[nr++] = epochs
      for (t = 0; t < n; ++t) member[t] = 1
      keep = n; spent = 0
      for (j = 0; j < nr; ++j) {
        if (j > 0) {  # keep the best max(1, n / red^j) of rung j-1, ties to the lower trial
          keep = int(keep / red); if (keep < 1) keep = 1
          delete next_member; taken = 0
          while (taken < keep) {
            bt = -1; bv = -2
            for (t = 0; t < n; ++t) if (member[t] && !(t in next_member) && best_before(t, rung[j - 1]) > bv) { bt = t; bv = best_before(t, rung[j - 1]) }
            next_member[bt] = 1; ++taken
          }
          for (t = 0; t < n; ++t) member[t] = (t in next_member)
        }
        for (t = 0; t < n; ++t) if (member[t]) { spent += upto(t, rung[j]) - (j ? upto(t, rung[j - 1]) : 0); reached[t] = rung[j] }
      }
      if (conv0 > 0) spent += conv0 - upto(0, reached[0])  # auto: trial 0 ran to early stopping first
      random = 0; for (t = 0; t < n; ++t) random += upto(t, epochs); if (conv0 > 0) random += conv0 - upto(0, epochs)
      ct = -1; cv = -2; rt = -1; rv = -2
      for (t = 0; t < n; ++t) {
        v = best_before(t, epochs)
        if (member[t] && v > cv) { ct = t; cv = v }
        if (v > rv) { rt = t; rv = v }
      }
      rs = ""; for (j = 0; j < nr; ++j) rs = rs (j ? "," : "") rung[j]
      printf "%s min %d reduction %d: rungs %s; trial %d %.4f (%+.1f %% vs random trial %d %.4f); %d epochs (%.0f %% of %d)\n",
             row, min, red, rs, ct, cv, 100 * (cv / rv - 1), rt, rv, spent, 100 * spent / random, random
    }' <<<"$curves"
done
