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
# Prints, per schedule, the rungs, the chosen trial, its metric, its gap to random search's best, and
# the epochs spent against random search's. Needs jq.
set -euo pipefail
row="$1"; epochs="$2"; metric="${3:-recall@20}"
shift 3 2>/dev/null || shift $#
[ "${1:-}" = "--" ] && shift
schedules=("$@")
if [ ${#schedules[@]} -eq 0 ]; then
  for r in 2 3; do for m in 3 4 5 6 7 8 10 12 15 20; do schedules+=("$m:$r"); done; done
fi
curves=$(for t in "$row"/trial-*/; do
  k=$(basename "$t" | cut -d- -f2)
  jq -r --arg m "$metric" --arg k "$((10#$k))" 'select(.valid != null) | "\($k) \(.epoch) \(.valid[$m])"' "$t/metrics.jsonl"
done)
for s in "${schedules[@]}"; do
  awk -v epochs="$epochs" -v min="${s%%:*}" -v red="${s##*:}" -v row="$(basename "$row")" '
    { n = ($1 + 1 > n) ? $1 + 1 : n; ep[NR] = $2; tr[NR] = $1; val[NR] = $3 }
    function best_before(t, e,   i, b) { b = -1; for (i = 1; i <= NR; ++i) if (tr[i] == t && ep[i] < e && val[i] > b) b = val[i]; return b }
    END {
      nr = 0; for (e = min; e < epochs; e *= red) rung[nr++] = e; rung[nr++] = epochs
      for (t = 0; t < n; ++t) member[t] = 1
      keep = n; spent = 0; prev = 0
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
        c = 0; for (t = 0; t < n; ++t) c += member[t]
        spent += c * (rung[j] - prev); prev = rung[j]
      }
      ct = -1; cv = -2; rt = -1; rv = -2
      for (t = 0; t < n; ++t) {
        v = best_before(t, epochs)
        if (member[t] && v > cv) { ct = t; cv = v }
        if (v > rv) { rt = t; rv = v }
      }
      rs = ""; for (j = 0; j < nr; ++j) rs = rs (j ? "," : "") rung[j]
      printf "%s min %d reduction %d: rungs %s; trial %d %.4f (%+.1f %% vs random trial %d %.4f); %d epochs (%.0f %% of %d)\n",
             row, min, red, rs, ct, cv, 100 * (cv / rv - 1), rt, rv, spent, 100 * spent / (n * epochs), n * epochs
    }' <<<"$curves"
done
