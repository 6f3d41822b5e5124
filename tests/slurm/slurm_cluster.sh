# slurm_cluster.sh: a real Slurm (munged, slurmctld, slurmd from Debian's
# packages) for tests, sourced by slurm_test.sh. State, sockets, logs and
# configuration live in one temporary directory; every daemon is stopped by
# its pid when the test ends, whatever happened.
#
#   slurm_start one WORK     one node: this host's name on 127.0.0.1, 4 CPUs
#   slurm_start two WORK     two nodes, dojo-n1 and dojo-n2, each a network
#                            namespace with its own hostname and /etc/hosts,
#                            on a bridge with the controller (dojo-ctl)
#   slurm_stop               cancels every job, stops the daemons, removes the namespaces
#   on_node N CMD...         runs CMD on node N (two-node mode; else here)
#
# Exports SLURM_CONF for the client commands. Needs root (munged, namespaces).

slurm_pids=()
# A namespace node: its network (entered with nsenter, which leaves /sys and
# the cgroup tree slurmd reads as they are), its hostname, its /etc/hosts and
# its own TmpFS (where PMIx keeps per-step directories), as separate machines have.
slurm_node_setup='hostname "$0"; mount --bind "$SLURM_HOSTS_FILE" /etc/hosts;
  mkdir -p "$SLURM_NODE_TMP-$0"; mount --bind "$SLURM_NODE_TMP-$0" "$SLURM_NODE_TMP";'
slurm_tag="dsl$$"
slurm_mode=""

slurm_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# slurm_wait_for DESCRIPTION SECONDS CMD...: polls CMD until it succeeds.
slurm_wait_for() {
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq $((seconds * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "slurm_cluster: timed out waiting for $what" >&2
  return 1
}

# Runs a command inside a namespace node: its network, its hostname, its /etc/hosts.
on_node() {
  local n=$1
  shift
  if [ "$slurm_mode" != two ]; then
    "$@"
    return
  fi
  nsenter --net="/run/netns/$slurm_tag-n$n" unshare --uts --mount sh -c "$slurm_node_setup"' exec "$@"' \
    "dojo-n$n" "$@"
}

slurm_write_conf() {
  local work=$1 ctl_name=$2 ctl_addr=$3 nodes=$4
  cat >"$work/slurm.conf" <<CONF
ClusterName=dojotest
SlurmctldHost=$ctl_name($ctl_addr)
SlurmctldPort=$(slurm_free_port)
SlurmdPort=$(slurm_free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge.socket
CredType=cred/munge
StateSaveLocation=$work/ctld
TmpFS=$work/tmp
SlurmdSpoolDir=$work/slurmd-%n
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd-%n.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd-%n.log
# Processes are tracked by their parentage: dojo's mpirun leads a process
# group of its own, which proctrack/pgid would not see.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=1
KillWait=30
MinJobAge=300
InactiveLimit=0
$nodes
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

slurm_start() {
  slurm_mode=$1
  local work=$2
  mkdir -p "$work/ctld" "$work/slurmd-$(hostname -s)" "$work/slurmd-dojo-n1" "$work/slurmd-dojo-n2"
  chmod 700 "$work"
  export SLURM_CONF="$work/slurm.conf" SLURM_HOSTS_FILE="$work/hosts" SLURM_NODE_TMP="$work/tmp"
  mkdir -p "$SLURM_NODE_TMP"
  head -c 1024 /dev/urandom >"$work/munge.key"
  chmod 600 "$work/munge.key"
  munged -F -f --key-file="$work/munge.key" --socket="$work/munge.socket" \
    --pid-file="$work/munged.pid" --log-file="$work/munged.log" --seed-file="$work/munged.seed" \
    >"$work/munged.out" 2>&1 &
  slurm_pids+=($!)
  slurm_wait_for munged 10 test -S "$work/munge.socket" || return 1
  if [ "$slurm_mode" = one ]; then
    local host
    host=$(hostname -s)
    slurm_write_conf "$work" "$host" 127.0.0.1 \
      "NodeName=$host NodeAddr=127.0.0.1 CPUs=4 RealMemory=1000 State=UNKNOWN"
    slurmctld -D -i -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 &
    slurm_pids+=($!)
    slurmd -D -N "$host" -f "$SLURM_CONF" >"$work/slurmd.out" 2>&1 &
    slurm_pids+=($!)
  else
    slurm_start_namespaces "$work" || return 1
  fi
  slurm_wait_for "idle nodes" 60 on_node 1 sh -c \
    '[ -n "$(sinfo -h -t idle -o %n)" ] && ! sinfo -h -o %t | grep -qv idle' || {
    on_node 1 sinfo; tail -n 20 "$work"/slurm*.log; return 1; }
}

slurm_start_namespaces() {
  local work=$1
  printf '127.0.0.1 localhost\n10.235.0.254 dojo-ctl\n10.235.0.1 dojo-n1\n10.235.0.2 dojo-n2\n' >"$work/hosts"
  # shellcheck source=tests/netns.sh
  source "$(dirname "${BASH_SOURCE[0]}")/../netns.sh"
  netns_switch "$slurm_tag-sw" 10.235.0.254/24 || return 1
  for i in 1 2; do
    netns_host "$slurm_tag-sw" "$slurm_tag-n$i" "${slurm_tag}$i" "10.235.0.$i/24" || return 1
  done
  slurm_write_conf "$work" dojo-ctl 10.235.0.254 \
    "NodeName=dojo-n1 NodeAddr=10.235.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
NodeName=dojo-n2 NodeAddr=10.235.0.2 CPUs=2 RealMemory=1000 State=UNKNOWN"
  nsenter --net="/run/netns/$slurm_tag-sw" unshare --uts --mount sh -c \
    "$slurm_node_setup"' exec slurmctld -D -i -f "$SLURM_CONF"' dojo-ctl >"$work/slurmctld.out" 2>&1 &
  slurm_pids+=($!)
  for i in 1 2; do
    on_node "$i" slurmd -D -N "dojo-n$i" -f "$SLURM_CONF" >"$work/slurmd-$i.out" 2>&1 &
    slurm_pids+=($!)
  done
  # Client commands run on node 1, the "login node".
}

slurm_stop() {
  if [ -n "${SLURM_CONF:-}" ] && [ -n "$slurm_mode" ]; then
    on_node 1 timeout 10 scancel --full --quiet --user=root >/dev/null 2>&1
  fi
  for pid in "${slurm_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${slurm_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${slurm_pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  # slurmstepd outlives slurmd by design: those of this cluster go too.
  local p
  for p in $(pgrep -x slurmstepd); do
    tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "SLURM_CONF=$SLURM_CONF" &&
      kill -KILL "$p" 2>/dev/null
  done
  if [ "$slurm_mode" = two ]; then
    for i in 1 2; do ip netns del "$slurm_tag-n$i" 2>/dev/null; done
    ip netns del "$slurm_tag-sw" 2>/dev/null
  fi
  slurm_pids=()
# A namespace node: its network (entered with nsenter, which leaves /sys and
# the cgroup tree slurmd reads as they are), its hostname, its /etc/hosts.
slurm_node_setup='hostname "$0"; mount --bind "$SLURM_HOSTS_FILE" /etc/hosts;'
}
