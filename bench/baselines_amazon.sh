#!/usr/bin/env bash
# Fit time and peak memory of each baseline (plugins/baselines) on amazon (11,000 users x 9,332 items,
# 120,464 training interactions), 2 threads, RUNS runs each: `recgrid run` under /usr/bin/time -v.
# Prints one line per run: model, fit seconds (fit_time_s of results.json: the fit() call alone),
# evaluation seconds (validation pass), wall seconds of the whole run (loading, fit, validation and
# test), its CPU seconds (user + system: less sensitive than wall time to other work sharing the
# cores), and the peak resident memory of the process (GiB). Then the median of each per model.
# Usage: bench/baselines_amazon.sh [RUNS=3] [MODEL...]   (default: all five; iALS 64 factors, 15 sweeps)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
shift || true
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(mostpop itemknn rp3beta ease ials)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf '%-8s %4s %9s %9s %9s %9s %9s\n' model run fit_s eval_s wall_s cpu_s rss_gib
for m in "${models[@]}"; do
  for r in $(seq 1 "$runs"); do
    out="$tmp/$m-$r"
    /usr/bin/time -v ./build/bin/recgrid run configs/experiments/lightgcn-amazon.yaml --no-progress --out "$out" \
      --set extends.model="$m" --set name="$m-amazon" --set train.threads=2 > /dev/null 2> "$out.time"
    python3 - "$out/results.json" "$out.time" "$m" "$r" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
t = open(sys.argv[2]).read()
rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
cpu = sum(float(re.search(k + r" \(seconds\): ([0-9.]+)", t).group(1)) for k in ("User time", "System time"))
print("%-8s %4s %9.2f %9.2f %9.2f %9.2f %9.2f" % (sys.argv[3], sys.argv[4], r["fit_time_s"], r["median_eval_s"],
                                                r["wall_time_s"], cpu, rss_kib / 2**20))
PY
  done
done | tee "$tmp/lines"
echo "medians:"
python3 - "$tmp/lines" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault(f[0], []).append([float(x) for x in f[2:]])
for m, v in rows.items():
    med = [statistics.median(c) for c in zip(*v)]
    print("%-8s %4d %9.2f %9.2f %9.2f %9.2f %9.2f" % (m, len(v), *med))
PY
