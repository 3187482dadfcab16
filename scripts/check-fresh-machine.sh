#!/usr/bin/env bash
# Runs the README's two commands on a fresh Debian 12 machine and says whether they work.
#
# Makes a clean Debian 12 root with mmdebstrap (from this machine's apt sources), clones this checkout's
# HEAD into it with nothing beside it (a stranger's clone), then runs inside it (chroot in a private
# mount namespace):
#   1. bash scripts/run-main.sh      (the main job on the embedded default)
#   2. bash scripts/run-tests.sh     (the test suite: the paper-data tests are listed as not run)
#   3. the paper's data: `recgrid data get amazon yelp movie --from http://127.0.0.1:PORT` from a local
#      mirror (python3 -m http.server on this machine, serving --mirror), the files' sha256 against the
#      mirror's SHA256SUMS, the paper_data-labelled tests with RECGRID_REQUIRE_PAPER_DATA=1, and one
#      epoch of configs/experiments/lightgcn-amazon.yaml as it is (no edit)
#   4. CI's Slurm step: scripts/test-cluster.sh start (installs slurm-wlm and munge), the Slurm tests, stop
# and prints each one's wall time and result. Exit status 0 only when all pass.
#
# Usage: bash scripts/check-fresh-machine.sh [--keep] [--root DIR] [--mirror DIR] [--only cluster]
#   --keep      leave the root (and its logs: DIR/work/*.log) for a look afterwards
#   --only cluster  only step 4, after `bash scripts/setup.sh --tests` on the fresh root (to rerun the
#               Slurm step when another test cluster held its ports during a full check)
#   --mirror    a folder holding amazon/, yelp/, movie/ (and SHA256SUMS); default: the data root
#               ($RECGRID_DATA_ROOT, else the default data root beside the checkout)
# Needs root (mmdebstrap, mount, chroot). Takes ~40 min on 2 cores: a cold build, twice the apt work.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
keep=0
only=""
root=""
mirror="${RECGRID_DATA_ROOT:-$repo/../shared/data}"
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --root) root="$2"; shift ;;
    --mirror) mirror="$2"; shift ;;
    --only) [ "${2:-}" = cluster ] || { echo "check-fresh-machine: --only takes: cluster" >&2; exit 2; }; only=cluster; shift ;;
    *) echo "usage: $0 [--keep] [--root DIR] [--mirror DIR] [--only cluster]" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$mirror/amazon/trn_mat.pkl" ] || { echo "check-fresh-machine: no dataset mirror in $mirror (--mirror DIR)" >&2; exit 2; }
mirror="$(cd "$mirror" && pwd)"
[ "$(id -u)" -eq 0 ] || { echo "check-fresh-machine: needs root (mmdebstrap, mount, chroot)" >&2; exit 2; }
bash "$repo/scripts/install-packages.sh" check
root="${root:-$(mktemp -d /var/tmp/recgrid-fresh.XXXXXX)}"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ $keep = 1 ] && echo "root kept: $root" || rm -rf --one-file-system "$root"
}
trap cleanup EXIT

commit=$(git -C "$repo" rev-parse --short HEAD)
echo "== fresh Debian 12 root in $root (commit $commit)"
t0=$(date +%s)
# This machine's apt options (e.g. snapshot sources whose Release files are past Valid-Until).
aptopts=()
for f in /etc/apt/apt.conf.d/*; do grep -q '^Acquire::' "$f" 2>/dev/null && aptopts+=(--aptopt="$f"); done
rm -rf "$root"
mmdebstrap --quiet --variant=apt "${aptopts[@]}" bookworm "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/work"
git clone --quiet "$repo" "$root/work/main"  # nothing beside it: no data, no spec
echo "   root ready in $(( $(date +%s) - t0 )) s"

# run_inside NAME COMMAND: runs COMMAND in /work/main of the root, logs to $root/work/NAME.log.
run_inside() {
  local name=$1 cmd=$2 start rc
  start=$(date +%s)
  set +e
  unshare --mount --propagation private --fork bash -c '
    set -e
    r=$1
    mount --rbind /dev "$r/dev"; mount -t proc proc "$r/proc"; mount -t sysfs sys "$r/sys"
    mount --rbind /sys/fs/cgroup "$r/sys/fs/cgroup"  # as on a booted machine (slurmd needs it)
    mount -t tmpfs tmpfs "$r/dev/shm"; mount -t tmpfs tmpfs "$r/tmp"
    exec chroot "$r" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
         bash -c "cd /work/main && $2"' _ "$root" "$cmd" > "$root/work/$name.log" 2>&1
  rc=$?
  set -e
  local took=$(( $(date +%s) - start ))
  printf '   %-6s %s  exit %d  %d min %02d s  (%s)\n' "$name" "$([ $rc = 0 ] && echo PASS || echo FAIL)" \
         $rc $((took / 60)) $((took % 60)) "$cmd"
  if [ $rc != 0 ]; then echo "   last lines of $name.log:"; tail -n 25 "$root/work/$name.log" | sed 's/^/   | /'; fi
  return $rc
}

status=0
if [ "$only" = cluster ]; then
  run_inside build "bash scripts/setup.sh --tests" || status=1
else
  echo "== the README's commands, in order, on the fresh root"
  run_inside main "bash scripts/run-main.sh" || status=1
  grep -E '^\s+default' "$root/work/main.log" | sed 's/^/   /' || true
  run_inside tests "bash scripts/run-tests.sh" || status=1
  grep -E 'tests passed|tests failed' "$root/work/tests.log" | sed 's/^/   /' || true
  grep -A12 'The following tests did not run' "$root/work/tests.log" | grep -E 'did not run|Skipped' | sed 's/^/   /' || true
  # The paper's data from a local mirror, as a user with a lab file server would get it.
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 -m http.server --bind 127.0.0.1 --directory "$mirror" "$port" > "$root/work/mirror.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done
  run_inside data "build/bin/recgrid data get amazon yelp movie --from http://127.0.0.1:$port/ && \
    RECGRID_REQUIRE_PAPER_DATA=1 ctest --test-dir build -L paper_data --no-tests=error --output-on-failure && \
    build/bin/recgrid run configs/experiments/lightgcn-amazon.yaml --set train.epochs=1 --no-progress --out /tmp/one-epoch" \
    || status=1
  kill "$server_pid" 2>/dev/null; server_pid=""
  grep -E 'tests passed|tests failed|ready in' "$root/work/data.log" | sed 's/^/   /' || true
  if [ -f "$mirror/SHA256SUMS" ]; then
    (cd "$root/root/.local/share/recgrid/data" && sha256sum --check --ignore-missing --quiet "$mirror/SHA256SUMS" \
      && echo "   the fetched files' sha256 equal the mirror's SHA256SUMS") || { echo "   sha256 check FAILED"; status=1; }
  fi
fi
# CI's Slurm step: the test cluster installs its packages and starts from nothing (docs/CLUSTER.md).
# It listens on Slurm's ports, so a test cluster already running here would take them: say so.
if ss -ltn 2>/dev/null | grep -qE ':(6817|6818) '; then
  echo "   cluster SKIPPED: Slurm's ports are taken on this machine (bash scripts/test-cluster.sh stop, then rerun)"
  status=1
else
  run_inside cluster "bash scripts/test-cluster.sh start && export SLURM_CONF=/var/tmp/recgrid-slurm/slurm.conf \
    RECGRID_REQUIRE_SLURM=1 && ctest --test-dir build -R '^Slurm\.' --no-tests=error --output-on-failure; rc=\$?; \
    bash scripts/test-cluster.sh stop; exit \$rc" || status=1
  grep -E 'tests passed|tests failed' "$root/work/cluster.log" | sed 's/^/   /' || true
fi
verdict=$([ -n "$only" ] && echo "the $only step passes" || echo "both commands pass")
echo "== $(date -u +%Y-%m-%d) commit $commit: $([ $status = 0 ] && echo "$verdict" || echo FAILED)"
exit $status
