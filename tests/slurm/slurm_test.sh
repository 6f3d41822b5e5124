#!/usr/bin/env bash
# slurm_test.sh CASE DOJO: dojo under a real Slurm (Debian's slurmctld,
# slurmd and munge, started here on loopback or on two network-namespace
# nodes, and always stopped). Each case prints what it checks and exits
# non-zero on failure; 77 (skipped) without root or without Slurm.
set -u
case_name=$1
dojo=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(dirname "$(readlink -f "$dojo")")
work=$(mktemp -d)
# shellcheck source=tests/slurm/slurm_cluster.sh
source "$root/tests/slurm/slurm_cluster.sh"
cleanup() {
  slurm_stop
  pkill -KILL -f "$work" 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ] || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "SKIP: needs root and Debian's slurmctld, slurmd and munge (scripts/bootstrap)"
  exit 77
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export DOJO_STATE_DIR="$work/state" DOJO_BIN_DIR="$bin"
launch="$bin/dojo-launch"
job="$root/configs/jobs/fashion-mnist.yaml"
short=(--set workload.max_steps=40 --set workload.global_batch=64 --set metrics.enabled=false
       --set checkpoint.every_steps=20 --set restarts.backoff_s=0.2 --set workload.seed=5)
long=(--set workload.max_steps=3000 --set workload.global_batch=64 --set checkpoint.every_steps=20
      --set workload.seed=5 --set restarts.backoff_s=0.2)

# Waits until the run in $1 has logged $2 steps (or $3 seconds pass).
wait_steps() {
  for _ in $(seq $((${3:-60} * 20))); do
    [ "$( (wc -l <"$1/loss.csv") 2>/dev/null || echo 0)" -ge "$2" ] && return 0
    sleep 0.05
  done
  return 1
}
# Waits for Slurm job $1 to reach state $2 (squeue's word) within $3 seconds.
wait_state() {
  for _ in $(seq $(($3 * 10))); do
    [ "$(on_node 1 squeue -h --states=all -j "$1" -o %T 2>/dev/null)" = "$2" ] && return 0
    sleep 0.1
  done
  on_node 1 squeue --states=all -j "$1" >&2
  return 1
}
# The stop left nothing behind: status, end event, no booking, no file_sd target.
clean_stop() {
  local run=$1 why=$2
  [ "$(cat "$run/status" 2>/dev/null)" = stopped ] || fail "$why: status is not stopped"
  tail -n 1 "$run/events.jsonl" | grep -q '"event":"end","status":"stopped"' || fail "$why: no end event"
  [ ! -s "$DOJO_STATE_DIR/ledger.tsv" ] || { cat "$DOJO_STATE_DIR/ledger.tsv"; fail "$why: a booking is left"; }
  [ -z "$(ls -A "$DOJO_STATE_DIR/prometheus" 2>/dev/null)" ] || fail "$why: a file_sd target is left"
  if pgrep -f "$run" >/dev/null; then pgrep -af "$run" >&2; fail "$why: processes left behind"; fi
}

case "$case_name" in
  salloc)
    slurm_start one "$work/slurm" || fail "Slurm did not start"
    host=$(hostname -s)
    # A command job without -np runs the allocation's tasks.
    salloc -n3 "$launch" --run-dir "$work/cmd" -- sh -c 'echo "rank $RANK of $WORLD_SIZE ($LOCAL_RANK/$LOCAL_WORLD_SIZE)"' \
      >"$work/out" 2>&1 || { cat "$work/out"; fail "command job in salloc"; }
    grep -q "rank 2 of 3 (2/3)" "$work/out" || { cat "$work/out"; fail "not SLURM_NTASKS ranks"; }
    grep -q "node(s) $host are not typed by a cluster inventory: their H100e is not counted" "$work/out" ||
      { cat "$work/out"; fail "untyped nodes not said"; }
    grep -q '"slurm_job"' "$work/cmd/events.jsonl" && grep -q '"h100e":null' "$work/cmd/events.jsonl" ||
      fail "start event: Slurm job, H100e not counted"
    echo "salloc -n3 without -np: 3 ranks; untyped node said, its H100e not counted"

    # A built-in job: local.yaml types allocation nodes as CPUs (unlisted_nodes)
    # and keeps its loopback interface to its own node list.
    salloc -n2 "$launch" "$job" "${short[@]}" --run-dir "$work/builtin" >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "built-in job in salloc"; }
    grep -q "job fashion-mnist completed" "$work/out" || { cat "$work/out"; fail "not completed"; }
    grep -q 'network interface "lo" is not used: node(s) '"$host"' are not in it' "$work/out" ||
      { cat "$work/out"; fail "the inventory's lo applied to an unlisted node"; }
    ! grep -q "if_include lo" "$work/builtin/command.txt" || fail "loopback passed to mpirun"
    grep -q '"h100e":0.01' "$work/builtin/events.jsonl" || fail "2 CPU slots are not 0.010 H100e"
    echo "built-in job in salloc -n2: completed, typed by unlisted_nodes (0.010 H100e), no loopback NIC"

    # An inventory that neither lists nor types the node refuses it by name.
    printf 'cluster:\n  name: strict\n  accelerators: %s\n  nodes:\n    - {host: localhost, slots: 2, accelerator: cpu}\n' \
      "$root/configs/accelerators.yaml" >"$work/strict.yaml"
    code=0
    salloc -n2 "$launch" "$job" --cluster "$work/strict.yaml" "${short[@]}" --run-dir "$work/strict" \
      >"$work/out" 2>&1 || code=$?
    [ $code -eq 1 ] && grep -q "node(s) $host of the Slurm allocation [0-9]* are not in the cluster inventory .*strict.yaml: list them there, or type every unlisted node with \`unlisted_nodes" "$work/out" ||
      { cat "$work/out"; fail "unlisted node not refused by name (exit $code)"; }
    echo "an inventory without the node: refused, naming it"

    # An allocation smaller than the job: Slurm's figures in the message.
    code=0
    salloc -n2 "$launch" "$job" "${short[@]}" --set resources.ranks=4 --run-dir "$work/small" >"$work/out" 2>&1 || code=$?
    [ $code -eq 1 ] && grep -Eq "asks for 4 ranks, but Slurm job [0-9]+ grants 2 tasks on 1 node \(SLURM_JOB_NODELIST=$host, SLURM_NTASKS=2, SLURM_TASKS_PER_NODE=2\): ask Slurm for more \(-n 4\) or run fewer ranks \(-np 2\)" "$work/out" ||
      { cat "$work/out"; fail "too small an allocation (exit $code)"; }
    echo "allocation smaller than the job: refused with Slurm's figures"

    # The ledger never refuses what Slurm granted: a booking of another job
    # (a killed launcher's, within its lease) on every slot of the node.
    mkdir -p "$DOJO_STATE_DIR"
    printf 'ghost@%s\t%s\t999999\t9999999999\t0\t%s:4\n' other-host other-host "$host" >"$DOJO_STATE_DIR/ledger.tsv"
    salloc -n2 "$launch" -- true >"$work/out" 2>&1 || { cat "$work/out"; fail "a stale booking blocked a Slurm allocation"; }
    printf '' >"$DOJO_STATE_DIR/ledger.tsv"
    echo "a booking of another job on the node does not block Slurm's grant"

    # srun starts the ranks (PMIx), dojo-exec maps SLURM_* to the torchrun variables.
    salloc -n2 "$launch" "$job" "${short[@]}" --slurm-launch srun --run-dir "$work/srun" >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "srun launch"; }
    grep -q '^srun --mpi=pmix --ntasks=2 ' "$work/srun/command.txt" || { cat "$work/srun/command.txt"; fail "not srun"; }
    grep -q "job fashion-mnist: 2 ranks (mpi)" "$work/out" || { cat "$work/out"; fail "srun: not 2 MPI ranks"; }
    salloc -n2 srun "$bin/dojo-exec" -- sh -c 'echo "R=$RANK W=$WORLD_SIZE L=$LOCAL_RANK/$LOCAL_WORLD_SIZE M=$MASTER_ADDR:$MASTER_PORT"' \
      >"$work/out" 2>&1 || { cat "$work/out"; fail "srun dojo-exec"; }
    grep -q "R=1 W=2 L=1/2 M=$host:29500" "$work/out" || { cat "$work/out"; fail "srun dojo-exec variables"; }
    echo "srun --mpi=pmix launch: built-in job completed; srun dojo-exec sets the torchrun variables"

    # One rank per GPU: an allocation of 1 task with 2 GPUs on its node runs 2
    # ranks (no GPU here: Slurm's GPU variable is set by hand inside salloc).
    for path in mpirun srun; do
      salloc -n1 env SLURM_GPUS_ON_NODE=2 "$launch" --slurm-launch "$path" --set restarts.max=0 \
        --run-dir "$work/gpu-$path" -- sh -c 'echo "rank $RANK of $WORLD_SIZE"' >"$work/out" 2>&1 ||
        { cat "$work/out"; fail "one rank per GPU ($path)"; }
      grep -q "rank 1 of 2" "$work/out" || { cat "$work/out"; fail "not 2 ranks for 2 GPUs ($path)"; }
    done
    grep -q -- "--oversubscribe" "$work/gpu-mpirun/command.txt" && grep -q -- "--overcommit" "$work/gpu-srun/command.txt" ||
      fail "more ranks than Slurm tasks without --oversubscribe / --overcommit"
    echo "one rank per GPU beyond Slurm's task count: mpirun --oversubscribe, srun --overcommit"
    ;;

  client)
    # A plain-Python data-parallel job with the dojo_job client, under salloc:
    # started by srun, the client is importable (dojo-exec's PYTHONPATH) and
    # the launcher measures it; started by mpirun, a frozen rank is named
    # with its all-reduce and the job resumes from its checkpoint.
    slurm_start one "$work/slurm" || fail "Slurm did not start"
    cat >"$work/client.yaml" <<YAML
version: 1
job:
  name: client
  command: [python3, $root/tests/client/train_client.py]
  resources: {ranks: 3}
  hang_timeout_s: 8
  restarts: {max: 2, backoff_s: 0.2}
  stragglers: {ratio: 1.5, steps: 10}
  metrics: {enabled: false}
YAML
    TRAIN_SLOW_RANK=2 TRAIN_STEPS=120 salloc -n3 "$launch" "$work/client.yaml" --slurm-launch srun \
      --run-dir "$work/srun" >"$work/out" 2>&1 || { cat "$work/out"; fail "the client job under srun"; }
    grep -q "dojo launch: straggler: rank 2 on " "$work/out" || { cat "$work/out"; fail "no straggler under srun"; }
    python3 - "$work/srun/summary.json" <<'PY' || fail "summary.json under srun"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["status"] == "completed" and s["step"] == 119 and s["ranks_measured"] == 3, s
assert s["slowest_rank"] == 2 and s["samples_per_second"] > 0, s
PY
    echo "srun: the client is importable, its figures measured, rank 2 the straggler"
    TRAIN_FREEZE=1:15 salloc -n3 "$launch" "$work/client.yaml" --run-dir "$work/mpirun" >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "the client job under mpirun did not complete"; }
    grep -q "attempt 0 hung: no progress for 8 s (hang_timeout_s): rank 1 on .* in all_reduce #1[67]) stopped sending heartbeats" "$work/out" ||
      { cat "$work/out"; fail "the frozen rank is not named with its all-reduce"; }
    grep -q "resumed from step 9 (attempt 1)" "$work/out" || fail "no resume after the hang"
    if pgrep -f "train_client.py" >/dev/null; then pgrep -af train_client.py >&2; fail "ranks left behind"; fi
    echo "mpirun: a frozen rank named with its all-reduce; restarted and resumed"
    ;;
  signals)
    # SIGTERM, SIGINT, SIGHUP (salloc's kill signal) and SIGUSR1 (sbatch
    # --signal=B:USR1@N) each stop the job cleanly: a checkpoint, exit 3, the
    # status and end event, no booking, no file_sd target, no process.
    slurm_start one "$work/slurm" || fail "Slurm did not start"
    for sig in TERM INT HUP USR1; do
      run="$work/sig-$sig"
      salloc -n2 "$launch" "$job" "${long[@]}" --run-dir "$run" >"$work/out-$sig" 2>&1 &
      allocation=$!
      wait_steps "$run" 25 || { cat "$work/out-$sig"; fail "SIG$sig: the job did not start"; }
      pid=$(pgrep -f "^$launch .*--run-dir $run" | head -n 1)
      kill -"$sig" "$pid"
      code=0
      wait $allocation || code=$?
      [ $code -eq 3 ] || { cat "$work/out-$sig"; fail "SIG$sig: exit $code, not 3"; }
      grep -q "stopped: on request (SIG$sig)" "$work/out-$sig" || { cat "$work/out-$sig"; fail "SIG$sig: message"; }
      ls "$run"/checkpoints/step-*.ckpt >/dev/null 2>&1 || fail "SIG$sig: no checkpoint"
      clean_stop "$run" "SIG$sig"
      echo "SIG$sig: checkpoint, exit 3, status and end event, ledger and file_sd entries removed"
    done
    ;;

  scancel)
    slurm_start one "$work/slurm" || fail "Slurm did not start"
    # A plain salloc (no -K) keeps its shell when the allocation is cancelled:
    # dojo notices within seconds and stops.
    salloc -n2 "$launch" "$job" "${long[@]}" --run-dir "$work/salloc" >"$work/out" 2>&1 &
    allocation=$!
    wait_steps "$work/salloc" 25 || { cat "$work/out"; fail "the salloc job did not start"; }
    id=$(squeue -h -o %i | head -n 1)
    scancel "$id"
    cancelled_ms=$(date +%s%3N)
    code=0
    wait $allocation || code=$?
    [ $code -eq 3 ] && grep -q "Slurm allocation $id was revoked" "$work/out" ||
      { cat "$work/out"; fail "revoked salloc: exit $code"; }
    grep -q '"reason":"Slurm allocation '"$id"' was revoked' "$work/salloc/events.jsonl" || fail "no revoked reason"
    clean_stop "$work/salloc" "scancel of salloc"
    echo "scancel of a plain salloc: noticed after $(($(date +%s%3N) - cancelled_ms)) ms, stopped cleanly"

    # scancel of an sbatch job: SIGTERM to the batch step, a clean stop.
    "$dojo" submit "$job" "${long[@]}" --run-dir "$work/sbatch" >"$work/out" 2>&1 || { cat "$work/out"; fail "submit"; }
    id=$(sed -E 's/.* is Slurm job ([0-9]+);.*/\1/' "$work/out")
    wait_steps "$work/sbatch" 25 || { cat "$work/sbatch"/slurm-*.out; fail "the sbatch job did not start"; }
    scancel "$id"
    wait_state "$id" CANCELLED 60 || fail "not cancelled"
    for _ in $(seq 300); do [ -s "$work/sbatch/status" ] && ! pgrep -f "$work/sbatch" >/dev/null && break; sleep 0.1; done
    clean_stop "$work/sbatch" "scancel of sbatch"
    echo "scancel of an sbatch job: stopped cleanly"
    ;;

  sbatch)
    slurm_start one "$work/slurm" || fail "Slurm did not start"
    # The script dojo submit writes: tasks, time, requeue, the stop signal, exec dojorun.
    "$dojo" submit "$job" "${short[@]}" --set wall_time_s=600 --set slurm.partition=debug \
      --exclude 'spare[1-2]' --run-dir "$work/built-in" --dry-run >"$work/script"
    for line in "#SBATCH --nodes=1" "#SBATCH --ntasks-per-node=2" "#SBATCH --time=10" "#SBATCH --requeue" \
                "#SBATCH --signal=B:USR1@120" "#SBATCH --partition=debug" "#SBATCH --exclude=spare[1-2]" \
                "#SBATCH --output=$work/built-in/slurm-%j.out" "exec $root/scripts/dojorun $job --run-dir $work/built-in --set workload.max_steps=40"; do
      grep -qF -- "$line" "$work/script" || { cat "$work/script"; fail "the script lacks: $line"; }
    done
    [ ! -e "$work/built-in" ] || fail "--dry-run wrote the run directory"
    "$dojo" submit "$job" "${short[@]}" --run-dir "$work/built-in" >"$work/out" || fail "submit"
    built_in=$(sed -E 's/.* is Slurm job ([0-9]+);.*/\1/' "$work/out")
    # Two command jobs of 2 tasks each, co-scheduled on the one 4-CPU node.
    for name in cmd-a cmd-b; do
      printf 'version: 1\njob:\n  name: %s\n  command: [sh, -c, "sleep 3; echo rank $RANK of $WORLD_SIZE"]\n  resources: {ranks: 2}\n  metrics: {enabled: false}\n' \
        "$name" >"$work/$name.yaml"
    done
    wait_state "$built_in" COMPLETED 90 || { cat "$work"/built-in/slurm-*.out; fail "the built-in sbatch job"; }
    grep -q "job fashion-mnist completed" "$work"/built-in/slurm-*.out || fail "built-in: not completed"
    "$dojo" submit "$work/cmd-a.yaml" --run-dir "$work/cmd-a" >"$work/out-a" || fail "submit a"
    "$dojo" submit "$work/cmd-b.yaml" --run-dir "$work/cmd-b" >"$work/out-b" || fail "submit b"
    a=$(sed -E 's/.* is Slurm job ([0-9]+);.*/\1/' "$work/out-a")
    b=$(sed -E 's/.* is Slurm job ([0-9]+);.*/\1/' "$work/out-b")
    together=0
    for _ in $(seq 100); do
      [ "$(squeue -h -t RUNNING -o %i | wc -l)" -eq 2 ] && together=1 && break
      sleep 0.1
    done
    [ $together -eq 1 ] || fail "the two jobs did not run together"
    wait_state "$a" COMPLETED 60 && wait_state "$b" COMPLETED 60 ||
      { cat "$work"/cmd-?/slurm-*.out; fail "co-scheduled jobs"; }
    grep -q "rank 1 of 2" "$work"/cmd-b/slurm-*.out || fail "cmd-b output"
    echo "sbatch through dojo submit: a built-in job and two co-scheduled command jobs completed"
    ;;

  requeue)
    slurm_start one "$work/slurm" || fail "Slurm did not start"
    "$dojo" submit "$job" "${long[@]}" --set workload.max_steps=200 --set "workload.hidden_layers=[512, 512]" \
      --set metrics.enabled=false --run-dir "$work/rq" >"$work/out" || fail "submit"
    id=$(sed -E 's/.* is Slurm job ([0-9]+);.*/\1/' "$work/out")
    wait_steps "$work/rq" 45 90 || { cat "$work"/rq/slurm-*.out; fail "the job did not start"; }
    scontrol requeue "$id"
    # Slurm holds a requeued job back for a while (BeginTime); start it now.
    wait_state "$id" PENDING 60 || fail "not requeued"
    scontrol update JobId="$id" StartTime=now
    wait_state "$id" COMPLETED 240 || { cat "$work"/rq/slurm-*.out; fail "the requeued job did not complete"; }
    out=$(cat "$work"/rq/slurm-*.out)
    grep -q "resumed from the checkpoint of step [1-9]" <<<"$out" || { echo "$out"; fail "not resumed"; }
    [ -s "$work/rq/attempt-0.log" ] && [ -s "$work/rq/attempt-1.log" ] || { ls "$work/rq"; fail "attempt logs"; }
    grep -q '"slurm_restart_count":1' "$work/rq/events.jsonl" && grep -q '"first_attempt":1' "$work/rq/events.jsonl" ||
      fail "the requeue is not in the events"
    [ "$(cat "$work/rq/status")" = completed ] || fail "status"
    echo "scontrol requeue: the job resumed from its checkpoint; attempt-0.log kept, attempt-1.log added"
    ;;

  sbatch-signal)
    slurm_start one "$work/slurm" || fail "Slurm did not start"
    # --time=1 --signal=B:USR1@50: Slurm signals the batch step (dojorun) ahead of the limit.
    printf 'version: 1\njob:\n  name: sig\n  command: [sh, -c, "trap \\"echo checkpoint saved; exit 3\\" USR1; while :; do sleep 0.2; done"]\n  resources: {ranks: 2}\n  wall_time_s: 60\n  slurm: {signal_lead_s: 50}\n  metrics: {enabled: false}\n' \
      >"$work/sig.yaml"
    "$dojo" submit "$work/sig.yaml" --run-dir "$work/sig" >"$work/out" || fail "submit"
    id=$(sed -E 's/.* is Slurm job ([0-9]+);.*/\1/' "$work/out")
    grep -q -- "--signal=B:USR1@50" "$work/sig/submit.sbatch" || fail "no --signal"
    for _ in $(seq 900); do [ -s "$work/sig/status" ] && break; sleep 0.1; done
    out=$(cat "$work"/sig/slurm-*.out)
    grep -q "stopped: on request (SIGUSR1)" <<<"$out" && grep -q "checkpoint saved" <<<"$out" ||
      { echo "$out"; fail "USR1 from --signal did not stop the job cleanly"; }
    for _ in $(seq 100); do ! pgrep -f "$work/sig" >/dev/null && break; sleep 0.1; done
    clean_stop "$work/sig" "--signal USR1"
    echo "sbatch --signal=B:USR1@50: the ranks saved, dojorun exited 3 before the time limit"
    ;;

  faults)
    slurm_start one "$work/slurm" || fail "Slurm did not start"
    host=$(hostname -s)
    # A rank SIGKILLed inside the allocation (in its 30th all-reduce, first
    # attempt only): the job restarts there from its checkpoint and completes.
    salloc -n2 "$launch" "$job" "${short[@]}" --set env.DOJO_FAULT_KILL=step.allreduce:30 \
      --set env.DOJO_FAULT_RANK=1 --set env.DOJO_FAULT_ATTEMPTS=0 \
      --run-dir "$work/rank" >"$work/out" 2>&1 || { cat "$work/out"; fail "a killed rank"; }
    grep -q "attempt 0 failed: rank 1 on $host died of signal 9" "$work/out" &&
      grep -q "resumed from the checkpoint of step 20" "$work/out" ||
      { cat "$work/out"; fail "killed rank message or resume"; }
    salloc -n2 "$launch" "$job" "${short[@]}" --slurm-launch srun --set env.DOJO_FAULT_KILL=step.allreduce:30 \
      --set env.DOJO_FAULT_RANK=1 --set env.DOJO_FAULT_ATTEMPTS=0 \
      --run-dir "$work/srun-rank" >"$work/out" 2>&1 || { cat "$work/out"; fail "a killed rank under srun"; }
    grep -q "attempt 0 failed: rank 1 on $host died of signal 9" "$work/out" &&
      grep -q "resumed from the checkpoint of step 20" "$work/out" ||
      { cat "$work/out"; fail "killed rank under srun: message or resume"; }
    echo "a rank SIGKILLed inside the allocation (mpirun and srun): restarted from its checkpoint, completed"
    # A node to blame twice (here a rank killed by a signal) is drained in
    # Slurm when the cluster allows it; a program's own exit code is not the node's fault.
    printf 'cluster:\n  name: drain\n  accelerators: %s\n  nodes:\n    - {host: login, slots: 1, accelerator: cpu}\n  unlisted_nodes: {accelerator: cpu}\n  slurm: {drain_failed_nodes: true}\n' \
      "$root/configs/accelerators.yaml" >"$work/drain.yaml"
    code=0
    salloc -n2 "$launch" --cluster "$work/drain.yaml" --set restarts.max=1 --set restarts.backoff_s=0.1 \
      --run-dir "$work/drain" -- sh -c 'kill -KILL $$' >"$work/out" 2>&1 || code=$?
    [ $code -eq 1 ] || { cat "$work/out"; fail "the failing job: exit $code"; }
    grep -q "node $host drained in Slurm (dojo: lost, hung or killed twice in job sh (Slurm job [0-9]*))" "$work/out" ||
      { cat "$work/out"; fail "drain message"; }
    sinfo -h -N -o '%T %E' | grep -Eq '^drain(ing|ed)? dojo: lost, hung or killed twice' ||
      { sinfo -N -o '%N %T %E'; fail "not drained in Slurm"; }
    scontrol update NodeName="$host" State=RESUME
    slurm_wait_for "the node to resume" 30 sh -c '[ "$(sinfo -h -N -o %T)" = idle ]' || fail "not resumed"
    salloc -n2 "$launch" --cluster "$work/drain.yaml" --set restarts.max=1 --set restarts.backoff_s=0.1 \
      --run-dir "$work/exit" -- sh -c 'exit 7' >"$work/out" 2>&1
    ! grep -q "drained in Slurm" "$work/out" && sinfo -h -N -o '%T' | grep -qvx 'drain.*' ||
      { cat "$work/out"; sinfo -N; fail "drained for a program's own exit code"; }
    echo "a node to blame twice: drained through scontrol, with the reason; a program's exit code drains nothing"
    ;;

  two-nodes)
    slurm_start two "$work/slurm" || fail "Slurm did not start"
    # mpirun inside a two-node allocation starts its daemon on dojo-n2 through Slurm.
    on_node 1 salloc -N2 -n2 "$launch" "$job" "${short[@]}" --run-dir "$work/mpirun" >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "two-node mpirun job"; }
    grep -q "job fashion-mnist completed" "$work/out" || { cat "$work/out"; fail "not completed"; }
    [ "$(cat "$work/mpirun/hostfile")" = "$(printf 'dojo-n1 slots=1\ndojo-n2 slots=1')" ] ||
      { cat "$work/mpirun/hostfile"; fail "hostfile"; }
    ! grep -q "if_include lo" "$work/mpirun/command.txt" || fail "loopback passed to mpirun"
    echo "mpirun in salloc -N2: ranks on dojo-n1 and dojo-n2, no loopback NIC"
    on_node 1 salloc -N2 -n2 "$launch" "$job" "${short[@]}" --slurm-launch srun --run-dir "$work/srun" >"$work/out" 2>&1 ||
      { cat "$work/out"; fail "two-node srun job"; }
    grep -q "job fashion-mnist completed" "$work/out" || { cat "$work/out"; fail "srun: not completed"; }
    echo "srun in salloc -N2: completed"
    # The Open MPI daemon on dojo-n2 killed: the attempt names the node.
    on_node 1 salloc -N2 -n2 "$launch" "$job" "${long[@]}" --set restarts.max=0 --set metrics.enabled=false \
      --run-dir "$work/lost" >"$work/out" 2>&1 &
    allocation=$!
    wait_steps "$work/lost" 25 || { cat "$work/out"; fail "the job did not start"; }
    pkill -KILL -x orted || fail "no orted to kill"
    code=0
    wait $allocation || code=$?
    [ $code -eq 1 ] || { cat "$work/out"; fail "lost node: exit $code"; }
    grep -q "attempt 0 failed: node dojo-n2 was lost" "$work/out" || { cat "$work/out"; fail "the lost node is not named"; }
    grep -q '"lost_nodes":\["dojo-n2"\]' "$work/lost/events.jsonl" || fail "lost_nodes not in the events"
    grep -q '"cause":"node_lost"' "$work/lost/events.jsonl" || fail "the node_lost cause is not in the events"
    echo "the Open MPI daemon on dojo-n2 killed: 'node dojo-n2 was lost'"
    ;;

  *)
    fail "unknown case $case_name"
    ;;
esac
