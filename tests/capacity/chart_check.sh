#!/usr/bin/env bash
# chart_check.sh DOJO SEED: `dojo capacity chart` writes a well-formed SVG
# that carries the plan's milestones, the as-of date and the legend, and a
# failed run (bad config) leaves no file behind.
set -euo pipefail
dojo=$1
seed=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$dojo" capacity chart --config "$seed" --as-of 2024-06-30 --out "$work/capacity.svg"
python3 - "$work/capacity.svg" <<'PY'
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == SVG + "svg", root.tag
texts = [t for t in root.iter(SVG + "text")]
joined = "\n".join(t.text or "" for t in texts)
for want in ("35,000 by 2024-03-31", "85,000 by 2024-12-31", "as of 2024-06-30",
             "50,085 H100e online", "Q1 2024", "Q3 2024", "100,000", "H100-equivalents (H100e)",
             "committed deliveries: 85,000 by 2024-12-22", "90-day rate: 85,000 by 2025-01-25"):
    assert want in joined, f"chart lacks {want!r}; texts: {joined}"
# The plot starts a few quarters before the plan, not in 2021.
assert "2021" not in joined and "2022" not in joined, joined
# Every label lies on the canvas (about 6.2 px a character at 12 px).
for t in texts:
    if t.get("transform"):
        continue
    x, width = float(t.get("x")), 6.2 * len(t.text or "") * (1.5 if t.get("font-size") == "18" else 1)
    anchor = t.get("text-anchor", "start")
    left = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    assert left >= 0 and left + width <= 960 + 2, f"label {t.text!r} at x={x} ({anchor}) leaves the canvas"
# The legend names exactly the colours drawn.
legend_y = max(float(l.get("y1")) for l in root.iter(SVG + "line"))
drawn = {p.get("stroke") for p in root.iter(SVG + "polyline")}
drawn |= {l.get("stroke") for l in root.iter(SVG + "line") if l.get("stroke-dasharray") == "2 3" and l.get("stroke") != "#444"}
legend = {l.get("stroke") for l in root.iter(SVG + "line") if float(l.get("y1")) >= 440 and l.get("stroke-width") == "3"}
assert drawn == legend, f"drawn {drawn} but the legend shows {legend}"
lines = root.findall(SVG + "polyline")
assert len(lines) >= 4, f"want installed, online, committed and plan series, got {len(lines)}"
for line in lines:
    points = line.get("points").split()
    assert len(points) >= 2, "a series with fewer than two points"
    for p in points:
        px, py = (float(v) for v in p.split(","))
        assert 0 <= px <= 960 and 0 <= py <= 540, f"point {p} off the canvas"
print("chart ok:", len(texts), "labels,", len(lines), "series")
PY

# Growth too slow to reach the plan in ten years, and a plan that falls: a
# small chart with no forecast line, every point on the canvas, quickly.
mkdir -p "$work/slow"
cat >"$work/slow/slow.yaml" <<YAML
version: 1
capacity:
  name: slow
  accelerators: $(dirname "$seed")/../accelerators.yaml
  pools:
    - {name: base, accelerator: h100-sxm, count: 1000, online: 2021-01-01}
    - {name: trickle, accelerator: h100-sxm, count: 1, online: 2024-05-01}
  plan:
    milestones:
      - {date: 2024-01-01, h100e: 90000}
      - {date: 2024-12-31, h100e: 1000000000}
      - {date: 2025-06-30, h100e: 500}
YAML
"$dojo" capacity report --config "$work/slow/slow.yaml" --as-of 2024-06-30 --format json \
  --state-dir "$work/none" >"$work/slow/report.json"
timeout 10 "$dojo" capacity chart --config "$work/slow/slow.yaml" --as-of 2024-06-30 \
  --out "$work/slow/chart.svg" >/dev/null
python3 - "$work/slow/report.json" "$work/slow/chart.svg" <<'PY'
import json, os, sys
import xml.etree.ElementTree as ET
report = json.load(open(sys.argv[1]))
assert report["forecast_date"] is None, report["forecast_date"]
assert report["milestone_slip_days"] is None, report["milestone_slip_days"]
size = os.path.getsize(sys.argv[2])
assert size < 64 * 1024, f"chart of {size} bytes"
root = ET.parse(sys.argv[2]).getroot()
for line in root.iter("{http://www.w3.org/2000/svg}polyline"):
    for p in line.get("points").split():
        px, py = (float(v) for v in p.split(","))
        assert 0 <= px <= 960 and 0 <= py <= 540, f"point {p} off the canvas"
print("slow-growth chart ok:", size, "bytes")
PY

# A bad config fails with the loader's message and writes nothing.
if "$dojo" capacity chart --config "$work/missing.yaml" --out "$work/bad.svg" 2>"$work/err"; then
  echo "chart with a missing config succeeded" >&2
  exit 1
fi
grep -q "missing.yaml" "$work/err" || { cat "$work/err" >&2; exit 1; }
[ ! -e "$work/bad.svg" ] || { echo "half a chart left behind" >&2; exit 1; }
ls -A "$work" | grep -qv -e '^capacity.svg$' -e '^err$' -e '^slow$' && { echo "stray files: $(ls -A "$work")" >&2; exit 1; }
echo "chart errors ok"
