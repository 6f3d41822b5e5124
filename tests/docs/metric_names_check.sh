#!/usr/bin/env bash
# metric_names_check.sh DOJO: every metric name the docs, the alert rules and
# the Grafana dashboard mention is one the exporters really serve. Scrapes
# the three exporters while they run: the launcher's and rank 0's during a
# short fashion-mnist job (ranks heartbeating), and `dojo capacity serve` on
# the seed. Fails naming each documented metric nobody serves.
set -u
dojo=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
export DOJO_STATE_DIR="$work/state" OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

scrape() {  # scrape HOST:PORT FILE
  python3 - "$1" "$2" <<'PY'
import sys, urllib.request
body = urllib.request.urlopen(f"http://{sys.argv[1]}/metrics", timeout=10).read().decode()
open(sys.argv[2], "w").write(body)
PY
}

# A job that runs long enough to scrape with every rank's heartbeat in.
"$dojo" launch "$root/configs/jobs/fashion-mnist.yaml" --set resources.ranks=2 \
  --set workload.epochs=50 --run-dir "$work/run" >"$work/out" 2>&1 &
pids+=($!)
for _ in $(seq 600); do
  sd=$(ls "$work/state/prometheus/"*.json 2>/dev/null | head -n 1)
  if [ -n "$sd" ] && grep -q '"dojo_role": "job"' "$sd"; then
    launcher=$(python3 -c "import json,sys; print([g for g in json.load(open(sys.argv[1])) if g['labels']['dojo_role']=='launcher'][0]['targets'][0])" "$sd")
    job=$(python3 -c "import json,sys; print([g for g in json.load(open(sys.argv[1])) if g['labels']['dojo_role']=='job'][0]['targets'][0])" "$sd")
    scrape "$launcher" "$work/launcher.txt" 2>/dev/null && scrape "$job" "$work/job.txt" 2>/dev/null &&
      grep -q '^dojo_launcher_rank_step_seconds' "$work/launcher.txt" &&
      grep -q '^dojo_job_step_duration_seconds_count' "$work/job.txt" && break
  fi
  sleep 0.2
done
[ -s "$work/launcher.txt" ] && [ -s "$work/job.txt" ] || { cat "$work/out"; fail "could not scrape the job's exporters"; }

# The capacity exporter on the seed, on free ports: today (the ledger holds
# the job above: allocated, utilisation; the final milestone reached) and
# 2024-03-31 (the repair pool down: out of service).
capacity_scrapes=()
for as_of in today 2024-03-31; do
  port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  date_flag=()
  [ "$as_of" = today ] || date_flag=(--as-of "$as_of")
  "$dojo" capacity serve --listen "127.0.0.1:$port" --config "$root/configs/capacity/tesla-2024.yaml" \
    "${date_flag[@]}" --state-dir "$DOJO_STATE_DIR" --cluster "$root/configs/cluster/local.yaml" \
    >"$work/capacity-$as_of.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do scrape "127.0.0.1:$port" "$work/capacity-$as_of.txt" 2>/dev/null && break; sleep 0.1; done
  [ -s "$work/capacity-$as_of.txt" ] || { cat "$work/capacity-$as_of.log"; fail "could not scrape dojo capacity serve"; }
  capacity_scrapes+=("$work/capacity-$as_of.txt")
done

python3 - "$root" "$work/launcher.txt" "$work/job.txt" "${capacity_scrapes[@]}" <<'PY'
import glob, os, re, sys
root, scrapes = sys.argv[1], sys.argv[2:]
served = set()
for path in scrapes:
    for line in open(path):
        m = re.match(r"# TYPE (\w+) (\w+)", line)
        if m:
            name, kind = m.groups()
            served.add(name)
            if kind in ("histogram", "summary"):
                served.update({name + "_bucket", name + "_sum", name + "_count"})
        elif line and not line.startswith("#"):
            served.add(re.match(r"\w+", line).group(0))
documents = [os.path.join(root, "README.md")] + glob.glob(os.path.join(root, "docs", "*.md")) + \
    glob.glob(os.path.join(root, "configs", "prometheus", "*")) + \
    glob.glob(os.path.join(root, "configs", "grafana", "**", "*.json"), recursive=True)
metric = re.compile(r"\bdojo_(?:launcher|job|capacity)_[a-z0-9_]+")
missing = {}
mentioned = set()
for path in documents:
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        for name in metric.findall(line):
            if name in ("dojo_job_step", "dojo_job_begin_collective"):  # C client functions
                continue
            mentioned.add(name)
            if name not in served:
                missing.setdefault(name, f"{os.path.relpath(path, root)}:{number}")
for name, where in sorted(missing.items()):
    print(f"FAIL {where}: {name} is documented but no exporter serves it")
print(f"metric names: {len(mentioned)} documented, {len(served)} served, {len(missing)} missing")
sys.exit(1 if missing or len(mentioned) < 40 else 0)
PY
