#!/usr/bin/env bash
# worker_test.sh CASE DOJO: end-to-end tests of `dojo worker` under mpirun on
# the real Fashion-MNIST files. Each case prints what it checks and exits
# non-zero on the first failure.
set -u
case_name=$1
dojo=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
job="$root/configs/jobs/fashion-mnist.yaml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none)
short=(--set workload.max_steps=60 --set workload.global_batch=64 --set metrics.enabled=false
       --set checkpoint.every_steps=20 --set workload.seed=3)

fail() { echo "FAIL: $*" >&2; exit 1; }

# run NP RUN_DIR ARGS...: one worker job; output in $work/out, exit code in $rc.
run() {
  local np=$1 dir=$2
  shift 2
  "${mpi[@]}" -np "$np" "$dojo" worker "$job" --set resources.ranks="$np" --run-dir "$dir" "$@" >"$work/out" 2>&1
  rc=$?
}

# Largest relative difference between two loss curves (step,loss lines).
max_rel_diff() {
  python3 - "$1" "$2" <<'PY'
import sys
a = [float(l.split(",")[1]) for l in open(sys.argv[1])]
b = [float(l.split(",")[1]) for l in open(sys.argv[2])]
assert len(a) == len(b), f"{len(a)} steps against {len(b)}"
print(max(abs(x - y) / max(abs(x), 1e-12) for x, y in zip(a, b)))
PY
}

case "$case_name" in
  same-loss)
    # 1, 2 and 4 ranks with one global batch and seed, and uneven 3:1 shares,
    # give the same loss for 50 steps within 1e-5 relative.
    for np in 1 2 4; do
      run "$np" "$work/np$np" "${short[@]}" --set workload.max_steps=50
      [ "$rc" -eq 0 ] || { cat "$work/out"; fail "np $np exited $rc"; }
    done
    run 2 "$work/uneven" "${short[@]}" --set workload.max_steps=50 --set "resources.shares=[3, 1]"
    [ "$rc" -eq 0 ] || { cat "$work/out"; fail "uneven shares exited $rc"; }
    grep -q "this rank 48" "$work/out" || fail "3:1 shares of 64 should give rank 0 48 samples"
    [ "$(wc -l <"$work/np1/loss.csv")" -eq 50 ] || fail "expected 50 losses"
    for other in np2 np4 uneven; do
      diff=$(max_rel_diff "$work/np1/loss.csv" "$work/$other/loss.csv") || fail "cannot compare $other"
      echo "np1 vs $other: max relative loss difference $diff"
      python3 -c "import sys; sys.exit(0 if $diff <= 1e-5 else 1)" || fail "$other differs by $diff"
    done
    ;;
  resume)
    # An interrupted and resumed run ends bit-identical to an undisturbed one;
    # a corrupt newest checkpoint is skipped with a message.
    run 2 "$work/a" "${short[@]}"
    [ "$rc" -eq 0 ] || { cat "$work/out"; fail "undisturbed run exited $rc"; }
    run 2 "$work/b" "${short[@]}" --stop-after-steps 25
    [ "$rc" -eq 3 ] || { cat "$work/out"; fail "a stopped run should exit 3, got $rc"; }
    grep -q "stopped at step 25 on request; checkpoint saved" "$work/out" || fail "no stop message"
    run 2 "$work/b" "${short[@]}"
    [ "$rc" -eq 0 ] || { cat "$work/out"; fail "resumed run exited $rc"; }
    grep -q "resumed from the checkpoint of step 25" "$work/out" || { cat "$work/out"; fail "did not resume at 25"; }
    cmp "$work/a/checkpoints/step-000000000060.ckpt" "$work/b/checkpoints/step-000000000060.ckpt" ||
      fail "resumed run's final state differs from the undisturbed run's"
    echo "stopped at 25 and resumed: final checkpoint bit-identical"

    run 2 "$work/c" "${short[@]}" --stop-after-steps 25
    [ "$rc" -eq 3 ] || fail "second stopped run exited $rc"
    newest="$work/c/checkpoints/step-000000000025.ckpt"
    printf '\xff' | dd of="$newest" bs=1 seek=100 conv=notrunc status=none
    run 2 "$work/c" "${short[@]}"
    [ "$rc" -eq 0 ] || { cat "$work/out"; fail "run after corruption exited $rc"; }
    grep -q "dojo: skipping checkpoint $newest: checksum mismatch (the file is corrupt)" "$work/out" ||
      { cat "$work/out"; fail "no message about the corrupt checkpoint"; }
    grep -q "resumed from the checkpoint of step 20" "$work/out" || fail "did not fall back to step 20"
    cmp "$work/a/checkpoints/step-000000000060.ckpt" "$work/c/checkpoints/step-000000000060.ckpt" ||
      fail "run resumed past a corrupt checkpoint differs"
    echo "corrupt newest checkpoint skipped; resumed from 20; final checkpoint bit-identical"

    # every_steps: auto sets the interval by Young-Daly from the measured save time.
    # A cluster whose devices fail every 0.36 s: a 2-rank job's MTBF is 0.18 s.
    printf 'cluster:\n  name: fragile\n  accelerators: %s\n  nodes: [{host: localhost, slots: 2, accelerator: cpu}]\n  device_mtbf_hours: 0.0001\n' \
      "$root/configs/accelerators.yaml" >"$work/fragile.yaml"
    run 2 "$work/auto" "${short[@]}" --set checkpoint.every_steps=auto --set checkpoint.save_time_s=0.5 \
      --set cluster="$work/fragile.yaml"
    [ "$rc" -eq 0 ] || { cat "$work/out"; fail "auto checkpoint run exited $rc"; }
    grep -Eq "checkpoints every [0-9]+ steps \(Young-Daly: sqrt\(2 x 0.500 s save x 0.18 s job MTBF\) = 0.424 s" "$work/out" ||
      { cat "$work/out"; fail "no Young-Daly interval message"; }
    echo "auto checkpoints follow Young-Daly"
    ;;
  agreement)
    # Every decision that selects a collective is agreed by all ranks. Rank 1's
    # clock runs 1000 times fast, so on its own it would take a checkpoint
    # interval of 1 step while rank 0 takes about a hundred: rank 1 would wait
    # in the checkpoint barrier while rank 0 waits in the next all-reduce,
    # until the collective deadline. Agreed, both checkpoint every step.
    printf 'cluster:\n  name: fragile\n  accelerators: %s\n  nodes: [{host: localhost, slots: 2, accelerator: cpu}]\n  device_mtbf_hours: 0.0001\n' \
      "$root/configs/accelerators.yaml" >"$work/fragile.yaml"
    "${mpi[@]}" -np 2 -x DOJO_FAULT_CLOCK_SKEW=1000 -x DOJO_FAULT_RANK=1 "$dojo" worker "$job" \
      --set resources.ranks=2 --run-dir "$work/skew" "${short[@]}" --set workload.max_steps=30 \
      --set checkpoint.every_steps=auto --set checkpoint.save_time_s=0.5 --set checkpoint.keep=2 \
      --set collectives.timeout_s=30 --set cluster="$work/fragile.yaml" >"$work/out" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || { cat "$work/out"; fail "ranks with skewed clocks exited $rc (disagreed on a collective?)"; }
    grep -q "checkpoints every 1 steps" "$work/out" || { cat "$work/out"; fail "the slowest rank's step time should decide"; }
    ls "$work/skew/checkpoints/step-000000000030.ckpt" >/dev/null || fail "no final checkpoint"
    echo "ranks with skewed clocks agree on the checkpoint interval"
    # A bad fault setting is a usage error naming the variable.
    "${mpi[@]}" -np 1 -x DOJO_FAULT_CLOCK_SKEW=fast "$dojo" worker "$job" --run-dir "$work/bad" \
      "${short[@]}" >"$work/out" 2>&1
    rc=$?
    [ "$rc" -eq 2 ] || { cat "$work/out"; fail "a bad DOJO_FAULT_CLOCK_SKEW should exit 2, got $rc"; }
    grep -q 'DOJO_FAULT_CLOCK_SKEW="fast" is not a number' "$work/out" || { cat "$work/out"; fail "skew message"; }
    "${mpi[@]}" -np 1 -x DOJO_ATTEMPT=x1 "$dojo" worker "$job" --run-dir "$work/bad" \
      "${short[@]}" >"$work/out" 2>&1
    rc=$?
    [ "$rc" -eq 2 ] || { cat "$work/out"; fail "a bad DOJO_ATTEMPT should exit 2, got $rc"; }
    grep -q 'DOJO_ATTEMPT="x1" is not an integer from 0 to 1000000' "$work/out" || { cat "$work/out"; fail "attempt message"; }
    echo "bad environment numbers are usage errors"
    ;;
  bad-inputs)
    run 2 "$work/x" "${short[@]}" --set workload.dataset_dir=/nonexistent/fmnist
    [ "$rc" -ne 0 ] || fail "a missing dataset should fail"
    grep -q "rank 0 on .*: /nonexistent/fmnist/train-images-idx3-ubyte.gz: no such file" "$work/out" ||
      { cat "$work/out"; fail "missing dataset message"; }
    "${mpi[@]}" -np 4 "$dojo" worker "$job" --set resources.ranks=4 --set workload.global_batch=3 \
      --run-dir "$work/y" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "a global batch below the rank count is a config error (exit 2)"
    grep -q "job.workload.global_batch: 3 samples cannot be shared by 4 ranks" "$work/out" || { cat "$work/out"; fail "batch message"; }
    "${mpi[@]}" -np 3 "$dojo" worker "$job" --set resources.ranks=2 --run-dir "$work/z" >"$work/out" 2>&1
    [ $? -ne 0 ] || fail "a rank count mismatch should fail"
    grep -q "the job asks for 2 ranks but runs on 3" "$work/out" || { cat "$work/out"; fail "rank mismatch message"; }
    "${mpi[@]}" -np 2 -x DOJO_BATCH_SHARE=50 "$dojo" worker "$job" "${short[@]}" --run-dir "$work/w" >"$work/out" 2>&1
    [ $? -ne 0 ] || fail "shares that do not add up should fail"
    grep -q "the ranks' DOJO_BATCH_SHARE add up to 100 samples, not the global batch of 64" "$work/out" ||
      { cat "$work/out"; fail "shares message"; }
    "$dojo" worker "$root/configs/jobs/command-torchrun-style.yaml" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "a command job is a usage error for the worker"
    grep -q "runs a command, not a built-in workload" "$work/out" || fail "command job message"
    run 2 "$work/g" "${short[@]}" --set workload.device=gpu
    [ "$rc" -eq 1 ] || { cat "$work/out"; fail "device gpu on the mpi backend should fail"; }
    grep -Eq "workload.device gpu needs (the nccl collectives backend|dojo built with CUDA)" "$work/out" ||
      { cat "$work/out"; fail "device gpu message"; }
    echo "bad inputs give clear errors"
    ;;
  non-finite)
    # A non-finite gradient stops the job with a clear error, or is skipped and counted.
    blowup=(--set workload.optimizer.learning_rate=1e30 --set workload.optimizer.warmup_steps=0)
    run 2 "$work/e" "${short[@]}" "${blowup[@]}"
    [ "$rc" -eq 1 ] || { cat "$work/out"; fail "non-finite under error policy should exit 1, got $rc"; }
    grep -Eq "rank 0 on .*: non-finite (gradient|loss) at step [0-9]+ \(loss .*\); set workload.non_finite: skip" "$work/out" ||
      { cat "$work/out"; fail "non-finite message"; }
    run 2 "$work/s" "${short[@]}" "${blowup[@]}" --set workload.non_finite=skip
    [ "$rc" -eq 0 ] || { cat "$work/out"; fail "skip policy should finish, got $rc"; }
    grep -q "skipping step" "$work/out" || fail "no skip message"
    python3 -c "import json,sys; s=json.load(open('$work/s/summary.json')); sys.exit(0 if s['skipped_steps'] > 0 else 1)" ||
      fail "summary.json does not count skipped steps"
    echo "non-finite steps: error policy stops with a message; skip policy skips and counts"
    ;;
  synthetic)
    # ResNet-50-shaped gradients with real GEMM compute; stops on request without state.
    syn=("$root/configs/jobs/synthetic-resnet50.yaml" --set cluster="$root/configs/cluster/local.yaml"
         --set resources.h100e=0.01 --set workload.device=cpu --set collectives.backend=mpi
         --set collectives.compression=none --set workload.global_batch=4 --set workload.gflop_per_sample=0.5
         --set metrics.enabled=false)
    "${mpi[@]}" -np 2 "$dojo" worker "${syn[@]}" --set workload.max_steps=10 --run-dir "$work/syn" >"$work/out" 2>&1
    [ $? -eq 0 ] || { cat "$work/out"; fail "synthetic run failed"; }
    grep -q "synthetic resnet50 (161 tensors, 25.6 M parameters, 0.5 GFLOP a sample)" "$work/out" || { cat "$work/out"; fail "synthetic banner"; }
    python3 -c "import json,sys; s=json.load(open('$work/syn/summary.json')); sys.exit(0 if s['steps'] == 10 and s['samples_per_second'] > 0 else 1)" ||
      fail "synthetic summary"
    "${mpi[@]}" -np 2 "$dojo" worker "${syn[@]}" --set workload.max_steps=50 --stop-after-steps 3 --run-dir "$work/syn2" >"$work/out" 2>&1
    [ $? -eq 3 ] || { cat "$work/out"; fail "a stopped synthetic run exits 3"; }
    grep -q "stopped at step 3 on request; checkpoint saved" "$work/out" || { cat "$work/out"; fail "synthetic stop message"; }
    # The same loop as the MLP's: the synthetic job resumes from its checkpoint,
    # and fault points and injected exits work in it.
    "${mpi[@]}" -np 2 "$dojo" worker "${syn[@]}" --set workload.max_steps=6 --run-dir "$work/syn2" >"$work/out" 2>&1
    [ $? -eq 0 ] || { cat "$work/out"; fail "resumed synthetic run failed"; }
    grep -q "resumed from the checkpoint of step 3" "$work/out" || { cat "$work/out"; fail "synthetic resume"; }
    python3 -c "import json,sys; s=json.load(open('$work/syn2/summary.json')); sys.exit(0 if s['steps'] == 6 and s['resumed_from_step'] == 3 else 1)" ||
      fail "resumed synthetic summary"
    "${mpi[@]}" -np 2 -x DOJO_FAULT_KILL=step.allreduce:2 -x DOJO_FAULT_RANK=1 "$dojo" worker "${syn[@]}" \
      --set workload.max_steps=5 --run-dir "$work/syn4" >"$work/out" 2>&1
    [ $? -ne 0 ] || { cat "$work/out"; fail "a synthetic rank killed at step.allreduce should fail the run"; }
    [ ! -f "$work/syn4/summary.json" ] || fail "a killed synthetic run wrote a summary"
    "${mpi[@]}" -np 2 "$dojo" worker "${syn[@]}" --set collectives.backend=nccl --run-dir "$work/syn3" >"$work/out" 2>&1
    [ $? -eq 1 ] || fail "nccl without a GPU should fail"
    grep -Eq "the nccl backend needs a CUDA device and none is visible|unknown collectives backend \"nccl\"" "$work/out" ||
      { cat "$work/out"; fail "nccl message"; }
    echo "synthetic workload runs, stops with a checkpoint, resumes, dies at a fault point, and refuses nccl without a GPU"
    ;;
  metrics)
    # Scrape rank 0's exporter during training and lint it with promtool.
    "${mpi[@]}" -np 2 "$dojo" worker "$job" --set resources.ranks=2 --set workload.epochs=30 \
      --run-dir "$work/m" >"$work/out" 2>&1 &
    launcher=$!
    for _ in $(seq 300); do [ -s "$work/m/metrics.port" ] && break; sleep 0.1; done
    [ -s "$work/m/metrics.port" ] || { kill -USR1 $launcher; fail "no metrics.port"; }
    port=$(cat "$work/m/metrics.port")
    sleep 1
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    sed '1,/^\r$/d' <&3 >"$work/metrics.txt"
    exec 3<&-
    kill -USR1 $launcher  # stop the job: it checkpoints and exits 3
    wait $launcher
    stopped=$?
    for name in dojo_job_info dojo_job_step_duration_seconds_bucket dojo_job_samples_per_second \
                dojo_job_loss dojo_job_allreduce_seconds_total dojo_job_allreduce_bytes_total \
                dojo_job_exposed_communication_seconds_total dojo_job_straggler_ratio dojo_job_slowest_rank; do
      grep -q "^$name" "$work/metrics.txt" || { cat "$work/metrics.txt"; fail "metric $name missing"; }
    done
    promtool check metrics <"$work/metrics.txt" || fail "promtool check metrics"
    [ "$stopped" -eq 3 ] || { cat "$work/out"; fail "SIGUSR1 should stop the job with exit 3, got $stopped"; }
    grep -q "on request; checkpoint saved" "$work/out" || fail "no checkpoint on SIGUSR1"
    ls "$work/m/checkpoints/"step-*.ckpt >/dev/null || fail "no checkpoint file"
    echo "metrics pass promtool; SIGUSR1 checkpoints and stops"
    ;;
  *)
    fail "unknown case $case_name"
    ;;
esac
