#!/usr/bin/env bash
# launch_test.sh CASE DOJO: dojo launch (scripts/dojorun) end to end on this
# machine. Each case prints what it checks and exits non-zero on failure.
set -u
case_name=$1
dojo=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'pkill -KILL -f "$work" 2>/dev/null; rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export DOJO_STATE_DIR="$work/state"  # a ledger of this test's own
job="$root/configs/jobs/fashion-mnist.yaml"
short=(--set workload.max_steps=60 --set workload.global_batch=64 --set metrics.enabled=false
       --set checkpoint.every_steps=20 --set restarts.backoff_s=0.2 --set workload.seed=5)

fail() { echo "FAIL: $*" >&2; exit 1; }
# No process of a run may outlive it.
no_orphans() {
  sleep 0.5
  if pgrep -f "$work" >/dev/null; then pgrep -af "$work" >&2; fail "processes left behind"; fi
}

case "$case_name" in
  dry-run)
    # Golden output: the hostfile and the exact command (the free MASTER_PORT normalised).
    "$dojo" launch "$root/configs/jobs/synthetic-resnet50.yaml" --dry-run --run-dir "$work/r" |
      sed -E 's/MASTER_PORT=[0-9]+/MASTER_PORT=N/; s#'"$(readlink -f "$dojo")"'#DOJO#g; s#'"$root"'#ROOT#g; s#'"$work"'#WORK#g' >"$work/got"
    cat >"$work/want" <<'GOLDEN'
# placement: 64 ranks on 8 node(s), 64.000 H100e
# hostfile WORK/r/hostfile
h100-001 slots=8
h100-002 slots=8
h100-003 slots=8
h100-004 slots=8
h100-005 slots=8
h100-006 slots=8
h100-007 slots=8
h100-008 slots=8
# batch shares 64 x 128
# command
mpirun --hostfile WORK/r/hostfile -np 64 --map-by slot --bind-to none --tag-output --allow-run-as-root --mca orte_leave_session_attached 1 --mca btl_tcp_if_include ib0 --mca oob_tcp_if_include ib0 -x DOJO_ATTEMPT=0 -x DOJO_BATCH_SHARES=64x128 -x DOJO_CHECKPOINT_DIR=WORK/r/checkpoints -x DOJO_HEARTBEAT_ADDR=LAUNCHER:PORT -x DOJO_JOB=synthetic-resnet50 -x DOJO_RUN_DIR=WORK/r -x MASTER_ADDR=h100-001 -x MASTER_PORT=N -x NCCL_DEBUG=WARN -x NCCL_SOCKET_IFNAME=ib0 DOJO-exec -- DOJO worker ROOT/configs/jobs/synthetic-resnet50.yaml --run-dir WORK/r
GOLDEN
    if [ "$(id -u)" -ne 0 ]; then sed -i 's/ --allow-run-as-root//' "$work/want"; fi
    diff "$work/want" "$work/got" || fail "dry-run output differs from the golden one"
    # Mixed A100 and D1 nodes, with every H100 held by another job, the
    # drained H100 (h100-017) and the down D1 (d1-05) skipped: shares follow
    # the H100e factors (A100 0.315, D1 0.366).
    mkdir -p "$work/state"
    for i in $(seq -w 1 16); do
      printf 'other@%s\t%s\t1\t9999999999\t8\th100-0%s:8\n' "$(hostname)" "$(hostname)" "$i"
    done >"$work/state/ledger.tsv"
    "$dojo" launch "$root/configs/jobs/synthetic-resnet50.yaml" --set resources.h100e=25 --dry-run --run-dir "$work/r" |
      head -n 14 | sed 's#'"$work"'#WORK#g' >"$work/got"
    {
      echo "# placement: 78 ranks on 11 node(s), 25.304 H100e"
      echo "# hostfile WORK/r/hostfile"
      for i in 1 2 3 4 5 6 7 8; do echo "a100-0$i slots=8"; done
      printf 'd1-01 slots=6\nd1-02 slots=6\nd1-03 slots=2\n'
      echo '# batch shares 64 x 102, 12 x 119, 2 x 118'
    } >"$work/want"
    diff "$work/want" "$work/got" || fail "mixed placement differs from the golden one"
    rm "$work/state/ledger.tsv"

    # Not enough capacity: an error saying what is available, exit 1.
    "$dojo" launch "$root/configs/jobs/synthetic-resnet50.yaml" --set resources.h100e=5000 --dry-run >"$work/out" 2>&1
    [ $? -eq 1 ] || fail "an impossible request should exit 1"
    grep -q "cannot place 5000.0 H100e on cluster \"example-h100\": 220 slots (157.0 H100e) are free on 30 up nodes" "$work/out" ||
      { cat "$work/out"; fail "capacity message"; }
    [ ! -e "$work/r" ] || fail "a dry run writes nothing"
    # Inside a Slurm allocation the nodes come from it, typed by the cluster inventory.
    SLURM_JOB_NODELIST='h100-[001-002],a100-01' SLURM_TASKS_PER_NODE='8(x2),4' \
      "$dojo" launch "$root/configs/jobs/synthetic-resnet50.yaml" -np 20 --dry-run --run-dir "$work/s" >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "Slurm dry run"; }
    grep -q "^h100-001 slots=8$" "$work/out" && grep -q "^a100-01 slots=4$" "$work/out" || { cat "$work/out"; fail "Slurm nodes"; }
    grep -q "# placement: 20 ranks on 3 node(s), 17.261 H100e" "$work/out" || { cat "$work/out"; fail "Slurm H100e from the inventory"; }
    echo "dry-run golden output and capacity errors"
    ;;
  command-env)
    # A command job gets the torchrun environment; RANK agrees with MPI's own rank.
    for np in 1 2 3 4; do
      "$dojo" launch -np "$np" --run-dir "$work/env$np" -- sh -c \
        'echo "check RANK=$RANK OMPI=$OMPI_COMM_WORLD_RANK WORLD=$WORLD_SIZE/$OMPI_COMM_WORLD_SIZE LOCAL=$LOCAL_RANK/$LOCAL_WORLD_SIZE SHARE=$DOJO_BATCH_SHARE JOB=$DOJO_JOB ATTEMPT=$DOJO_ATTEMPT MASTER=$MASTER_ADDR:$MASTER_PORT"' \
        >"$work/out" 2>&1 || { cat "$work/out"; fail "np $np failed"; }
      [ "$(grep -c 'check RANK' "$work/out")" -eq "$np" ] || { cat "$work/out"; fail "np $np: not every rank ran"; }
      grep 'check RANK' "$work/out" | while read -r line; do
        rank=$(sed -E 's/.*RANK=([0-9]+) OMPI=([0-9]+).*/\1 \2/' <<<"$line")
        set -- $rank
        [ "$1" = "$2" ] || fail "RANK $1 differs from MPI's rank $2"
      done || exit 1
      grep -q "WORLD=$np/$np" "$work/out" || fail "WORLD_SIZE"
      grep -q "JOB=sh ATTEMPT=0 MASTER=127.0.0.1:[0-9]" "$work/out" || fail "DOJO_JOB/ATTEMPT/MASTER"
      [ "$(cat "$work/env$np/status")" = completed ] || fail "status file"
    done
    "$dojo" launch -np 2 --set "resources.shares=[3, 1]" --run-dir "$work/shares" -- sh -c 'echo "share $RANK $DOJO_BATCH_SHARE"' >"$work/out" 2>&1
    # Weights, as for built-in workloads: 3:1 of a command job's 256 samples.
    grep -q "share 0 192" "$work/out" && grep -q "share 1 64" "$work/out" || { cat "$work/out"; fail "explicit shares"; }
    no_orphans
    echo "command jobs see the torchrun environment at 1-4 ranks"
    ;;
  literal)
    # Shell metacharacters in names, env values and paths pass literally.
    dir="$work/dir with spaces; \$(touch $work/pwned)"
    "$dojo" launch -np 2 --run-dir "$dir" --set 'env.WEIRD=a b;$(touch '"$work"'/pwned2) `id` "q"' -- \
      printenv WEIRD >"$work/out" 2>&1 || { cat "$work/out"; fail "launch failed"; }
    [ "$(grep -c 'a b;$(touch '"$work"'/pwned2) `id` "q"' "$work/out")" -eq 2 ] || { cat "$work/out"; fail "env value altered"; }
    [ ! -e "$work/pwned" ] && [ ! -e "$work/pwned2" ] || fail "a metacharacter was run by a shell"
    [ -f "$dir/status" ] || fail "run directory with spaces"
    "$dojo" launch -np 1 --set 'name=../escape' -- true >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "an escaping job name should be refused (exit 2)"
    grep -q 'job.name: "../escape" is not a valid name' "$work/out" || { cat "$work/out"; fail "name message"; }
    echo "metacharacters pass literally; escaping names are refused"
    ;;
  blacklist)
    # A node implicated in a killed rank is avoided by later jobs until its
    # cooldown ends or an admin clears it.
    printf 'cluster:\n  name: pair\n  accelerators: %s\n  nodes:\n    - {host: 127.0.0.1, slots: 2, accelerator: cpu}\n    - {host: localhost, slots: 2, accelerator: cpu}\n  blacklist: {cooldown_s: 600}\n' \
      "$root/configs/accelerators.yaml" >"$work/pair.yaml"
    quick=(--cluster "$work/pair.yaml" --set restarts.max=0 --set metrics.enabled=false)
    "$dojo" launch -np 2 "${quick[@]}" --run-dir "$work/a" -- sh -c 'kill -KILL $$' >"$work/out" 2>&1
    bad=$(cut -d' ' -f1 "$work/a/hostfile")
    grep -q "node $bad blacklisted for 600 s (killed): later placements avoid it; \`dojo nodes clear $bad\` returns it to service" "$work/out" ||
      { cat "$work/out"; fail "the killed rank's node was not blacklisted"; }
    grep -q '"event":"blacklisted","host":"'"$bad"'","cause":"killed","cooldown_s":600' "$work/a/events.jsonl" || fail "no blacklisted event"
    "$dojo" nodes --state-dir "$work/state" >"$work/nodes" || fail "dojo nodes"
    grep -Eq "^$bad +(59[0-9]|600) +killed +sh +" "$work/nodes" || { cat "$work/nodes"; fail "dojo nodes does not list $bad"; }
    # The capacity tracker does not count it online, and says why.
    "$dojo" capacity report --config "$root/configs/capacity/tesla-2024.yaml" --state-dir "$work/state" >"$work/cap" ||
      fail "dojo capacity report"
    grep -Eq "^  online +[0-9,]+ H100e   \([0-9.]+ H100e blacklisted: $bad \(killed\)\)$" "$work/cap" ||
      { cat "$work/cap"; fail "the capacity report counts the blacklisted node online"; }
    "$dojo" capacity report --config "$root/configs/capacity/tesla-2024.yaml" --state-dir "$work/state" --format json |
      python3 -c 'import json,sys; r=json.load(sys.stdin); o=r["out_of_service"]; assert len(o)==1 and o[0]["cause"]=="killed" and r["out_of_service_h100e"]>0, r' ||
      fail "capacity report --format json: out_of_service"
    "$dojo" launch -np 2 "${quick[@]}" --run-dir "$work/b" -- true >"$work/out" 2>&1 || { cat "$work/out"; fail "a job beside the blacklisted node"; }
    grep -q "note: node $bad is blacklisted for another" "$work/out" || { cat "$work/out"; fail "no note of the blacklisted node"; }
    ! grep -q "^$bad " "$work/b/hostfile" || fail "a later job was placed on the blacklisted node"
    "$dojo" launch -np 4 "${quick[@]}" --run-dir "$work/c" -- true >"$work/out" 2>&1
    [ $? -eq 1 ] || fail "4 ranks fit only with the blacklisted node"
    grep -q "1 nodes are drained, down or blacklisted" "$work/out" || { cat "$work/out"; fail "the refusal does not count the blacklisted node"; }
    "$dojo" nodes clear "$bad" --state-dir "$work/state" >"$work/out" 2>&1 || { cat "$work/out"; fail "dojo nodes clear"; }
    grep -q "$bad cleared" "$work/out" || fail "clear message"
    "$dojo" nodes clear "$bad" --state-dir "$work/state" >"$work/out" 2>&1
    [ $? -eq 1 ] && grep -q "dojo nodes: $bad is not blacklisted" "$work/out" || { cat "$work/out"; fail "clearing twice"; }
    # (Open MPI sees 127.0.0.1 and localhost as one node: the pair holds one job at a time.)
    "$dojo" launch -np 2 "${quick[@]}" --run-dir "$work/d" -- true >"$work/out" 2>&1 || { cat "$work/out"; fail "a job after the clear"; }
    grep -q "^$bad " "$work/d/hostfile" || fail "the cleared node was not used again"
    "$dojo" nodes --state-dir "$work/state" | grep -q "no node is blacklisted" || fail "the list is not empty"
    no_orphans
    echo "a killed rank's node is avoided until cleared; dojo nodes lists and clears"
    ;;
  relaunch)
    # Relaunching a completed run loses nothing: it runs no step, says so and
    # keeps the summary; --fresh starts anew and keeps the old directory.
    "$dojo" launch "$job" "${short[@]}" --run-dir "$work/done" >"$work/out" 2>&1 || { cat "$work/out"; fail "first run"; }
    cp "$work/done/summary.json" "$work/summary.first"
    python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s['test_accuracy'] > 0.5 and s['samples_per_second'] > 0 else 1)" \
      "$work/summary.first" || fail "the first run's summary"
    "$dojo" launch "$job" "${short[@]}" --run-dir "$work/done" >"$work/out" 2>&1 || { cat "$work/out"; fail "relaunch"; }
    grep -q "job fashion-mnist already completed in $work/done; nothing to run, its summary.json is kept (--fresh starts it anew)" "$work/out" ||
      { cat "$work/out"; fail "the relaunch does not say the job completed"; }
    cmp "$work/summary.first" "$work/done/summary.json" || fail "the relaunch changed summary.json"
    # A rank started on the completed run by hand evaluates the restored model and keeps the summary.
    mpirun --oversubscribe -np 2 "$dojo" worker "$job" "${short[@]}" --run-dir "$work/done" >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "a worker on a completed run"; }
    grep -q "the checkpoint is at the final step 60: no step left to run" "$work/out" || { cat "$work/out"; fail "no-step message"; }
    grep -q "test accuracy 0\.[5-9]" "$work/out" || { cat "$work/out"; fail "the restored model was not evaluated"; }
    cmp "$work/summary.first" "$work/done/summary.json" || fail "a zero-step worker changed summary.json"
    "$dojo" launch "$job" "${short[@]}" --fresh --run-dir "$work/done" >"$work/out" 2>&1 || { cat "$work/out"; fail "--fresh"; }
    grep -q "the earlier run of fashion-mnist is kept in $work/done.1" "$work/out" || { cat "$work/out"; fail "--fresh message"; }
    cmp "$work/summary.first" "$work/done.1/summary.json" || fail "--fresh lost the earlier summary"
    grep -q '"first_attempt":0' "$work/done/events.jsonl" || fail "--fresh did not start anew"
    no_orphans
    echo "a completed run is kept; --fresh starts anew beside it"
    ;;
  causes)
    # Every attempt's end has a cause, each from a real fault; restarts are
    # budgeted by cause.
    quick=(--set restarts.backoff_s=0.1 --set metrics.enabled=false)
    "$dojo" launch -np 2 "${quick[@]}" --run-dir "$work/ue" -- sh -c 'exit 5' >"$work/out" 2>&1
    [ $? -eq 1 ] || { cat "$work/out"; fail "a failing command job exits 1"; }
    grep -q "attempt 0 failed: rank [01] on localhost.* exited with code 5; cause: user_error (exit code 5)" "$work/out" || { cat "$work/out"; fail "user_error message"; }
    grep -q "job sh failed after 2 attempt(s): its restart budget for user_error (restarts.user_error: 1) is spent" "$work/out" ||
      { cat "$work/out"; fail "the user_error budget did not end the job"; }
    [ "$(grep -c '"cause":"user_error"' "$work/ue/events.jsonl")" -eq 2 ] || fail "two user_error attempts in events.jsonl"
    "$dojo" launch -np 1 "${quick[@]}" --set restarts.user_error=0 --run-dir "$work/ue0" -- sh -c 'exit 5' >"$work/out" 2>&1
    grep -q "failed after 1 attempt(s): its restart budget for user_error (restarts.user_error: 0) is spent" "$work/out" ||
      { cat "$work/out"; fail "user_error: 0 restarts nothing"; }
    echo "user_error: the exit code named, restarted within its budget only"

    "$dojo" launch -np 2 "${quick[@]}" --run-dir "$work/lf" -- "$work/no-such-program" >"$work/out" 2>&1
    grep -q "cause: launch_failed" "$work/out" || { cat "$work/out"; fail "launch_failed message"; }
    grep -q "cannot run $work/no-such-program" "$work/out" || fail "the program is not named"
    grep -q "restarts.launch_failed: 1) is spent" "$work/out" || { cat "$work/out"; fail "launch_failed budget"; }
    echo "launch_failed: a program that cannot be run"

    "$dojo" launch -np 1 "${quick[@]}" --set restarts.max=0 --run-dir "$work/segv" -- sh -c 'kill -SEGV $$' >"$work/out" 2>&1
    grep -q "cause: killed (SIGSEGV)" "$work/out" || { cat "$work/out"; fail "SIGSEGV not named"; }
    grep -q '"cause":"killed","signal":11' "$work/segv/events.jsonl" || fail "events.jsonl: killed by signal 11"
    grep -q '"detected_by":"rank_exit"' "$work/segv/events.jsonl" || fail "the rank shim's report was not acted on"
    # Without the shims' reports the launcher learns it from mpirun, later, the same way.
    DOJO_RANK_EXIT_REPORTS=0 "$dojo" launch -np 1 "${quick[@]}" --set restarts.max=0 --run-dir "$work/segv2" -- \
      sh -c 'kill -SEGV $$' >"$work/out" 2>&1
    grep -q "attempt 0 failed: mpirun exited with code 139.*; cause: killed (SIGSEGV)" "$work/out" || { cat "$work/out"; fail "SIGSEGV seen by mpirun"; }
    grep -q '"detected_by":"mpirun"' "$work/segv2/events.jsonl" || fail "detected_by mpirun"
    echo "killed: the signal named, from the rank shim's report or from mpirun"

    # A rank stuck outside any collective, alive: the flight recorders say it
    # never entered the all-reduce the other waits in.
    "$dojo" launch "$job" "${quick[@]}" --set workload.max_steps=60 --set workload.global_batch=64 \
      --set checkpoint.every_steps=20 --set hang_timeout_s=3 --set env.DOJO_FAULT_STALL=step.compute:30 \
      --set env.DOJO_FAULT_RANK=1 --run-dir "$work/stall" >"$work/out" 2>&1 || { cat "$work/out"; fail "the stalled job"; }
    grep -Eq "attempt 0 hung: .*; flight recorder: rank 1 never entered all_reduce #([0-9]+) \(bucket 0, [0-9]+ KiB\); rank 0 waits in it since [0-9.]+ s; cause: hang" "$work/out" ||
      { cat "$work/out"; fail "the flight recorder's verdict"; }
    [ -s "$work/stall/flight-attempt-0.json" ] && [ -s "$work/stall/flight-attempt-0-rank-0.txt" ] || fail "flight records not kept"
    grep -q '"flight_verdict":"rank 1 never entered all_reduce' "$work/stall/events.jsonl" || fail "the verdict is not in the events"
    "$dojo" flight "$work/stall" >"$work/flight" || fail "dojo flight"
    grep -q "verdict (flight recorders): rank 1 never entered all_reduce" "$work/flight" && grep -Eq "^  rank 1: .*completed$" "$work/flight" ||
      { cat "$work/flight"; fail "dojo flight output"; }
    "$dojo" flight "$work/nothing" >"$work/out" 2>&1
    [ $? -eq 1 ] && grep -q "dojo flight: error: $work/nothing is not a directory" "$work/out" || { cat "$work/out"; fail "dojo flight of no run"; }
    echo "hang: the flight recorders name the rank that never entered the all-reduce"

    # The kernel's OOM killer, for real: the job in a memory cgroup of 96 MiB,
    # a rank that wants 512 MiB (root with a writable memory controller only).
    cg=""
    if [ -w /sys/fs/cgroup/memory ]; then
      cg=/sys/fs/cgroup/memory/dojo-oom-$$
      mkdir "$cg" && echo $((96 << 20)) >"$cg/memory.limit_in_bytes" && echo 0 >"$cg/memory.swappiness" 2>/dev/null
    elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null && [ -w /sys/fs/cgroup ]; then
      cg=/sys/fs/cgroup/dojo-oom-$$
      mkdir "$cg" && echo $((96 << 20)) >"$cg/memory.max" && echo 0 >"$cg/memory.swap.max" 2>/dev/null
    fi
    if [ -n "$cg" ] && [ -d "$cg" ]; then
      (echo $BASHPID >"$cg/cgroup.procs" && exec "$dojo" launch -np 1 "${quick[@]}" --set restarts.max=0 --run-dir "$work/oom" -- \
        python3 -c 'x = bytearray(512 << 20); print("not killed")') >"$work/out" 2>&1
      rmdir "$cg" 2>/dev/null
      grep -q "cause: killed (SIGKILL, by the kernel's OOM killer" "$work/out" || { cat "$work/out"; fail "the OOM kill is not named"; }
      grep -q '"cause":"killed","signal":9,"oom_killed":true' "$work/oom/events.jsonl" || fail "events.jsonl: oom_killed"
      echo "killed: the kernel's OOM killer named"
    else
      echo "killed by the OOM killer: skipped (no writable memory cgroup here)"
    fi

    "$dojo" launch -np 1 --set restarts.backoff_s=0.1 --run-dir "$work/m" -- sh -c '[ "$DOJO_ATTEMPT" = 0 ] && exit 5; exec sleep 60' >"$work/out" 2>&1 &
    launcher=$!
    for _ in $(seq 300); do grep -q '"event":"attempt","attempt":1' "$work/m/events.jsonl" 2>/dev/null && break; sleep 0.1; done
    port=$(cat "$work/m/launcher.port")
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
    sed '1,/^\r$/d' <&3 >"$work/metrics.txt"
    exec 3<&-
    kill -TERM $launcher
    wait $launcher
    grep -q '^dojo_launcher_attempts_total{cause="user_error",job_name="sh"} 1$' "$work/metrics.txt" ||
      { grep attempts_total "$work/metrics.txt"; fail "dojo_launcher_attempts_total{cause=user_error}"; }
    grep -Eq '^dojo_job_badput_seconds_total\{cause="backoff",job_name="sh"\} 0\.[1-9]' "$work/metrics.txt" &&
      grep -q '^dojo_job_goodput_ratio{job_name="sh"} ' "$work/metrics.txt" ||
      { grep -E "goodput|badput" "$work/metrics.txt"; fail "goodput metrics"; }
    grep -q '"event":"stopped","attempt":1,"cause":"stopped"' "$work/m/events.jsonl" || fail "the stop's cause"
    no_orphans
    echo "metrics count attempts by cause; a stop is stopped"
    ;;
  faults)
    # A rank that exits, one SIGKILLed, one stopped (SIGSTOP): each attempt is
    # ended, the job restarts from its checkpoint and ends bit-identical to an
    # undisturbed run, with no process left behind.
    "$dojo" launch "$job" "${short[@]}" --run-dir "$work/clean" >"$work/out" 2>&1 || { cat "$work/out"; fail "clean run"; }
    final=checkpoints/step-000000000060.ckpt

    "$dojo" launch "$job" "${short[@]}" --set env.DOJO_FAULT_EXIT_AT_STEP=30 --set env.DOJO_FAULT_RANK=1 \
      --run-dir "$work/exit" >"$work/out" 2>&1 || { cat "$work/out"; fail "exit-at-step run did not complete"; }
    grep -q "attempt 0 failed: rank 1 on localhost exited with code 17; cause: user_error (exit code 17)" "$work/out" || { cat "$work/out"; fail "exit message"; }
    cmp "$work/clean/$final" "$work/exit/$final" || fail "exit-at-step result differs"
    echo "rank exit at step 30: restarted and identical"
    # Goodput: the steps after the checkpoint of step 20 were done twice; every
    # second is productive or badput of one cause; dojo report says so.
    python3 - "$work/exit/summary.json" "$work/exit/goodput.json" <<'PY' || fail "goodput in summary.json"
import json, sys
s = json.load(open(sys.argv[1]))
g = s["goodput"]
assert s["test_accuracy"] > 0 and g["attempts"] == 2, s
assert 0 < g["ratio"] < 1, g
assert set(g["badput_seconds"]) == {"startup", "restore", "checkpoint", "lost_work", "detection",
                                    "backoff", "stopped", "requeued", "shutdown"}, g
assert 1 <= g["lost_steps"] <= 11 and g["badput_seconds"]["lost_work"] > 0, g
assert g["badput_seconds"]["backoff"] >= 0.2 and g["badput_seconds"]["checkpoint"] > 0, g
total = g["productive_seconds"] + sum(g["badput_seconds"].values())
assert abs(total - g["total_seconds"]) < 1e-6, g
ledger = json.load(open(sys.argv[2]))
a0, a1 = ledger["attempts"]
assert a0["cause"] == "user_error" and a1["cause"] == "completed" and a1["resumed_from"] == 20, ledger
PY
    "$dojo" report "$work/exit" >"$work/report" || fail "dojo report"
    grep -Eq "^run $work/exit: completed, 2 attempt\(s\)$" "$work/report" && grep -Eq "^goodput 0\.[0-9]{3}: " "$work/report" &&
      grep -Eq "^lost_work +[0-9.]+ +[0-9.]+%$" "$work/report" && grep -Eq "^0 +user_error " "$work/report" ||
      { cat "$work/report"; fail "dojo report table"; }
    "$dojo" report "$work/exit" --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="completed" and len(d["attempt_records"])==2' ||
      fail "dojo report --format json"
    "$dojo" report "$work/nothing" >"$work/out" 2>&1
    [ $? -eq 1 ] && grep -q "dojo report: error: $work/nothing/goodput.json cannot be read: not a run directory of dojo launch" "$work/out" ||
      { cat "$work/out"; fail "dojo report of no run"; }
    mkdir -p "$work/bad-run" && echo '{"version": 1}' >"$work/bad-run/goodput.json"
    "$dojo" report "$work/bad-run" >"$work/out" 2>&1
    [ $? -eq 1 ] && grep -q "goodput.json: not a goodput ledger" "$work/out" || { cat "$work/out"; fail "dojo report of a bad ledger"; }
    "$dojo" simulate goodput --from-run "$work/exit" --interval-s 1 --mtbf-s 100 --format json >"$work/model" ||
      fail "simulate goodput --from-run"
    python3 - "$work/model" "$work/exit/goodput.json" <<'PY' || { cat "$work/model"; fail "the run's costs did not reach the model"; }
import json, sys
m = json.load(open(sys.argv[1]))
a = json.load(open(sys.argv[2]))["attempts"]
saves = sum(x["checkpoints"] for x in a)
assert saves >= 3, a
assert abs(m["save_seconds"] - sum(x["checkpoint_seconds"] for x in a) / saves) < 1e-9, m
assert m["restart_seconds"] >= 0.2 and 0 < m["goodput"] < 1, m
PY
    echo "goodput: lost work, backoff and checkpoints accounted; dojo report prints them; the model takes the run's costs"

    slow=(--set workload.max_steps=300 --set checkpoint.every_steps=50 --set "workload.hidden_layers=[1024, 1024]")
    # Waits until the run in $1 has logged $2 steps.
    wait_steps() { for _ in $(seq 600); do [ "$( (wc -l <"$1/loss.csv") 2>/dev/null || echo 0)" -ge "$2" ] && return; sleep 0.05; done; }
    "$dojo" launch "$job" "${short[@]}" "${slow[@]}" --run-dir "$work/clean2" >"$work/out" 2>&1 || fail "clean long run"
    final2=checkpoints/step-000000000300.ckpt
    "$dojo" launch "$job" "${short[@]}" "${slow[@]}" --run-dir "$work/kill" >"$work/out" 2>&1 &
    launcher=$!
    wait_steps "$work/kill" 100
    victim=$(pgrep -f "^[^ ]*/dojo worker .*--run-dir $work/kill" | tail -n 1)
    [ -n "$victim" ] || fail "no rank to kill"
    kill -KILL "$victim"
    wait $launcher || { cat "$work/out"; fail "SIGKILL run did not complete"; }
    # (The OOM killer's counter is the machine's: launch_causes' OOM test may
    # run meanwhile and add "by the kernel's OOM killer".)
    grep -Eq "attempt 0 failed: .*; cause: killed \(SIGKILL[,)]" "$work/out" || { cat "$work/out"; fail "SIGKILL not seen as killed"; }
    grep -Eq '"event":"failed","attempt":0,"cause":"killed","signal":9,"oom_killed":(false|true)' "$work/kill/events.jsonl" ||
      fail "events.jsonl does not say the rank was killed by SIGKILL"
    grep -Eq "attempt 0 failed: rank 1 on localhost died of signal 9; cause: killed \(SIGKILL[,)]" "$work/out" ||
      { cat "$work/out"; fail "the killed rank is not named from its shim's report"; }
    cmp "$work/clean2/$final2" "$work/kill/$final2" || fail "SIGKILL result differs"
    echo "SIGKILLed rank: restarted and identical"

    "$dojo" launch "$job" "${short[@]}" "${slow[@]}" --set hang_timeout_s=3 --run-dir "$work/stop" >"$work/out" 2>&1 &
    launcher=$!
    wait_steps "$work/stop" 100
    victim=$(pgrep -f "^[^ ]*/dojo worker .*--run-dir $work/stop" | tail -n 1)
    kill -STOP "$victim"
    wait $launcher || { cat "$work/out"; fail "SIGSTOP run did not complete"; }
    grep -Eq "attempt 0 hung: no progress for 3 s \(hang_timeout_s\): rank [01] on localhost \(step [0-9]+, (not in a collective|in all_reduce #[0-9]+)\) stopped sending heartbeats" "$work/out" ||
      { cat "$work/out"; fail "hang message"; }
    cmp "$work/clean2/$final2" "$work/stop/$final2" || fail "SIGSTOP result differs"
    grep -q '"event":"hung","attempt":0,"cause":"hang"' "$work/stop/events.jsonl" || fail "events.jsonl has no hang"
    grep -Eq "; flight recorder: rank [01] waits in [a-z_]+ #[0-9]+.* since [0-9.]+ s; rank [01] did not answer \(stopped, or lost\); cause: hang" "$work/out" ||
      { cat "$work/out"; fail "the flight recorder's verdict of a stopped rank"; }
    "$dojo" flight "$work/stop" >"$work/flight" && grep -q "verdict (flight recorders): " "$work/flight" ||
      { cat "$work/flight"; fail "dojo flight"; }
    no_orphans
    echo "SIGSTOPped rank: hang detected, restarted and identical; nothing left behind"

    # A node that fails twice is replaced by a spare (two names of this machine).
    printf 'cluster:\n  name: pair\n  accelerators: %s\n  nodes:\n    - {host: 127.0.0.1, slots: 2, accelerator: cpu}\n    - {host: localhost, slots: 2, accelerator: cpu}\n' \
      "$root/configs/accelerators.yaml" >"$work/pair.yaml"
    # (Its rank exits 17 twice: a user_error, whose default budget is 1 restart.)
    "$dojo" launch "$job" --cluster "$work/pair.yaml" "${short[@]}" --set env.DOJO_FAULT_EXIT_AT_STEP=30 \
      --set env.DOJO_FAULT_RANK=1 --set env.DOJO_FAULT_ATTEMPTS=0,1 --set restarts.user_error=2 \
      --run-dir "$work/spare" >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "the job with a failing node did not complete"; }
    grep -q "node 127.0.0.1 failed twice; the job moves to a spare" "$work/out" || { cat "$work/out"; fail "no spare message"; }
    [ "$(cat "$work/spare/hostfile")" = "localhost slots=2" ] || fail "the hostfile does not name the spare"
    cmp "$work/clean/$final" "$work/spare/$final" || fail "the result on the spare differs"
    # Without a spare the job stays where it is and says so.
    "$dojo" launch "$job" "${short[@]}" --set env.DOJO_FAULT_EXIT_AT_STEP=30 --set env.DOJO_FAULT_RANK=1 \
      --set env.DOJO_FAULT_ATTEMPTS=0,1 --set restarts.user_error=2 --run-dir "$work/nospare" >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "no-spare job"; }
    grep -q "failed twice but the cluster has no spare; the job continues where it is" "$work/out" || { cat "$work/out"; fail "no-spare message"; }
    echo "a node failing twice moves the job to a spare, or it stays and says so"
    ;;
  ledger)
    # Two launchers never book the same slots; a dead launcher's booking is reclaimed.
    printf 'cluster:\n  name: tiny\n  accelerators: %s\n  nodes: [{host: localhost, slots: 2, accelerator: cpu}]\n' \
      "$root/configs/accelerators.yaml" >"$work/tiny.yaml"
    "$dojo" launch --cluster "$work/tiny.yaml" -np 2 --run-dir "$work/a" -- sleep 4 >"$work/a.out" 2>&1 &
    first=$!
    for _ in $(seq 100); do [ -s "$work/state/ledger.tsv" ] && break; sleep 0.05; done
    grep -q "localhost:2" "$work/state/ledger.tsv" || fail "the first job is not in the ledger"
    "$dojo" launch --cluster "$work/tiny.yaml" -np 1 --run-dir "$work/b" -- true >"$work/out" 2>&1
    [ $? -eq 1 ] || fail "a second job on held slots should fail"
    # The refusal names the job that holds the slots.
    grep -Eq 'cannot place 1 ranks on cluster "tiny": 0 slots \(0.0 H100e\) are free on 0 up nodes; 2 slots are held by other jobs and 0 nodes are drained, down or blacklisted \(held: sleep@[^:]+:[0-9]+ holds localhost:2\)' "$work/out" ||
      { cat "$work/out"; fail "held-slots message"; }
    wait $first || fail "the first job failed"
    [ ! -s "$work/state/ledger.tsv" ] || fail "a finished job keeps its booking"
    # A launcher that died (its pid is gone) does not hold slots any more.
    printf 'ghost@%s\t%s\t999999\t9999999999\t0.01\tlocalhost:2\n' "$(hostname)" "$(hostname)" >"$work/state/ledger.tsv"
    "$dojo" launch --cluster "$work/tiny.yaml" -np 2 --run-dir "$work/c" -- true >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "a dead launcher's booking was not reclaimed"; }
    echo "ledger: held slots refused, released at the end, dead bookings reclaimed"
    ;;
  preflight)
    # A node that fails the pre-flight check is marked down and the job placed without it.
    printf 'cluster:\n  name: pair\n  accelerators: %s\n  nodes:\n    - {host: 127.0.0.1, slots: 2, accelerator: cpu}\n    - {host: localhost, slots: 2, accelerator: cpu}\n' \
      "$root/configs/accelerators.yaml" >"$work/pair.yaml"
    printf '#!/bin/sh\n[ "$DOJO_PREFLIGHT_HOST" != 127.0.0.1 ]\n' >"$work/check.sh"
    chmod +x "$work/check.sh"
    "$dojo" launch --cluster "$work/pair.yaml" -np 2 --preflight "$work/check.sh" --run-dir "$work/p" -- true >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "the job did not run on the healthy node"; }
    grep -q "node 127.0.0.1 failed the pre-flight check" "$work/out" || { cat "$work/out"; fail "pre-flight message"; }
    [ "$(cat "$work/p/hostfile")" = "localhost slots=2" ] || fail "the failed node is still in the hostfile"
    grep -q '"event":"preflight_failed"' "$work/p/events.jsonl" || fail "events.jsonl"
    # A shell command line with quotes and a pipe, as typed in a terminal.
    "$dojo" launch --cluster "$work/pair.yaml" -np 2 --run-dir "$work/quoted" \
      --preflight "sh -c 'echo \"\$DOJO_PREFLIGHT_HOST\"' | grep -qv '^127.0.0.1\$'" -- true >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "a quoted pre-flight command line did not run"; }
    [ "$(cat "$work/quoted/hostfile")" = "localhost slots=2" ] || fail "the quoted check did not mark 127.0.0.1 down"
    "$dojo" launch --cluster "$work/pair.yaml" -np 2 --preflight "  " -- true >"$work/out" 2>&1
    [ $? -eq 2 ] && grep -q -- "--preflight needs a command" "$work/out" || { cat "$work/out"; fail "empty --preflight"; }
    printf '#!/bin/sh\nexit 1\n' >"$work/bad.sh"
    chmod +x "$work/bad.sh"
    "$dojo" launch --cluster "$work/pair.yaml" -np 2 --preflight "$work/bad.sh" --run-dir "$work/q" -- true >"$work/out" 2>&1
    [ $? -eq 1 ] || fail "no healthy node: the launch fails"
    grep -q 'cannot place 2 ranks on cluster "pair"' "$work/out" || { cat "$work/out"; fail "no-node message"; }
    no_orphans
    echo "pre-flight failures mark nodes down for the job"
    ;;
  metrics)
    # The launcher serves supervision metrics and lists the job's endpoints in
    # a file_sd target file while it runs; the file goes away at the end.
    "$dojo" launch "$job" --set resources.ranks=2 --set workload.epochs=20 --run-dir "$work/m" >"$work/out" 2>&1 &
    launcher=$!
    sd=""
    for _ in $(seq 300); do
      sd=$(ls "$work/state/prometheus/"*.json 2>/dev/null | head -n 1)
      [ -n "$sd" ] && grep -q '"dojo_role": "job"' "$sd" && break
      sleep 0.1
    done
    [ -n "$sd" ] || { kill -INT $launcher; fail "no file_sd target file"; }
    grep -q '"dojo_role": "job"' "$sd" || { cat "$sd"; kill -INT $launcher; fail "the job's endpoint is not listed"; }
    python3 -c "import json,sys; groups=json.load(open(sys.argv[1])); assert all(g['labels']['job_name']=='fashion-mnist' for g in groups)" "$sd" ||
      fail "file_sd is not valid target JSON"
    target=$(python3 -c "import json,sys; print([g for g in json.load(open(sys.argv[1])) if g['labels']['dojo_role']=='launcher'][0]['targets'][0])" "$sd")
    exec 3<>"/dev/tcp/${target%:*}/${target##*:}"
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
    sed '1,/^\r$/d' <&3 >"$work/metrics.txt"
    exec 3<&-
    for name in 'dojo_launcher_job_state{job_name="fashion-mnist",state="running"} 1' dojo_launcher_attempt \
                dojo_launcher_restarts_total dojo_launcher_ranks dojo_launcher_allocated_h100e \
                dojo_launcher_heartbeat_age_seconds; do
      grep -qF "$name" "$work/metrics.txt" || { cat "$work/metrics.txt"; kill -INT $launcher; fail "metric $name"; }
    done
    promtool check metrics <"$work/metrics.txt" || { kill -INT $launcher; fail "promtool check metrics"; }
    kill -INT $launcher  # dojorun stops the job cleanly: checkpoint, exit 3
    wait $launcher
    code=$?
    [ $code -eq 3 ] || { cat "$work/out"; fail "a stopped job exits 3, got $code"; }
    [ "$(cat "$work/m/status")" = stopped ] || fail "status should be stopped"
    [ ! -e "$sd" ] || fail "the file_sd target file outlives the job"
    no_orphans
    echo "launcher metrics pass promtool; file_sd lists the job and goes away; SIGINT stops cleanly"
    ;;
  wall-time)
    # A job past its wall-time limit is stopped (exit 1) with nothing left behind.
    start=$(date +%s)
    "$dojo" launch -np 2 --set wall_time_s=2 --run-dir "$work/w" -- sleep 60 >"$work/out" 2>&1
    code=$?
    [ $code -eq 1 ] || { cat "$work/out"; fail "a job past its wall time exits 1, got $code"; }
    [ $(( $(date +%s) - start )) -lt 30 ] || fail "the wall-time limit did not stop the job"
    grep -q "the job reached its wall-time limit" "$work/out" || { cat "$work/out"; fail "wall-time message"; }
    [ "$(cat "$work/w/status")" = failed ] || fail "status"
    grep -q '"event":"wall-time","attempt":0,"cause":"wall_time"' "$work/w/events.jsonl" || fail "the wall_time cause"
    # A command job's resolved config holds its command and every override.
    grep -q "wall_time_s: 2" "$work/w/config.resolved.yaml" || { cat "$work/w/config.resolved.yaml"; fail "command job: resolved override"; }
    grep -q -- '- "sleep"' "$work/w/config.resolved.yaml" || { cat "$work/w/config.resolved.yaml"; fail "command job: resolved command"; }
    # The run directory records the resolved configuration.
    "$dojo" launch "$job" "${short[@]}" --set workload.max_steps=2 --run-dir "$work/res" >"$work/out" 2>&1 || fail "short job"
    grep -q "max_steps: 2" "$work/res/config.resolved.yaml" || { cat "$work/res/config.resolved.yaml"; fail "resolved config"; }
    for f in job.yaml overrides.txt config_hash version hostfile command.txt attempt-0.log events.jsonl status; do
      [ -s "$work/res/$f" ] || fail "the run directory lacks $f"
    done
    no_orphans
    echo "wall time enforced; the run directory holds the resolved config and the record"
    ;;
  usage)
    for help in --help -h; do
      "$dojo" launch "$help" >"$work/out" 2>&1; [ $? -eq 0 ] && grep -q '^usage: dojo launch \[JOB.yaml\]' "$work/out" || { cat "$work/out"; fail "dojo launch $help"; }
      "$root/scripts/dojorun" "$help" >"$work/out" 2>&1; [ $? -eq 0 ] && grep -q 'dojorun takes the same arguments' "$work/out" || { cat "$work/out"; fail "dojorun $help"; }
    done
    # After --, --help belongs to the command.
    "$dojo" launch -np 1 --run-dir "$work/h" -- sh -c 'test "$1" = --help' sh --help >"$work/out" 2>&1 || { cat "$work/out"; fail "--help after -- is the command's"; }
    "$dojo" launch -np 0 -- true >"$work/out" 2>&1; [ $? -eq 2 ] && grep -q -- '-np expects a positive count' "$work/out" || fail "-np 0"
    "$dojo" launch --frobnicate >"$work/out" 2>&1; [ $? -eq 2 ] && grep -q 'unknown flag "--frobnicate"' "$work/out" || fail "unknown flag"
    "$dojo" launch -- >"$work/out" 2>&1; [ $? -eq 2 ] && grep -q -- '-- needs a command' "$work/out" || fail "empty command"
    "$dojo" launch >"$work/out" 2>&1; [ $? -eq 2 ] && grep -q 'give a job file, or -- COMMAND' "$work/out" || fail "nothing to run"
    "$dojo" launch -H 'a:x' -- true >"$work/out" 2>&1; [ $? -eq 2 ] && grep -q -- '-H expects host:slots' "$work/out" || fail "-H"
    "$dojo" launch -np 1 --run-dir "$work/nf" -- /nonexistent/program >"$work/out" 2>&1; [ $? -eq 1 ] || fail "a missing program fails the job"
    echo "usage errors are clear and exit 2"
    ;;
  *)
    fail "unknown case $case_name"
    ;;
esac
