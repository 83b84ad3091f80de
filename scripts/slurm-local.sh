#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, from Debian's packages (slurmctld + slurmd +
# munge on localhost), for ackmeans' tests and CI and for trying `--executor slurm` without a
# cluster. `sbatch`, `squeue`, `scontrol` and `scancel` then work as on a real cluster.
#
#   bash scripts/slurm-local.sh start    # installs the packages when missing, starts the daemons
#   bash scripts/slurm-local.sh status   # exit 0 when the node answers and is idle/mixed/allocated
#   bash scripts/slurm-local.sh stop     # stops the daemons (state stays in $SLURM_LOCAL_DIR)
#   bash scripts/slurm-local.sh env      # prints `export SLURM_CONF=…` for this cluster
#
# The configuration lives in $SLURM_LOCAL_DIR (default /tmp/ackmeans-slurm), never in
# /etc/slurm: clients find it through SLURM_CONF. One partition, `local` (the default), with all
# of this machine's cores. Needs root (the daemons run as root here, as in a container).
set -euo pipefail

DIR=${SLURM_LOCAL_DIR:-/tmp/ackmeans-slurm}
CONF="$DIR/slurm.conf"
PACKAGES=(slurmctld slurmd slurm-client munge)

fail() {
  echo "slurm-local: $*" >&2
  exit 1
}

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  [ "$(id -u)" -eq 0 ] || fail "not root: as root run apt-get install -y ${missing[*]}"
  echo "slurm-local: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed"
  apt-get install -y -qq "${missing[@]}" >/dev/null || fail "could not install ${missing[*]}"
}

write_conf() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  cat >"$CONF" <<EOF
# Written by ackmeans scripts/slurm-local.sh: a one-node cluster on localhost.
ClusterName=ackmeans-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldPort=${SLURM_LOCAL_CTLD_PORT:-6817}
SlurmdPort=${SLURM_LOCAL_SLURMD_PORT:-6818}
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
MaxArraySize=100001
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

# A live process (not a zombie: after kill -9 an unreaped daemon still answers kill -0).
running() {
  local stat
  [ -f "$1" ] || return 1
  stat=$(ps -o stat= -p "$(cat "$1")" 2>/dev/null) || return 1
  [ -n "$stat" ] && [[ "$stat" != Z* ]]
}

start_munge() {
  # munged is up when a credential can be made (pgrep would also match a zombie munged)
  if munge -n >/dev/null 2>&1; then return 0; fi
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  if id munge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged || fail "munged did not start (see /var/log/munge/munged.log)"
  else
    /usr/sbin/munged --force || fail "munged did not start (see /var/log/munge/munged.log)"
  fi
}

wait_ready() {
  local i state
  for i in $(seq 1 60); do
    state=$(SLURM_CONF=$CONF sinfo -h -o %T 2>/dev/null | head -1 || true)
    case "$state" in
      idle* | mixed* | allocated* | completing*) return 0 ;;
    esac
    sleep 1
  done
  fail "the node did not become ready in 60 s (state: ${state:-no answer}); logs: $DIR/log"
}

cmd=${1:-}
case "$cmd" in
  start)
    install_packages
    write_conf
    start_munge
    export SLURM_CONF=$CONF
    running "$DIR/slurmctld.pid" || /usr/sbin/slurmctld -f "$CONF" || fail "slurmctld did not start; log: $DIR/log/slurmctld.log"
    running "$DIR/slurmd.pid" || /usr/sbin/slurmd -f "$CONF" || fail "slurmd did not start; log: $DIR/log/slurmd.log"
    wait_ready
    SLURM_CONF=$CONF scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    echo "slurm-local: running; use: export SLURM_CONF=$CONF"
    ;;
  stop)
    for d in slurmd slurmctld; do
      if running "$DIR/$d.pid"; then kill "$(cat "$DIR/$d.pid")" || true; fi
    done
    for i in $(seq 1 20); do
      running "$DIR/slurmd.pid" || running "$DIR/slurmctld.pid" || break
      sleep 0.5
    done
    echo "slurm-local: stopped"
    ;;
  status)
    [ -f "$CONF" ] || fail "not configured (run: $0 start)"
    state=$(SLURM_CONF=$CONF sinfo -h -o %T 2>/dev/null | head -1 || true)
    echo "slurm-local: node ${state:-not answering}"
    case "$state" in idle* | mixed* | allocated* | completing*) exit 0 ;; *) exit 1 ;; esac
    ;;
  env)
    echo "export SLURM_CONF=$CONF"
    ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
