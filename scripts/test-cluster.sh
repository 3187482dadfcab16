#!/usr/bin/env bash
# A single-node Slurm on this machine, from Debian packages, for trying and testing
# `recgrid run GRID --executor slurm` (docs/CLUSTER.md). Needs root.
#
#   bash scripts/test-cluster.sh start   # installs slurm-wlm + munge if missing, starts munged,
#                                        # slurmctld and slurmd; prints the SLURM_CONF to export
#   bash scripts/test-cluster.sh stop    # stops what `start` started (by the pids it recorded)
#   bash scripts/test-cluster.sh status  # is it up?
#
# Everything lives in $RECGRID_SLURM_DIR (default /var/tmp/recgrid-slurm): slurm.conf, the daemons'
# logs, pid files and state. Nothing is written under /etc; the Slurm commands find the cluster
# through SLURM_CONF=$RECGRID_SLURM_DIR/slurm.conf.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${RECGRID_SLURM_DIR:-/var/tmp/recgrid-slurm}"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"

die() { echo "test-cluster: $*" >&2; exit 1; }

write_conf() {
  local host cpus mem_mb
  host=$(hostname -s)
  cpus=$(nproc)
  # What Slurm may hand out: the machine's memory less 2 GiB for the system.
  mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 2048 ))
  mkdir -p "$dir/state" "$dir/spool"
  cat > "$conf" <<EOF
# Written by scripts/test-cluster.sh: a single-node test cluster (not for production).
ClusterName=recgrid-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued task may start again after cred_expire seconds (default 120).
AuthInfo=cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
# No cgroups in a container: track processes by their parent links, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue/scontrol for 10 min (recgrid status shows them);
# a cancelled task gets 30 s between SIGTERM and SIGKILL to write its checkpoint.
MinJobAge=600
KillWait=30
# Pending tasks (a requeued one once its delay is over) start within a second or two, not a minute.
SchedulerParameters=bf_interval=1,sched_interval=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
  [ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || \
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; }
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- munged
  echo "$(cat /run/munge/munged.pid)" > "$dir/munged.pid"
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return; sleep 0.1; done
  die "munged did not answer (see /var/log/munge/munged.log)"
}

wait_for_node() {
  for _ in $(seq 100); do
    case "$(sinfo -h -o %T 2>/dev/null | head -n 1)" in idle|mixed|allocated) return 0 ;; esac
    sleep 0.2
  done
  die "the node did not come up (logs: $dir/slurmctld.log, $dir/slurmd.log)"
}

start() {
  [ "$(id -u)" -eq 0 ] || die "needs root (it starts munged, slurmctld and slurmd)"
  bash "$here/install-packages.sh" cluster
  if sinfo -h >/dev/null 2>&1; then echo "test-cluster: already up"; else
    mkdir -p "$dir"
    write_conf
    start_munge
    # -c: a clean start (no jobs from an earlier cluster); -i: ignore stale state.
    slurmctld -c -i -f "$conf" || die "slurmctld did not start (see $dir/slurmctld.log)"
    # slurmd needs /sys/fs/cgroup mounted (it is on a booted machine) even with proctrack/linuxproc.
    slurmd -c -f "$conf" || die "slurmd did not start (see $dir/slurmd.log)"
    wait_for_node
    scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
  fi
  echo "test-cluster: up, $(sinfo -h -o '%D node, %c CPUs, partition %P' | head -n 1)"
  echo "export SLURM_CONF=$conf"
}

stop_pid_file() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$file"
}

stop() {
  scancel --user=root >/dev/null 2>&1 || true
  stop_pid_file "$dir/slurmd.pid"
  stop_pid_file "$dir/slurmctld.pid"
  stop_pid_file "$dir/munged.pid"   # only when `start` started it
  echo "test-cluster: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if sinfo -h >/dev/null 2>&1; then sinfo; else echo "test-cluster: down"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
