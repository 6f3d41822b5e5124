#!/usr/bin/env bash
# backfill_check.sh DOJO SEED: `dojo capacity backfill` writes OpenMetrics that
# promtool turns into TSDB blocks holding the same figures as `dojo capacity
# report` on each day; bad ranges and flags are clear errors that write nothing.
set -euo pipefail
dojo=$1
seed=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "backfill_check: $*" >&2; exit 1; }

"$dojo" capacity backfill --config "$seed" --from 2024-01-01 --as-of 2024-03-31 --step-days 30 \
  --out "$work/capacity.om"
[ "$(tail -1 "$work/capacity.om")" = "# EOF" ] || fail "no # EOF at the end"
promtool tsdb create-blocks-from openmetrics -q "$work/capacity.om" "$work/data" ||
  fail "promtool rejected the backfill"
mkdir -p "$work/data/wal"  # promtool tsdb dump reads a WAL even when there is none
promtool tsdb dump "$work/data" >"$work/dump"
"$dojo" capacity report --config "$seed" --as-of 2024-03-31 --state-dir "$work/none" \
  --format json >"$work/report.json"
python3 - "$work/dump" "$work/report.json" <<'PY'
import json, re, sys
points = {}
for line in open(sys.argv[1]):
    m = re.match(r'\{__name__="([^"]+)"(.*)\} (\S+) (\d+)$', line.strip())
    if m:
        points.setdefault((m.group(1), m.group(2)), []).append((int(m.group(4)), float(m.group(3))))
online_fleet = sorted(points[("dojo_capacity_fleet_online_h100e", "")])
assert [t for t, _ in online_fleet] == [1704067200000, 1706659200000, 1709251200000, 1711843200000], online_fleet
# No plan target before the plan starts on 2024-03-31: one progress sample.
ratio = sorted(points[("dojo_capacity_progress_ratio", "")])
assert [t for t, _ in ratio] == [1711843200000], ratio
report = json.load(open(sys.argv[2]))
assert abs(ratio[-1][1] - report["progress_ratio"]) < 1e-9, (ratio[-1], report["progress_ratio"])
online = sum(v[-1][1] for (name, _), v in points.items() if name == "dojo_capacity_online_h100e")
assert abs(online - report["online_h100e"]) < 1e-6, (online, report["online_h100e"])
assert not any(name == "dojo_capacity_allocated_h100e" for name, _ in points), "allocated has no history"
print("backfill ok:", len(points), "series")
PY

# A step that does not divide the range still ends on --as-of.
"$dojo" capacity backfill --config "$seed" --from 2024-01-01 --as-of 2024-12-31 --step-days 30 \
  --out "$work/steps.om" >/dev/null
last=$(grep '^dojo_capacity_as_of_timestamp_seconds ' "$work/steps.om" | tail -1 | awk '{print $3}')
[ "$last" = "$(date -u -d 2024-12-31 +%s)" ] || fail "the last sample is at $last, not 2024-12-31"

source "$(dirname "$0")/lib.sh"
expect_error backfill "needs --out FILE"
expect_error backfill "backfill range is empty: 2024-05-01 is after 2024-03-31" \
  --from 2024-05-01 --as-of 2024-03-31 --out "$work/empty.om"
expect_error backfill "--step-days expects a whole number of days from 1, got \"0\"" --step-days 0 --out "$work/x.om"
expect_error backfill "--from expects a date as YYYY-MM-DD, got \"2024-13-01\"" --from 2024-13-01 --out "$work/x.om"
for f in "$work"/empty.om "$work"/x.om; do
  [ ! -e "$f" ] || fail "a failed backfill left $f"
done
echo "backfill errors ok"
