#!/usr/bin/env bash
# security_check.sh DOJO SOURCE_DIR: secrets and file permissions.
# - A name under `secret_env:` reaches every rank with its value from the
#   launcher's environment, and the value appears nowhere: not in the dry-run
#   output, the launcher's output, the logs, events, command or saved config.
# - An unset secret is refused before anything starts; bad secret_env entries
#   are located config errors.
# - Run directories and checkpoints are their owner's only; the file_sd
#   directory stays readable by Prometheus; the job's exporter binds 127.0.0.1.
set -euo pipefail
dojo=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DOJO_STATE_DIR=$work/state
[ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail() { echo "security_check: FAIL: $*" >&2; exit 1; }
leaks() {  # leaks DIR_OR_FILE...: fails when the secret value is in any of them
  if grep -rIlF -- "$DOJO_TEST_SECRET" "$@" 2>/dev/null; then fail "the secret value leaked into the files above"; fi
}

export DOJO_TEST_SECRET="s3cr3t-$RANDOM-value"
want=$(printf %s "$DOJO_TEST_SECRET" | cksum)
cat >"$work/job.yaml" <<YAML
version: 1
job:
  name: secret-job
  command: [sh, -c, 'printf %s "\$DOJO_TEST_SECRET" | cksum']
  resources: {ranks: 2}
  secret_env: [DOJO_TEST_SECRET]
  metrics: {enabled: false}
YAML

"$dojo" launch "$work/job.yaml" --dry-run >"$work/dry-run.out" 2>&1 || { cat "$work/dry-run.out"; fail "dry run"; }
grep -q -- "-x DOJO_TEST_SECRET\b" "$work/dry-run.out" || { cat "$work/dry-run.out"; fail "the dry run does not pass the secret by name"; }
leaks "$work/dry-run.out"

"$dojo" launch "$work/job.yaml" --run-dir "$work/run" >"$work/launch.out" 2>&1 || { cat "$work/launch.out"; fail "the job failed"; }
[ "$(grep -c "$want" "$work/run/attempt-0.log")" -eq 2 ] || { cat "$work/run/attempt-0.log"; fail "both ranks should see the secret's value"; }
leaks "$work/launch.out" "$work/run" "$work/state"
echo "secret_env: both ranks got the value; it is in no output, log, event, command or config"

unset DOJO_TEST_SECRET
code=0
"$dojo" launch "$work/job.yaml" --run-dir "$work/unset" >"$work/out" 2>&1 || code=$?
[ $code -ne 0 ] || fail "a job whose secret is unset started"
grep -q "secret_env names DOJO_TEST_SECRET, which is not set in the launcher's environment" "$work/out" || { cat "$work/out"; fail "unset-secret message"; }
[ ! -e "$work/unset" ] || fail "a refused job left a run directory"

printf 'job:\n  name: bad\n  command: [true]\n  resources: {ranks: 1}\n  env: {TOKEN: x}\n  secret_env: [TOKEN, "1BAD", HOME, HOME]\n' >"$work/bad.yaml"
code=0
"$dojo" validate "$work/bad.yaml" >"$work/out" 2>&1 || code=$?
[ $code -eq 2 ] || { cat "$work/out"; fail "bad secret_env: exit $code"; }
for want_line in "bad.yaml:6:16: error: job.secret_env\[0\]: TOKEN is also set in job.env" \
                 "bad.yaml:6:23: error: job.secret_env\[1\]: \"1BAD\" is not a valid environment variable name" \
                 "bad.yaml:6:37: error: job.secret_env\[3\]: HOME is listed twice"; do
  grep -Eq "$want_line" "$work/out" || { cat "$work/out"; fail "missing: $want_line"; }
done
echo "secret_env: unset secrets and bad entries are refused with located messages"

# Permissions: a training run's directory and checkpoints; the file_sd directory.
"$dojo" launch "$src/configs/jobs/fashion-mnist.yaml" --set workload.max_steps=40 --set checkpoint.every_steps=20 \
  --set workload.epochs=1 --run-dir "$work/train" >"$work/out" 2>&1 &
launcher=$!
bound=""
for _ in $(seq 200); do
  if [ -s "$work/train/metrics.port" ]; then
    port=$(cat "$work/train/metrics.port")
    bound=$(ss -ltnH "sport = :$port" | awk '{print $4}' | head -n 1)
    sd=$(ls "$work/state/prometheus/"*.json 2>/dev/null | head -n 1 || true)
    [ -n "$bound" ] && [ -n "$sd" ] && break
  fi
  sleep 0.05
done
[ -n "$bound" ] || { wait $launcher; fail "no exporter seen"; }
[ "$bound" = "127.0.0.1:$port" ] || fail "the job's exporter is bound to $bound, not 127.0.0.1"
launcher_bound=$(ss -ltnpH | grep "pid=$launcher," | awk '{print $4}' | sort -u)
[ -n "$launcher_bound" ] || fail "the launcher serves no metrics"
if grep -v '^127\.0\.0\.1:' <<<"$launcher_bound"; then fail "the launcher listens beyond 127.0.0.1"; fi
[ "$(stat -c %a "$work/state/prometheus")" = 755 ] || fail "the file_sd directory is not readable by Prometheus"
[ "$(stat -c %a "$sd")" = 644 ] || fail "the file_sd target file is not readable by Prometheus"
wait $launcher || { cat "$work/out"; fail "the training run failed"; }
[ "$(stat -c %a "$work/train")" = 700 ] || fail "run directory mode $(stat -c %a "$work/train"), want 700"
[ "$(stat -c %a "$work/train/checkpoints")" = 700 ] || fail "checkpoint directory is not owner-only"
for f in "$work/train/checkpoints/"*.ckpt; do
  [ "$(stat -c %a "$f")" = 600 ] || fail "$f has mode $(stat -c %a "$f"), want 600"
done
echo "permissions: run directory 700, checkpoints 600, file_sd 755/644; the job and launcher exporters bind 127.0.0.1"
