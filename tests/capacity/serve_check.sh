#!/usr/bin/env bash
# serve_check.sh DOJO SEED: `dojo capacity serve` on 127.0.0.1 serves the same
# figures as `dojo capacity report --format json`, passes `promtool check
# metrics`, enforces basic auth when asked, and stops cleanly on SIGTERM.
set -euo pipefail
dojo=$1
seed=$2
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "serve_check: $*" >&2; exit 1; }

# start ARGS...: runs the exporter in the background; sets pid and url.
start() {
  "$dojo" capacity serve --config "$seed" --as-of 2024-06-30 --state-dir "$work/state" \
    --listen 127.0.0.1:0 "$@" >"$work/serve.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    url=$(grep -o 'http://[^ ]*/metrics' "$work/serve.out" || true)
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "exporter exited: $(cat "$work/serve.out")"
    sleep 0.1
  done
  fail "exporter did not say where it listens"
}

stop() {
  kill -TERM "$pid"
  local code=0
  wait "$pid" || code=$?
  pid=
  [ "$code" -eq 0 ] || fail "exporter exited $code on SIGTERM"
  grep -q "stopped by signal" "$work/serve.out" || fail "no clean stop: $(cat "$work/serve.out")"
}

# fetch URL [USER:PASSWORD]: prints "STATUS" then the body.
fetch() {
  python3 - "$@" <<'PY'
import base64, sys, urllib.error, urllib.request
req = urllib.request.Request(sys.argv[1])
if len(sys.argv) > 2:
    req.add_header("Authorization", "Basic " + base64.b64encode(sys.argv[2].encode()).decode())
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        print(r.status); sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); sys.stdout.write(e.read().decode())
PY
}

"$dojo" capacity report --config "$seed" --as-of 2024-06-30 --state-dir "$work/state" \
  --format json >"$work/report.json"

start
fetch "$url" >"$work/scrape"
[ "$(head -1 "$work/scrape")" = 200 ] || fail "scrape failed: $(head -3 "$work/scrape")"
tail -n +2 "$work/scrape" >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt" || fail "promtool check metrics found problems"
python3 - "$work/report.json" "$work/metrics.txt" <<'PY'
import json, re, sys
report = json.load(open(sys.argv[1]))
series = {}
for line in open(sys.argv[2]):
    if line.startswith("#") or not line.strip():
        continue
    name_labels, value = line.rsplit(" ", 1)
    name = re.sub(r"\{.*\}", "", name_labels)
    series.setdefault(name, 0.0)
    series[name] += float(value)   # per-cluster series add up to the fleet
for key in ("installed_h100e", "online_h100e", "plan_target_h100e", "plan_final_h100e",
            "progress_ratio", "gap_h100e", "growth_90d_ratio", "required_per_day_h100e",
            "fleet_power_watts", "fleet_idle_hours_per_week"):
    got = series.get("dojo_capacity_" + key)
    want = report[key]
    if key == "fleet_idle_hours_per_week":   # served in the base unit
        got = series.get("dojo_capacity_fleet_idle_seconds_per_week", 0.0) / 3600.0
    assert got is not None, f"no series for {key}"
    assert abs(got - want) <= 1e-6 * max(1.0, abs(want)), f"{key}: served {got}, report {want}"
assert "dojo_capacity_allocated_h100e" not in series, "allocated served without a ledger"
assert series["dojo_capacity_pool_h100e"] > 0
print("served figures match the report:", len(series), "series")
PY
stop

# A cluster inventory adds bounded per-node series.
cluster=$(dirname "$seed")/../cluster/example-h100.yaml
start --cluster "$cluster"
fetch "$url" | tail -n +2 >"$work/nodes.txt"
promtool check metrics <"$work/nodes.txt" || fail "promtool check metrics failed with node series"
grep -q '^dojo_capacity_node_h100e{cluster="example-h100",node="[^"]*",accelerator="h100-sxm",state="up"} 8$' \
  "$work/nodes.txt" || fail "no per-node series for an 8-GPU H100 node: $(grep node_h100e "$work/nodes.txt")"
stop

# Basic auth: no or wrong credentials get 401, the right ones 200.
printf 'prometheus:s3cret\n' >"$work/auth"
start --basic-auth-file "$work/auth"
grep -q "(basic auth)" "$work/serve.out" || fail "basic auth not announced"
[ "$(fetch "$url" | head -1)" = 401 ] || fail "served without credentials"
[ "$(fetch "$url" prometheus:wrong | head -1)" = 401 ] || fail "served with a wrong password"
[ "$(fetch "$url" prometheus:s3cret | head -1)" = 200 ] || fail "refused the right credentials"
stop

# Bad input: clear messages, nothing left running.
source "$(dirname "$0")/lib.sh"
expect_error serve "needs --listen HOST:PORT"
expect_error serve "missing-cluster.yaml" --listen 127.0.0.1:0 --cluster "$work/missing-cluster.yaml"
expect_error serve "--listen expects HOST:PORT" --listen 9400
expect_error serve "--listen expects HOST:PORT" --listen 127.0.0.1:99999
expect_error serve "not an IPv4 or IPv6 address" --listen metrics.example:9400
expect_error serve "cannot read the basic-auth credentials" --listen 127.0.0.1:0 --basic-auth-file "$work/none"
printf 'no-colon\n' >"$work/badauth"
expect_error serve "badauth:1: basic-auth credentials must read user:password" \
  --listen 127.0.0.1:0 --basic-auth-file "$work/badauth"
echo "serve ok"
