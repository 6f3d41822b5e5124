#!/usr/bin/env bash
# prometheus_e2e.sh DOJO SEED CONFIG_DIR GRAFANA_DIR: the real Prometheus server, run on
# 127.0.0.1 with the shipped configs/prometheus (ports and paths substituted),
# scrapes `dojo capacity serve`; the values its HTTP API returns equal `dojo
# capacity report --format json`. promtool check config and test rules pass.
# Every panel of the Grafana dashboard runs its PromQL against that server
# without error (Grafana itself is not packaged for Debian 12).
set -euo pipefail
dojo=$1
seed=$2
configs=$3
grafana=$4
work=$(mktemp -d)
exporter_pid=
prometheus_pid=
cleanup() {
  for p in $exporter_pid $prometheus_pid; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "prometheus_e2e: $*" >&2
  [ -f "$work/prometheus.log" ] && tail -20 "$work/prometheus.log" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The exporter on a port the kernel picks, for a fixed date so the figures
# cannot change between the scrape and the report.
"$dojo" capacity serve --config "$seed" --as-of 2024-06-30 --state-dir "$work/state" \
  --listen 127.0.0.1:0 >"$work/serve.out" 2>&1 &
exporter_pid=$!
target=
for _ in $(seq 100); do
  target=$(grep -o 'http://[^ ]*/metrics' "$work/serve.out" | sed 's|http://||; s|/metrics||' || true)
  [ -n "$target" ] && break
  sleep 0.1
done
[ -n "$target" ] || fail "the exporter did not start: $(cat "$work/serve.out")"

# The shipped config with this test's addresses, paths and a fast interval.
cp "$configs"/dojo-alerts.yml "$configs"/dojo-alerts.test.yml "$work/"
mkdir -p "$work/file_sd"
sed -e "s|127.0.0.1:9400|$target|" \
  -e "s|/var/lib/dojo/prometheus/\*.json|$work/file_sd/*.json|" \
  -e "s|scrape_interval: 15s|scrape_interval: 1s|" \
  -e "s|evaluation_interval: 15s|evaluation_interval: 1s|" \
  "$configs/prometheus.yml" >"$work/prometheus.yml"
grep -q "$target" "$work/prometheus.yml" || fail "the shipped config has no capacity target to substitute"
promtool check config "$work/prometheus.yml" >/dev/null || fail "promtool check config failed"
(cd "$work" && promtool test rules dojo-alerts.test.yml >/dev/null) || fail "promtool test rules failed"

port=$(free_port)
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
prometheus_pid=$!

"$dojo" capacity report --config "$seed" --as-of 2024-06-30 --state-dir "$work/state" \
  --format json >"$work/report.json"
python3 - "$port" "$work/report.json" "$grafana" <<'PY' || fail "Prometheus did not serve the exporter's figures"
import json, sys, time, urllib.parse, urllib.request
port, report = sys.argv[1], json.load(open(sys.argv[2]))

def query(expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]

deadline = time.time() + 90
while True:
    try:
        if query('up{job="dojo-capacity"} == 1'):
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("no successful scrape of the capacity exporter within 90 s")
    time.sleep(0.5)

checks = {
    "sum(dojo_capacity_installed_h100e)": report["installed_h100e"],
    "sum(dojo_capacity_online_h100e)": report["online_h100e"],
    "dojo_capacity_plan_target_h100e": report["plan_target_h100e"],
    "dojo_capacity_progress_ratio": report["progress_ratio"],
    "dojo_capacity_gap_h100e": report["gap_h100e"],
    "dojo_capacity_growth_90d_ratio": report["growth_90d_ratio"],
    "dojo_capacity_required_per_day_h100e": report["required_per_day_h100e"],
    "dojo_capacity_fleet_power_watts": report["fleet_power_watts"],
    "dojo_capacity_milestone_slip_seconds / 86400": report["milestone_slip_days"],
    "dojo_capacity_committed_h100e": report["committed_h100e"],
    "dojo_capacity_planned_online_h100e": report["planned_online_h100e"],
}
for expr, want in checks.items():
    result = query(expr)
    assert len(result) == 1, (expr, result)
    got = float(result[0]["value"][1])
    assert abs(got - want) <= 1e-9 * max(1.0, abs(want)), f"{expr}: Prometheus {got}, report {want}"
    print(f"{expr} = {got} (report {want})")
# Dates: the forecast timestamp is the report's forecast date at midnight UTC.
forecast = float(query("dojo_capacity_forecast_timestamp_seconds")[0]["value"][1])
got_date = time.strftime("%Y-%m-%d", time.gmtime(forecast))
assert got_date == report["forecast_date"], (got_date, report["forecast_date"])
# The alert rules loaded from the shipped config.
with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/rules", timeout=5) as r:
    rules = [rule["name"] for g in json.load(r)["data"]["groups"] for rule in g["rules"]]
for want in ("DojoCapacityMilestoneMissed", "DojoCapacityMilestoneSlipping",
             "DojoCapacityMilestoneOutOfReach", "DojoCapacityExporterDown", "DojoJobStalled",
             "DojoJobRestartingRepeatedly"):
    assert want in rules, (want, rules)
print("Prometheus agrees with the report; rules loaded:", ", ".join(rules))

# The dashboard: its datasource is the provisioned one, and every panel's
# expression is valid PromQL that Prometheus answers; capacity panels have data.
import glob, re
grafana = sys.argv[3]
provisioned = open(f"{grafana}/provisioning/datasources/dojo.yml").read()
uid = re.search(r"uid: (\S+)", provisioned).group(1)
# Allocated needs a ledger; on 2024-06-30 every installed pool is up.
without_ledger = ("allocated", "utilisation", "not_online")
for path in glob.glob(f"{grafana}/dashboards/*.json"):
    dashboard = json.load(open(path))
    assert dashboard["panels"], path
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid, (panel["title"], panel["datasource"])
        for target in panel["targets"]:
            result = query(target["expr"])   # raises on a PromQL error
            if "dojo_capacity_" in target["expr"] and not any(w in target["expr"] for w in without_ledger):
                assert result, f"panel {panel['title']!r}: no data for {target['expr']}"
        print(f"panel ok: {panel['title']}")
PY

# Stop both cleanly: SIGTERM, exit 0, nothing left behind.
kill -TERM "$exporter_pid"
wait "$exporter_pid" || fail "the exporter did not exit 0 on SIGTERM"
exporter_pid=
kill -TERM "$prometheus_pid"
wait "$prometheus_pid" || true
prometheus_pid=
echo "prometheus end-to-end ok"
