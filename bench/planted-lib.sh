# Shell helpers for the benchmarks on planted data (sourced by bench/node-order.sh and
# bench/planted-oracle.sh).

# dominant_intent FILE.npy INTENTS: "row intent" per row of a float32 [rows x INTENTS] .npy table
# (truth_user_mixture.npy, truth_item_mixture.npy of `recgrid synth`): the row's largest entry.
dominant_intent() {
  local header_len
  header_len=$(od -An -t u2 -j 8 -N 2 "$1" | tr -d ' ')  # .npy version 1: a 2-byte header length
  od -An -v -t f4 -w$(($2 * 4)) -j $((10 + header_len)) "$1" |
    awk '{ m = 1; for (i = 2; i <= NF; i++) if ($i > $m) m = i; print NR - 1, m - 1 }'
}
