#!/usr/bin/env bash
# netns_test.sh DOJO: a cluster of three hosts made of network namespaces on
# this machine (veth pairs on a bridge in a switch namespace, addresses
# 10.233.0.1-3 on each host's eth0, an rsh agent that enters a namespace).
# One job runs across the hosts; then cutting one host's link mid-job is
# detected as a hang naming that host, the attempt is stopped, and once the
# link is back the restarted job completes, with no
# process left behind. Needs root (ip netns); skipped (exit 77) without.
set -u
dojo=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
launch="$(dirname "$(readlink -f "$dojo")")/dojo-launch"
work=$(mktemp -d)
tag="dojo$$"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 DOJO_STATE_DIR="$work/state"
# mpirun starts every daemon itself (no tree spawn through other daemons).
export OMPI_MCA_plm_rsh_no_tree_spawn=1
export DOJO_NETNS_MAP="$work/netns.map" DOJO_NETNS_TMP="$work/tmp"

cleanup() {
  pkill -KILL -f "$work" 2>/dev/null
  pkill -KILL -f "orte_hnp_uri .*10\.233\.0\." 2>/dev/null
  for i in 0 1 2; do ip netns del "$tag-h$i" 2>/dev/null; done
  ip netns del "$tag-sw" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ] || ! ip netns add "$tag-sw" 2>/dev/null; then
  echo "SKIP: network namespaces need root"
  exit 77
fi
# shellcheck source=tests/netns.sh
source "$root/tests/netns.sh"
netns_switch "$tag-sw"
: >"$DOJO_NETNS_MAP"
for i in 0 1 2; do
  netns_host "$tag-sw" "$tag-h$i" "${tag}$i" "10.233.0.$((i + 1))/24"
  echo "$tag-h$i 10.233.0.$((i + 1))" >>"$DOJO_NETNS_MAP"
done

cat >"$work/cluster.yaml" <<YAML
cluster:
  name: netns
  accelerators: $root/configs/accelerators.yaml
  nodes:
    - {host: 10.233.0.1, slots: 1, accelerator: cpu}
    - {host: 10.233.0.2, slots: 1, accelerator: cpu}
    - {host: 10.233.0.3, slots: 1, accelerator: cpu}
  network:
    interface: eth0
YAML
job="$root/configs/jobs/fashion-mnist.yaml"
common=(--cluster "$work/cluster.yaml" --rsh-agent "$root/tests/launch/netns-rsh" --set resources.ranks=3
        --set workload.global_batch=96 --set metrics.enabled=false --set checkpoint.every_steps=50)

# One job across the three hosts.
mkdir -p "$work/tmp/$tag-h0"
on_h0=(ip netns exec "$tag-h0" env TMPDIR="$work/tmp/$tag-h0")
"${on_h0[@]}" "$launch" "$job" "${common[@]}" --set workload.max_steps=40 --run-dir "$work/run" \
  >"$work/out" 2>&1 || { cat "$work/out"; fail "the job across hosts failed"; }
grep -q "job fashion-mnist: 3 ranks (mpi)" "$work/out" || { cat "$work/out"; fail "not 3 ranks"; }
[ "$(wc -l <"$work/run/hostfile")" -eq 3 ] || fail "hostfile"
grep -q -- "--mca btl_tcp_if_include eth0" "$work/run/command.txt" || fail "the interface is not passed to mpirun"
echo "one job ran on 3 namespace hosts"

# Cut the third host's link mid-job: the hang is detected and names the
# host, the attempt is stopped; the link comes back (a transient partition)
# and the restarted attempt completes the job.
"${on_h0[@]}" "$launch" "$job" "${common[@]}" --set workload.max_steps=300 --set hang_timeout_s=5 \
  --set restarts.max=2 --set restarts.backoff_s=1 --set "workload.hidden_layers=[512, 512]" \
  --run-dir "$work/cut" >"$work/out" 2>&1 &
launcher=$!
for _ in $(seq 600); do [ "$( (wc -l <"$work/cut/loss.csv") 2>/dev/null || echo 0)" -ge 20 ] && break; sleep 0.05; done
ip netns exec "$tag-h2" ip link set eth0 down
cut_ms=$(date +%s%3N)
for _ in $(seq 1200); do grep -Eq '"event":"(hung|failed)"' "$work/cut/events.jsonl" && break; sleep 0.05; done
ip netns exec "$tag-h2" ip link set eth0 up
code=0
wait $launcher || code=$?
[ $code -eq 0 ] || { cat "$work/out"; fail "the job did not complete after the link came back (exit $code)"; }
[ "$(cat "$work/cut/status")" = completed ] || fail "status is not completed"
# Either the heartbeats show the silence first (hung) or mpirun loses the
# daemon first (failed); both must name the host whose link was cut.
grep -Eq "attempt 0 (hung: no progress for 5 s \(hang_timeout_s\): rank 2 on 10\.233\.0\.3 \([^)]*\) stopped sending heartbeats|failed: .*rank 2 on 10\.233\.0\.3 failed)" "$work/out" ||
  { cat "$work/out"; fail "the message does not name rank 2 on 10.233.0.3"; }
detected_ms=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["event"] in ("hung", "failed")][0]["unix_ms"])' "$work/cut/events.jsonl")
echo "cut link detected after $(( (detected_ms - cut_ms) )) ms (hang_timeout_s 5): the attempt was stopped, the job restarted and completed"
# The "remote" daemons die in a cascade after mpirun: allow them a few seconds.
for _ in $(seq 100); do
  pgrep -f "$work" >/dev/null || pgrep -f "orte_hnp_uri .*10\.233\.0\." >/dev/null || break
  sleep 0.1
done
if pgrep -f "$work" >/dev/null || pgrep -f "orte_hnp_uri .*10\.233\.0\." >/dev/null; then
  pgrep -af "$work|10\.233\.0\."
  fail "processes left behind"
fi
echo "no process left behind"
