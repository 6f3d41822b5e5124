#!/usr/bin/env bash
# simulate_check.sh DOJO SOURCE_DIR: `dojo simulate` through the real binary:
# JSON, CSV and table output at the plan's two scales, the chart, calibration
# from a real `dojo bench allreduce --csv` run, and usage errors that leave no
# file behind.
set -euo pipefail
dojo=$1
src=$2
cluster=$src/configs/cluster/example-h100.yaml
job=$src/configs/jobs/synthetic-resnet50.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "simulate_check: $*" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then  # OpenMPI refuses root without these (CI runs as root)
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# expect_error PATTERN ARGS...: `dojo simulate ARGS...` exits 2 with PATTERN.
expect_error() {
  local pattern=$1 out code=0
  shift
  out=$("$dojo" simulate "$@" 2>&1) || code=$?
  [ "$code" -eq 2 ] || fail "exit $code (wanted 2) for: $* -> $out"
  grep -Eq -- "$pattern" <<<"$out" || fail "for $*: wanted /$pattern/, got: $out"
}

"$dojo" simulate --cluster "$cluster" --job "$job" --h100e 35000,85000 --format json >"$work/plan.json"
python3 - "$work/plan.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
assert isinstance(plan, list) and len(plan) == 2, plan
small, large = plan
assert (small["h100e"], large["h100e"]) == (35000, 85000), (small["h100e"], large["h100e"])
assert small["accelerator"] == "h100-sxm" and small["devices"] == 35000 and small["nodes"] == 4375
assert large["interruptions_per_day"] > small["interruptions_per_day"] > 10
assert 0 < large["scaling_efficiency"] <= small["scaling_efficiency"] <= 1
assert 0 < large["goodput"] < small["goodput"] < 1
for s in plan:
    assert s["step_seconds"] >= s["compute_seconds"] > 0
    # GPU ranks carry the default fixed cost fitted on MLPerf (docs/SCALING.md).
    assert s["step_overhead_seconds"] == 0.0048, s["step_overhead_seconds"]
    assert "MLPerf" in s["step_overhead_source"], s["step_overhead_source"]
    assert abs(s["step_seconds"] - s["compute_seconds"] - s["exposed_communication_seconds"]
               - s["step_overhead_seconds"]) < 1e-5 * s["step_seconds"]
    assert s["buckets"] and all(b["algorithm"] in ("ring", "tree", "hierarchical") for b in s["buckets"])
    assert len(s["algorithm_by_size"]) == 10
    assert abs(s["checkpoint_interval_seconds"] - (2 * s["save_seconds"] * s["job_mtbf_seconds"]) ** 0.5) < 1e-4 * s["checkpoint_interval_seconds"]
print("json ok:", [(s["h100e"], round(s["scaling_efficiency"], 3), round(s["goodput"], 3)) for s in plan])
PY

csv=$("$dojo" simulate --cluster "$cluster" --job "$job" --h100e 35000,85000 --format csv)
[ "$(wc -l <<<"$csv")" -eq 3 ] || fail "csv: want a header and 2 rows, got: $csv"
grep -q '^h100e,devices,nodes,compute_seconds,step_overhead_seconds,step_seconds,' <<<"$csv" || fail "csv header: $csv"

table=$("$dojo" simulate --job "$job" --devices 8,64 --accelerator a100-sxm)
grep -Eq 'a100-sxm \(0.3153 H100e, 8 per node\)' <<<"$table" || fail "table header: $table"
grep -Eq '^ +2\.5 +8 +1 +7\.95[0-9] ' <<<"$table" || fail "table row for 8 devices: $table"

"$dojo" simulate chart --job "$job" --out "$work/scaling.svg" --points 12
python3 - "$work/scaling.svg" <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
texts = "\n".join(t.text or "" for t in root.iter(ns + "text"))
for want in ("scaling efficiency", "goodput", "35000 H100e", "85000 H100e", "100000"):
    assert want in texts, f"chart lacks {want!r}"
lines = root.findall(ns + "polyline")
assert len(lines) == 3 and all(len(l.get("points").split()) == 12 for l in lines)
print("chart ok")
PY

# Calibration from a real benchmark on 2 ranks of this machine. On a loaded
# machine one run's times can be noise at every size ("does not grow with
# message size"): the benchmark is run again, up to three times, then the fit
# must succeed.
for try in 1 2 3; do
  mpirun --oversubscribe --bind-to none -np 2 "$dojo" bench allreduce --csv -b 4K -e 16M -f 4 -n 10 -w 2 \
    >"$work/bench.csv"
  fit=$("$dojo" simulate calibrate "$work/bench.csv" 2>&1) && break
  grep -q "does not grow with message size" <<<"$fit" && [ "$try" -lt 3 ] || fail "calibration: $fit"
  echo "calibration: a noisy benchmark run ($fit); running it again"
done
grep -Eq '^  intra_node:$' <<<"$fit" || fail "calibration: $fit"
grep -Eq '^    bandwidth_gb_per_s: [0-9.]+(e[+-]?[0-9]+)?$' <<<"$fit" || fail "calibration: $fit"
"$dojo" simulate calibrate "$work/bench.csv" --format json | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c["bandwidth_gb_per_s"] > 0 and c["latency_us"] >= 0 and c["ranks"] == [2], c
print("calibration ok:", c)'

expect_error '--h100e expects a positive number, got "35k"' --job "$job" --h100e 35k
expect_error '--h100e expects a positive number, got "-5"' --job "$job" --h100e -5
expect_error 'exactly one of --h100e' --job "$job"
expect_error 'simulate needs --job J.yaml' --h100e 1000
expect_error '--format expects table, json or csv, got "xml"' --job "$job" --h100e 1 --format xml
expect_error 'unknown accelerator "tpu" in .*accelerators.yaml' --job "$job" --h100e 1 --accelerator tpu
expect_error '--mfu must be in \(0, 1\], got 2' --job "$job" --h100e 1 --mfu 2
expect_error 'runs a command, so its model is unknown' --job "$src/configs/jobs/command-torchrun-style.yaml" --h100e 8
expect_error 'needs a checkpoint save time: set checkpoint.save_time_s' --job "$src/configs/jobs/fashion-mnist.yaml" --h100e 8
expect_error 'cluster-network-planner.yaml:9:69: error: cluster.network.inter_node.bandwidth_gb_per_s: must be greater than 0' \
  --job "$job" --h100e 8 --cluster "$src/tests/data/bad/cluster-network-planner.yaml"
expect_error '--set workload.model=resnet5: error: .*did you mean "resnet50"' --job "$job" --h100e 8 --set workload.model=resnet5
expect_error 'simulate calibrate needs BENCH.csv' calibrate
expect_error 'the chart needs 0 < --from < --to' chart --job "$job" --out "$work/bad.svg" --from 5000 --to 100
[ ! -e "$work/bad.svg" ] || fail "a failed chart left a file"
printf 'size,time\n' >"$work/bad.csv"
out=$("$dojo" simulate calibrate "$work/bad.csv" 2>&1) && fail "calibrate accepted a bad file"
grep -q "bad.csv:1: expected the header of \`dojo bench allreduce --csv\`" <<<"$out" || fail "bad csv: $out"
out=$("$dojo" simulate calibrate "$work/missing.csv" 2>&1) && fail "calibrate accepted a missing file"
grep -q "missing.csv: cannot read the benchmark file" <<<"$out" || fail "missing csv: $out"
# The independent anchors of docs/SCALING.md keep their predictions.
"$dojo" simulate --job "$job" --cluster "$src/tests/data/anchors/h100-2node.yaml" --devices 5,8,16 \
  --format json | python3 -c '
import json, sys
scales = {s["devices"]: {r["bytes"]: r for r in s["algorithm_by_size"]} for s in json.load(sys.stdin)}
def busbw(n, size):
    return size * 2 * (n - 1) / n / scales[n][size]["nvls_seconds"] / 1e9
gib, mib = 1 << 30, 1 << 20
for got, want in ((busbw(8, gib), 477), (busbw(5, gib), 477), (busbw(16, gib), 311),
                  (scales[16][mib]["nvls_seconds"] * 1e6, 129.2),
                  (scales[16][16 * mib]["nvls_seconds"] * 1e6, 222.1),
                  (scales[16][4096]["tree_seconds"] * 1e6, 20.2)):
    assert abs(got / want - 1) < 0.005, (got, want)
assert scales[8][gib]["algorithm"] == "nvls" and scales[16][4096]["algorithm"] == "tree"
print("anchors ok")' || fail "the anchors of docs/SCALING.md moved"

# calibrate-step through the binary: a CSV of 5 ms + 0.5 ms a sample, the
# prediction at an unfitted batch, the MFU, and its usage errors.
printf 'per_device_batch,step_seconds\n8,0.009\n32,0.021\n' >"$work/steps.csv"
out=$("$dojo" simulate calibrate-step "$work/steps.csv" --predict-batch 16 --gflop-per-sample 24.6 \
  --peak-tflops 989.4) || fail "calibrate-step: $out"
grep -q '^step = 5 ms + 0.5 ms x per-device batch' <<<"$out" || fail "calibrate-step fit: $out"
grep -q '^predicted at batch 16: 13 ms' <<<"$out" || fail "calibrate-step prediction: $out"
grep -q -- '--set workload.step_overhead_ms=5 --mfu 0.050' <<<"$out" || fail "calibrate-step advice: $out"
expect_error 'simulate calibrate-step needs STEPS.csv' calibrate-step
expect_error 'the MFU needs both --gflop-per-sample and --peak-tflops' calibrate-step "$work/steps.csv" --peak-tflops 9
mkdir -p "$work/run-none"
out=$("$dojo" simulate calibrate-step "$work/run-none" 2>&1) && fail "calibrate-step accepted an empty run"
grep -q "run-none: no summary.json" <<<"$out" || fail "empty run: $out"
printf 'per_device_batch,step_seconds\n8,0.009\n8,0.010\n' >"$work/one-batch.csv"
out=$("$dojo" simulate calibrate-step "$work/one-batch.csv" 2>&1) && fail "calibrate-step fitted one batch"
grep -q "needs step times at two or more per-device batches, got 1" <<<"$out" || fail "one batch: $out"
# The MLPerf ResNet-50 anchors of docs/SCALING.md: the two fitted runs and
# the 3,584-GPU run the default step overhead was not fitted on.
for spec in "8 400 0.05766 0.01" "64 50 0.01141 0.03" "3584 16 0.00638 0.20"; do
  set -- $spec
  "$dojo" simulate --job "$job" --cluster "$cluster" --devices "$1" --per-device-batch "$2" \
    --mfu 0.188 --format json >"$work/mlperf.json"
  python3 - "$work/mlperf.json" "$3" "$4" <<'PY' || fail "the MLPerf anchor at $1 GPUs moved"
import json, sys
step = json.load(open(sys.argv[1]))[0]["step_seconds"]
published, tolerance = float(sys.argv[2]), float(sys.argv[3])
assert abs(step / published - 1) <= tolerance, (step, published)
PY
done
echo "simulate_check: ok"
