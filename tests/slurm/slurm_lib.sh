# shellcheck shell=bash
# A private, one-node Slurm for the tests (sourced): munged with a generated key, slurmctld and
# slurmd with a generated slurm.conf, everything under $slurm_dir, on free loopback ports. Needs
# root (slurmd runs jobs as their owner) and Debian's slurm-wlm + munge.
#   slurm_start DIR      start; exports SLURM_CONF; returns 77 if this machine cannot
#                        ($slurm_extra_conf: more slurm.conf lines, e.g. RequeueExit=75)
#   slurm_stop           stop whatever slurm_start started (call from the EXIT trap)
set -u

slurm_pids=()

slurm_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to $2 s for command $1 (a string evaluated) to succeed.
slurm_wait() {
  local limit=$2 i
  for ((i = 0; i < limit * 10; i++)); do
    eval "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

slurm_start() {
  slurm_dir=$1
  local host cpus
  if [ "$(id -u)" != 0 ]; then echo "SKIP: slurm tests need root" >&2; return 77; fi
  for bin in munged mungekey slurmctld slurmd sbatch scontrol squeue; do
    command -v "$bin" >/dev/null || { echo "SKIP: $bin missing (slurm-wlm, munge)" >&2; return 77; }
  done
  host=$(hostname -s)
  cpus=2
  # cred_expire: Slurm holds a requeued job back until the old credential expired (default
  # 120 s); 8 s keeps the requeue tests short. sched_interval: a requeued job that became
  # eligible again is only started by the main scheduling loop (default every 60 s, which made
  # each requeue cost a minute); every 2 s here.
  mkdir -p "$slurm_dir"/{state,spool,munge}
  chmod 700 "$slurm_dir/munge"
  mungekey --create --keyfile="$slurm_dir/munge/munge.key" 2>/dev/null ||
    dd if=/dev/urandom of="$slurm_dir/munge/munge.key" bs=1024 count=1 2>/dev/null
  chmod 400 "$slurm_dir/munge/munge.key"
  munged --force --key-file="$slurm_dir/munge/munge.key" --socket="$slurm_dir/munge/munge.socket" \
    --pid-file="$slurm_dir/munge/munged.pid" --log-file="$slurm_dir/munge/munged.log" \
    --seed-file="$slurm_dir/munge/munged.seed" || { echo "FAIL: munged did not start" >&2; return 1; }
  slurm_pids+=("$(cat "$slurm_dir/munge/munged.pid")")
  cat >"$slurm_dir/slurm.conf" <<CONF
ClusterName=srstest$$
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(slurm_free_port)
SlurmdPort=$(slurm_free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$slurm_dir/munge/munge.socket,cred_expire=8
StateSaveLocation=$slurm_dir/state
SlurmdSpoolDir=$slurm_dir/spool
SlurmctldPidFile=$slurm_dir/slurmctld.pid
SlurmdPidFile=$slurm_dir/slurmd.pid
SlurmctldLogFile=$slurm_dir/slurmctld.log
SlurmdLogFile=$slurm_dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
ReturnToService=2
JobRequeue=1
KillWait=60
SlurmdParameters=config_overrides
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=srs Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
${slurm_extra_conf:-}
CONF
  export SLURM_CONF=$slurm_dir/slurm.conf
  slurmctld -D -i -f "$SLURM_CONF" >"$slurm_dir/slurmctld.out" 2>&1 &
  slurm_pids+=($!)
  slurmd -D -f "$SLURM_CONF" >"$slurm_dir/slurmd.out" 2>&1 &
  slurm_pids+=($!)
  if ! slurm_wait "sinfo -h -o %T | grep -qE '^(idle|mixed)'" 60; then
    echo "FAIL: the private Slurm did not come up:" >&2
    tail -5 "$slurm_dir/slurmctld.log" "$slurm_dir/slurmd.log" "$slurm_dir"/*.out >&2 2>/dev/null
    return 1
  fi
}

slurm_stop() {
  local pid
  [ -n "${SLURM_CONF:-}" ] && scancel --full --quiet --user=root 2>/dev/null
  for pid in "${slurm_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${slurm_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  slurm_pids=()
}
