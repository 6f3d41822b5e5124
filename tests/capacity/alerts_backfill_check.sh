#!/usr/bin/env bash
# alerts_backfill_check.sh DOJO SEED RULES: the capacity alerts, run by
# `promtool test rules` on the series `dojo capacity backfill` writes for
# every day of 2024-01-01..2025-03-31, fire on the days they should and no
# others: those the day's `dojo capacity report --format json` calls missed,
# slipping or out of reach. Two timelines: the shipped seed (the Q1 milestone
# met exactly, deliveries on plan: no alert on any day) and the seed with one
# delivery late (slipping through 2024, then a missed milestone from its date
# until the delivery lands).
set -euo pipefail
dojo=$1
seed=$2
rules=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "alerts_backfill_check: $*" >&2; exit 1; }

from=2024-01-01
to=2025-03-31

# The seed with the 16,300 H100 of 2024-09-01 arriving on 2025-02-15.
mkdir -p "$work/late"
sed -e 's|^  accelerators: ../accelerators.yaml|  accelerators: '"$(cd "$(dirname "$seed")/.." && pwd)"'/accelerators.yaml|' \
  -e 's|count: 16300, online: 2024-09-01|count: 16300, online: 2025-02-15|' "$seed" >"$work/late/late.yaml"
grep -q "online: 2025-02-15" "$work/late/late.yaml" || fail "could not make the late timeline"

check_timeline() {
  local name=$1 config=$2 expected=$3
  local dir="$work/$name"
  mkdir -p "$dir/reports"
  "$dojo" capacity backfill --config "$config" --from "$from" --as-of "$to" --out "$dir/series.om" >/dev/null
  python3 - "$from" "$to" "$dir/reports" "$config" "$dojo" <<'PY'
import datetime, subprocess, sys
start, end, out, config, dojo = sys.argv[1:]
day = datetime.date.fromisoformat(start)
while day <= datetime.date.fromisoformat(end):
    with open(f"{out}/{day}.json", "w") as f:
        subprocess.run([dojo, "capacity", "report", "--config", config, "--as-of", str(day),
                        "--state-dir", f"{out}/none", "--format", "json"], stdout=f, check=True)
    day += datetime.timedelta(days=1)
PY
  python3 - "$from" "$to" "$dir" "$rules" "$expected" <<'PY'
import datetime, glob, json, os, re, sys
start, end, work, rules, expected = sys.argv[1:]
start, end = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
days = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
epoch = datetime.date(1970, 1, 1)

# The backfilled series, by day.
wanted = ("dojo_capacity_milestone_shortfall_h100e", "dojo_capacity_milestone_slip_seconds",
          "dojo_capacity_next_milestone_timestamp_seconds")
values = {name: {} for name in wanted}
for line in open(f"{work}/series.om"):
    m = re.match(r"(\w+) (\S+) (\d+)$", line.strip())
    if m and m.group(1) in values:
        values[m.group(1)][epoch + datetime.timedelta(seconds=int(m.group(3)))] = float(m.group(2))

def series(name):
    return " ".join(repr(values[name][d]) if d in values[name] else "_" for d in days)

# What each day's report says.
fires = {"DojoCapacityMilestoneMissed": {}, "DojoCapacityMilestoneSlipping": {},
         "DojoCapacityMilestoneOutOfReach": {}}
for d in days:
    r = json.load(open(f"{work}/reports/{d}.json"))
    if (r["milestone_shortfall_h100e"] or 0) > 0:
        fires["DojoCapacityMilestoneMissed"][d] = r["milestone_shortfall_h100e"]
    if r["milestone_slip_days"] is not None and r["milestone_slip_days"] > 30:
        fires["DojoCapacityMilestoneSlipping"][d] = r["milestone_slip_days"]
    if r["next_milestone"] is not None and r["milestone_slip_days"] is None:
        fires["DojoCapacityMilestoneOutOfReach"][d] = None

# The days the timeline should alert on, by reading it: "name:first..last" or "none".
want = {name: set() for name in fires}
for spec in expected.split():
    if spec == "none":
        continue
    name, span = spec.split(":")
    a, b = (datetime.date.fromisoformat(x) for x in span.split(".."))
    want[name] = {a + datetime.timedelta(days=i) for i in range((b - a).days + 1)}
for name in fires:
    got = set(fires[name])
    assert got == want[name], (f"{name}: the reports say {len(got)} days "
                               f"({min(got) if got else '-'}..{max(got) if got else '-'}), "
                               f"the timeline says {len(want[name])}")

labels = 'job="dojo-capacity",instance="127.0.0.1:9400"'
severity = {"DojoCapacityMilestoneMissed": "critical"}
summary = {
    "DojoCapacityMilestoneMissed": lambda v: "Online capacity is %.0f H100e short of a milestone already due" % v,
    "DojoCapacityMilestoneSlipping": lambda v: "The next capacity milestone is expected %dd 0h 0m 0s late" % round(v),
    "DojoCapacityMilestoneOutOfReach": lambda v: "The next capacity milestone is not reached at the current rate",
}
description = {
    "DojoCapacityMilestoneMissed": "The last milestone's date has passed and online H100e has not reached it; dojo capacity report shows what is not online and why.",
    "DojoCapacityMilestoneSlipping": "Neither the committed deliveries nor the last 90 days' growth reach the next milestone on time; dojo capacity report names the deliveries.",
}
test = {"rule_files": [os.path.abspath(rules)], "evaluation_interval": "1d",
        "tests": [{"interval": "1d",
                   "input_series": [{"series": f"{name}{{{labels}}}", "values": series(name)}
                                    for name in wanted],
                   "alert_rule_test": []}]}
checks = test["tests"][0]["alert_rule_test"]
for i, d in enumerate(days):
    for name, on in fires.items():
        alerts = []
        if d in on:
            annotations = {"summary": summary[name](on[d])}
            if name in description:
                annotations["description"] = description[name]
            alerts.append({"exp_labels": {"severity": severity.get(name, "warning"),
                                          "job": "dojo-capacity", "instance": "127.0.0.1:9400"},
                           "exp_annotations": annotations})
        checks.append({"eval_time": f"{i}d", "alertname": name, "exp_alerts": alerts})
# JSON is YAML: promtool reads it as is.
json.dump(test, open(f"{work}/rules.test.yml", "w"))
print(f"{os.path.basename(work)}:", {name: len(on) for name, on in fires.items()}, "days of", len(days))
PY
  promtool test rules "$dir/rules.test.yml" >"$dir/promtool.out" 2>&1 ||
    { tail -40 "$dir/promtool.out" >&2; fail "$name: the alerts fired on other days than the reports say"; }
}

check_timeline seed "$seed" none
check_timeline late "$work/late/late.yaml" \
  "DojoCapacityMilestoneSlipping:2024-03-31..2024-12-30 DojoCapacityMilestoneMissed:2024-12-31..2025-02-14"
echo "alerts on the backfilled timelines ok"
