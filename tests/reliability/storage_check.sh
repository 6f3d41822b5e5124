#!/usr/bin/env bash
# storage_check.sh DOJO SOURCE_DIR: storage faults. The newest checkpoint
# truncated, or with flipped bytes, is skipped with a message naming it and
# the previous one is used; a full disk during a checkpoint write (a 5 MiB
# tmpfs as the run directory; root only, else this part is skipped) keeps the
# earlier checkpoints intact, leaves no partial file and ends the attempt
# with an error that names the file and the cause.
set -euo pipefail
dojo=$1
src=$2
work=$(mktemp -d)
mounted=""
cleanup() { [ -z "$mounted" ] || umount "$mounted" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export DOJO_STATE_DIR=$work/state
[ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail() { echo "storage_check: FAIL: $*" >&2; exit 1; }
job=("$src/configs/jobs/fashion-mnist.yaml" --set resources.ranks=2 --set workload.global_batch=64
     --set workload.seed=5 --set metrics.enabled=false --set checkpoint.every_steps=20
     --set checkpoint.keep=3 --set restarts.max=0)
ckpt() { printf '%s/checkpoints/step-%012d.ckpt' "$1" "$2"; }

# An undisturbed 80-step run, and one stopped at 60 whose newest checkpoint is damaged.
"$dojo" launch "${job[@]}" --set workload.max_steps=80 --run-dir "$work/clean" >"$work/out" 2>&1 ||
  { cat "$work/out"; fail "clean run"; }
for damage in truncate flip; do
  run=$work/$damage
  "$dojo" launch "${job[@]}" --set workload.max_steps=60 --run-dir "$run" >"$work/out" 2>&1 ||
    { cat "$work/out"; fail "first part of the $damage run"; }
  newest=$(ckpt "$run" 60)
  size=$(stat -c %s "$newest")
  if [ $damage = truncate ]; then
    truncate -s $((size / 2)) "$newest"
    want="truncated \\($((size / 2)) bytes, the header announces $size\\)"
  else
    printf '\xff\xff\xff\xff' | dd of="$newest" bs=1 seek=$((size / 2)) conv=notrunc status=none
    want="checksum mismatch \\(the file is corrupt\\)"
  fi
  "$dojo" launch "${job[@]}" --set workload.max_steps=80 --run-dir "$run" >"$work/out" 2>&1 ||
    { cat "$work/out"; fail "the $damage run did not resume"; }
  # The second launch in the run directory continues the attempt numbering.
  grep -Eq "skipping checkpoint .*step-000000000060\.ckpt: .*$want" "$run/attempt-1.log" ||
    { cat "$run/attempt-1.log"; fail "no message naming the damaged checkpoint ($damage)"; }
  grep -q "resumed from the checkpoint of step 40" "$run/attempt-1.log" || fail "did not resume from step 40 ($damage)"
  cmp "$(ckpt "$work/clean" 80)" "$(ckpt "$run" 80)" || fail "the result after a $damage differs"
  echo "newest checkpoint (${damage}): skipped with a message, resumed from step 40, result identical"
done

if [ "$(id -u)" -ne 0 ] || ! command -v mount >/dev/null; then
  echo "storage_check: full-disk part skipped (needs root to mount a tmpfs)"
  exit 0
fi
mkdir "$work/small"
mount -t tmpfs -o size=5m tmpfs "$work/small" || { echo "storage_check: cannot mount a tmpfs; full-disk part skipped"; exit 0; }
mounted=$work/small
run=$work/small/run
code=0
"$dojo" launch "${job[@]}" --set workload.max_steps=200 --run-dir "$run" >"$work/out" 2>&1 || code=$?
[ $code -eq 1 ] || { cat "$work/out"; fail "a full disk: exit $code, wanted 1"; }
grep -q "attempt 0 failed" "$work/out" || { cat "$work/out"; fail "the attempt did not end"; }
grep -Eq "cannot (write|sync|close) .*step-[0-9]+\.ckpt: No space left on device" "$run/attempt-0.log" ||
  { cat "$run/attempt-0.log"; fail "no clear disk-full error"; }
"$dojo" checkpoint verify "$run/checkpoints" >"$work/verify" 2>&1 || { cat "$work/verify"; fail "earlier checkpoints damaged or a partial file left"; }
grep -q "ok: .*step-000000000020.ckpt" "$work/verify" || { cat "$work/verify"; fail "the first checkpoint is gone"; }
cat "$work/verify"
echo "a full disk ends the attempt with a clear error; earlier checkpoints intact, no partial file"
