#!/usr/bin/env bash
# Fuzzes RecGrid's readers with libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: bash scripts/fuzz.sh SECONDS [TARGET...]     (default: every target, SECONDS each)
#   targets: pickle npy tsv config grid answer_cache   (fuzz/targets/fuzz_<target>.cpp)
# Builds with clang into build-fuzz/ (installing scripts/packages/{main,fuzz}.txt if missing), seeds
# each corpus from tests/fixtures/, configs/ and fuzz/seeds/, runs each target for SECONDS, and
# prints executions and coverage per target. A crashing input is saved under build-fuzz/crashes/;
# copy it to tests/fixtures/fuzz-regressions/<target>/ once fixed, where the ctest suite replays it for good.
# Exit 1 when a target found a crash. Parallel targets: FUZZ_JOBS=2 (default: one at a time).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(pickle npy tsv config grid answer_cache)
jobs=${FUZZ_JOBS:-1}

bash scripts/install-packages.sh main fuzz
if [ ! -f build-fuzz/build.ninja ]; then
  CXX=clang++ cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
fi
cmake --build build-fuzz -j "$(nproc)" > build-fuzz/build.log 2>&1 || { tail -30 build-fuzz/build.log; exit 2; }

fixtures=tests/fixtures
seed_corpus() {  # seed_corpus TARGET DIR
  local t=$1 dir=$2
  mkdir -p "$dir"
  case $t in
    pickle) cp -n "$fixtures"/pickle/*.pkl "$dir"/ ;;
    npy) cp -n "$fixtures"/npy/*.npy "$dir"/ ;;
    config) for f in configs/*.yaml configs/experiments/*.yaml configs/datasets/*.yaml configs/models/*.yaml; do
              cp -n "$f" "$dir/$(echo "$f" | tr / _)"; done ;;
    grid) for f in configs/grids/*.yaml; do cp -n "$f" "$dir/$(basename "$f")"; done ;;
    *) cp -n fuzz/seeds/"$t"/* "$dir"/ ;;
  esac
  [ -d tests/fixtures/fuzz-regressions/"$t" ] && cp -n tests/fixtures/fuzz-regressions/"$t"/* "$dir"/ 2>/dev/null || true
}

run_target() {  # run_target TARGET -> build-fuzz/logs/TARGET.log
  local t=$1 corpus=build-fuzz/corpus/$1 crashes=build-fuzz/crashes/$1
  seed_corpus "$t" "$corpus"
  mkdir -p "$crashes" build-fuzz/logs
  # -rss_limit_mb: a reader that asks for gigabytes on a 200-byte input is a finding too.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
  TMPDIR=build-fuzz/tmp \
    build-fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" > build-fuzz/logs/"$t".log 2>&1 || true
}

mkdir -p build-fuzz/tmp
touch build-fuzz/started  # findings of earlier runs (older than this) are not this run's
echo "fuzz: ${targets[*]}, ${seconds} s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

status=0
printf '%-13s %12s %8s %8s %s\n' target executions exec/s coverage result
for t in "${targets[@]}"; do
  log=build-fuzz/logs/$t.log
  execs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$log" | tail -1)
  rate=$(awk '/stat::average_exec_per_sec:/ {print $2}' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  found=$(find build-fuzz/crashes/"$t" -type f -newer build-fuzz/started \
             \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  result=ok
  if [ "$found" -gt 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    result="FOUND $found input(s): build-fuzz/crashes/$t (log: $log)"
    status=1
  fi
  printf '%-13s %12s %8s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$result"
done
exit $status
