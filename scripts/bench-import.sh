#!/usr/bin/env bash
# Benchmark of `recgrid data import` (issue 14: 10 million interactions with string ids imported,
# 5-core filtered and split in under 60 s and 4 GiB). Generates the file (500,000 users, 100,000 items
# skewed toward low ids, ratings 1-5, increasing timestamps) and its gzip copy once in DIR, then times
# the import of each.
# Usage: bash scripts/bench-import.sh [DIR=/tmp/recgrid-bench-import] [INTERACTIONS=10000000]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-/tmp/recgrid-bench-import}"
n="${2:-10000000}"
mkdir -p "$dir"
if [ ! -f "$dir/ratings-$n.csv" ]; then
  awk -v n="$n" 'BEGIN {
    srand(5); print "user,item,rating,timestamp"
    for (k = 0; k < n; ++k) {
      a = int(rand() * 100000); b = int(rand() * 100000)
      printf "user_%07d,item_%06d,%d,%d\n", int(rand() * 500000), (a < b ? a : b), 1 + int(rand() * 5), 1500000000 + k
    }
  }' > "$dir/ratings-$n.csv"
fi
[ -f "$dir/ratings-$n.csv.gz" ] || gzip -1 -c "$dir/ratings-$n.csv" > "$dir/ratings-$n.csv.gz"
for input in "$dir/ratings-$n.csv" "$dir/ratings-$n.csv.gz"; do
  rm -rf "$dir/out"
  /usr/bin/time -f "import $(basename "$input"): %e s wall, %M KiB peak RSS" ./build/bin/recgrid data import "$input" \
    --out "$dir/out" --kcore 5
done
