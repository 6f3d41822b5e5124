#!/usr/bin/env bash
# client_test.sh CASE C_CLIENT: the job clients under a real dojorun, with a
# plain-Python data-parallel script (train_client.py) and a C program
# (c_client.c). Each case prints what it checks and exits non-zero on failure.
set -u
case_name=$1
c_client=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
export DOJO_BIN_DIR
DOJO_BIN_DIR=$(cd "$(dirname "$c_client")/../../bin" && pwd)
work=$(mktemp -d)
trap 'pkill -KILL -f "$work" 2>/dev/null; rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export DOJO_STATE_DIR="$work/state"
dojorun="$root/scripts/dojorun"
script="$root/tests/client/train_client.py"

fail() { echo "FAIL: $*" >&2; exit 1; }
no_orphans() {
  sleep 0.5
  if pgrep -f "$work" >/dev/null; then pgrep -af "$work" >&2; fail "processes left behind"; fi
}
# job NAME RANKS COMMAND...: a command job with a short hang timeout.
job() {
  local name=$1 ranks=$2
  shift 2
  local words=""
  for w in "$@"; do words+="${words:+, }\"$w\""; done
  cat >"$work/$name.yaml" <<YAML
version: 1
job:
  name: $name
  command: [$words]
  resources:
    ranks: $ranks
  hang_timeout_s: 8
  restarts:
    max: 2
    backoff_s: 0.2
  stragglers:
    ratio: 1.5
    steps: 10
YAML
  echo "$work/$name.yaml"
}
json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
run() {  # run NAME RANKS [dojorun flags]: runs the Python job; output in $work/NAME.out, code in $rc
  local name=$1 ranks=$2
  shift 2
  "$dojorun" "$(job "$name" "$ranks" python3 "$script")" -H "localhost:$ranks" --run-dir "$work/$name" "$@" >"$work/$name.out" 2>&1
  rc=$?
}

case "$case_name" in
  outside)
    echo "outside dojorun the client does nothing and never fails"
    out=$(env -u DOJO_HEARTBEAT_ADDR PYTHONPATH="$root/python" python3 - <<'PY'
import signal, threading
before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)}
import dojo_job
assert not dojo_job.active()
dojo_job.step(1, samples=8, loss=0.5)
with dojo_job.collective("all_reduce"):
    pass
dojo_job.begin_collective(); dojo_job.end_collective(); dojo_job.end_collective()
dojo_job.done()
assert not dojo_job.stop_requested() and dojo_job.stop_signal() == 0
assert {s: signal.getsignal(s) for s in before} == before, "signal handlers changed"
assert threading.active_count() == 1, "a thread was started"
print(dojo_job.run_dir(), dojo_job.attempt(), dojo_job.checkpoint_dir(), dojo_job.batch_share(),
      dojo_job.rank(), dojo_job.world_size(), dojo_job.local_rank())
PY
) || fail "the client failed outside dojorun"
    [ "$out" = ". 0 checkpoints None 0 1 0" ] || fail "defaults outside dojorun: $out"
    echo "a forked child (a DataLoader worker) reports nothing, and its exit does not end the rank"
    PYTHONPATH="$root/python" python3 - <<'PY' || fail "a forked child reported for the rank"
import os, socket
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("127.0.0.1", 0))
sink.settimeout(0.5)
os.environ["DOJO_HEARTBEAT_ADDR"] = "127.0.0.1:%d" % sink.getsockname()[1]
import dojo_job
assert dojo_job.active()
while True:  # the first heartbeat, sent when the client started
    try:
        sink.recv(512)
    except socket.timeout:
        break
pid = os.fork()
if pid == 0:
    ok = not dojo_job.active()
    dojo_job.done()
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, "the client is active in the child"
try:
    line = sink.recv(512).decode()
    assert line.endswith(" run"), "a done heartbeat came from the child: " + line
except socket.timeout:
    pass
PY
    echo "an address that does not resolve: a warning, and the program runs on"
    err=$(DOJO_HEARTBEAT_ADDR=no-such-host.invalid:9 PYTHONPATH="$root/python" python3 -c \
      'import dojo_job; assert not dojo_job.active(); dojo_job.step(0); print("ran")' 2>&1) ||
      fail "a bad DOJO_HEARTBEAT_ADDR broke the program: $err"
    grep -q "dojo_job: no heartbeats to no-such-host.invalid:9" <<<"$err" || fail "no warning: $err"
    grep -q "^ran$" <<<"$err" || fail "the program did not run on: $err"
    ;;
  figures)
    echo "4 ranks, rank 2 sleeps 50 ms a step: figures on the exporter and in summary.json, rank 2 the straggler"
    TRAIN_SLOW_RANK=2 TRAIN_STEPS=150 "$dojorun" "$(job figures 4 python3 "$script")" -H localhost:4 --run-dir "$work/figures" >"$work/figures.out" 2>&1 &
    pid=$!
    metrics=""
    while kill -0 "$pid" 2>/dev/null; do
      if [ -f "$work/figures/launcher.port" ]; then
        port=$(cat "$work/figures/launcher.port")
        metrics=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:'+sys.argv[1]+'/metrics').read().decode())" "$port" 2>/dev/null)
        grep -q '^dojo_launcher_slowest_rank{job_name="figures"} 2$' <<<"$metrics" &&
          grep -q '^dojo_launcher_stragglers_total{job_name="figures"} 1$' <<<"$metrics" && break
      fi
      sleep 0.2
    done
    wait "$pid"
    rc=$?
    [ "$rc" -eq 0 ] || { cat "$work/figures.out"; fail "the job failed ($rc)"; }
    grep -q '^dojo_launcher_slowest_rank{job_name="figures"} 2$' <<<"$metrics" ||
      { echo "$metrics" | grep dojo_launcher; tail -5 "$work/figures.out"; fail "the exporter never named rank 2 the slowest"; }
    for name in dojo_launcher_step_seconds dojo_launcher_samples_per_second dojo_launcher_loss \
                'dojo_launcher_rank_step_seconds{job_name="figures",rank="3"}' dojo_launcher_straggler_ratio; do
      grep -q "^$name" <<<"$metrics" || fail "the exporter has no $name"
    done
    if command -v promtool >/dev/null; then
      promtool check metrics <<<"$metrics" || fail "promtool check metrics"
    fi
    grep -q "dojo launch: straggler: rank 2 on localhost: .* for 10 steps" "$work/figures.out" ||
      fail "no straggler line in the log"
    [ "$(grep -c '"event":"straggler"' "$work/figures/events.jsonl")" -eq 1 ] || fail "not one straggler event"
    grep '"event":"straggler"' "$work/figures/events.jsonl" | grep -q '"rank":2,"host":"localhost"' ||
      fail "the straggler event does not name rank 2 on localhost"
    python3 - "$work/figures/summary.json" "$work/figures/script-final.json" <<'PY' || fail "summary.json does not show what the script sent"
import json, math, sys
s, sent = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert s["status"] == "completed" and s["ranks"] == 4 and s["ranks_measured"] == 4, s
assert s["step"] == sent["step"] == 149, (s["step"], sent)
assert math.isclose(s["loss"], sent["loss"], rel_tol=1e-6), (s["loss"], sent["loss"])
assert s["samples_per_second"] > 0 and s["step_seconds"] > 0 and 0 < s["communication_ratio"] < 1, s
assert s["slowest_rank"] == 2 and s["straggler_ratio"] > 1.5, s
assert [x["rank"] for x in s["stragglers"]] == [2], s["stragglers"]
PY
    no_orphans
    ;;
  hang)
    echo "rank 1 freezes (SIGSTOP) inside the all-reduce of step 15: named with its host, step and collective"
    TRAIN_FREEZE=1:15 run hang 4
    [ "$rc" -eq 0 ] || { cat "$work/hang.out"; fail "the job did not complete after the hang ($rc)"; }
    grep -q "attempt 0 hung: no progress for 8 s (hang_timeout_s): rank 1 on localhost (step 1[45], in all_reduce #1[67]) stopped sending heartbeats; 3 other ranks wait in all_reduce" "$work/hang.out" ||
      { grep "dojo launch" "$work/hang.out"; fail "the hang report does not name rank 1 and its all-reduce"; }
    grep -q '"event":"hung","attempt":0,"cause":"hang",.*"ranks":\[1\]' "$work/hang/events.jsonl" || fail "the hung event does not blame rank 1"
    grep -Eq "; flight recorder: ranks 0, 2, 3 wait in all_reduce #1[67] since [0-9.]+ s; rank 1 did not answer \(stopped, or lost\)" "$work/hang.out" ||
      { grep "dojo launch" "$work/hang.out"; fail "the verdict from the client's collective marks"; }
    grep -q '"source": "heartbeats"' "$work/hang/flight-attempt-0.json" || fail "the command job's flight record"
    grep -q "resumed from step 9 (attempt 1)" "$work/hang.out" || fail "attempt 1 did not resume from the checkpoint"
    no_orphans
    echo "rank 1 enters a barrier while rank 0 waits in the all-reduce of the same number: a mismatch, before the hang timeout"
    TRAIN_MISMATCH=1:15 run mismatch 2
    [ "$rc" -eq 0 ] || { cat "$work/mismatch.out"; fail "the job did not complete after the mismatch ($rc)"; }
    grep -Eq "attempt 0 hung: collective mismatch: rank 0 on localhost in all_reduce #([0-9]+), rank 1 on localhost in barrier #\1: the ranks disagree on the collective sequence; flight recorder: rank 1 is in barrier #\1 instead \(the ranks disagree on the collective sequence\); rank 0 waits in all_reduce #\1 since [0-9.]+ s; cause: hang" "$work/mismatch.out" ||
      { grep "dojo launch" "$work/mismatch.out"; fail "the mismatch is not reported naming both operations"; }
    no_orphans
    ;;
  stop)
    echo "SIGTERM to dojorun: the script saves and exits 3; the next run resumes"
    TRAIN_STEPS=100000 "$dojorun" "$(job stop 2 python3 "$script")" -H localhost:2 --run-dir "$work/stop" >"$work/stop.out" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do
      grep -q '"event":"attempt"' "$work/stop/events.jsonl" 2>/dev/null && [ -f "$work/stop/checkpoints/ckpt.json" ] && break
      sleep 0.2
    done
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    [ "$rc" -eq 3 ] || { cat "$work/stop.out"; fail "dojorun exited $rc, not 3"; }
    [ "$(cat "$work/stop/status")" = stopped ] || fail "status is not stopped"
    grep -q "stopping at step [0-9]* on signal 10" "$work/stop.out" || fail "the script did not see SIGUSR1"
    grep -q "job stop stopped: on request (SIGTERM)" "$work/stop.out" || fail "no stop line"
    grep -q '"event":"stopped","attempt":0,"cause":"stopped"' "$work/stop/events.jsonl" || fail "the stop's cause"
    stopped_at=$(json_field "$work/stop/checkpoints/ckpt.json" step)
    no_orphans
    TRAIN_STEPS=$((stopped_at + 5)) run stop 2
    [ "$rc" -eq 0 ] || { cat "$work/stop.out"; fail "the second run failed ($rc)"; }
    grep -q "resumed from step $stopped_at (attempt 1)" "$work/stop.out" || fail "the second run did not resume from step $stopped_at"
    no_orphans
    ;;
  restart)
    echo "rank 1 exits 7 at step 12 of attempt 0: the job restarts and resumes from step 9"
    TRAIN_FAIL=1:12 run restart 3
    [ "$rc" -eq 0 ] || { cat "$work/restart.out"; fail "the job failed ($rc)"; }
    grep -q "attempt 0 failed: rank 1 on localhost exited with code 7" "$work/restart.out" ||
      fail "no failure line naming rank 1"
    grep -q "resumed from step 9 (attempt 1)" "$work/restart.out" || fail "attempt 1 did not resume"
    [ "$(json_field "$work/restart/summary.json" attempts)" -eq 2 ] || fail "summary.json does not count 2 attempts"
    python3 - "$work/restart/summary.json" <<'PY' || fail "the command job's goodput"
import json, sys
g = json.load(open(sys.argv[1]))["goodput"]
b = g["badput_seconds"]
assert g["attempts"] == 2 and 0 < g["ratio"] < 1, g
assert b["checkpoint"] > 0, g  # the client's checkpoint() marks
assert 0 <= g["lost_steps"] <= 2, g  # steps 10 and 11 ran twice; heartbeats, 1 a second, may not have said so
PY
    no_orphans
    ;;
  c-header)
    echo "the C header: a no-op outside dojorun"
    out=$(env -u DOJO_HEARTBEAT_ADDR "$c_client" noop) || fail "c_client noop failed"
    grep -q "^inactive: rank 0 of 1, attempt 0, share 0, run dir ., checkpoints checkpoints, stop 0$" <<<"$out" ||
      fail "c_client noop: $out"
    echo "under dojorun: figures in summary.json"
    "$dojorun" "$(job c 2 "$c_client" 150)" -H localhost:2 --run-dir "$work/c" >"$work/c.out" 2>&1 ||
      { cat "$work/c.out"; fail "the C job failed"; }
    python3 - "$work/c/summary.json" <<'PY' || fail "summary.json does not show what the C program sent"
import json, math, sys
s = json.load(open(sys.argv[1]))
assert s["step"] == 149 and math.isclose(s["loss"], 1 / 150, rel_tol=1e-6), s
assert s["ranks_measured"] == 2 and s["samples_per_second"] > 0 and s["communication_ratio"] > 0, s
PY
    echo "SIGTERM to dojorun: the program's own SIGUSR1 handler runs too, and it exits 3"
    "$dojorun" "$(job cstop 2 "$c_client" 100000)" -H localhost:2 --run-dir "$work/cstop" >"$work/cstop.out" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do
      grep -q '"event":"attempt"' "$work/cstop/events.jsonl" 2>/dev/null && break
      sleep 0.2
    done
    sleep 2
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    [ "$rc" -eq 3 ] || { cat "$work/cstop.out"; fail "dojorun exited $rc, not 3"; }
    [ "$(grep -c 'stop on signal 10 at step [0-9]*; own handler ran: 1' "$work/cstop.out")" -eq 2 ] ||
      { cat "$work/cstop.out"; fail "not both ranks stopped with their own handler run"; }
    no_orphans
    ;;
  *)
    fail "unknown case $case_name"
    ;;
esac
echo "ok: $case_name"
