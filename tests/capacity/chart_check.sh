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

root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
joined = "\n".join(texts)
for want in ("35000 by 2024-03-31", "85000 by 2024-12-31", "as of 2024-06-30", "online", "plan"):
    assert want in joined, f"chart lacks {want!r}; texts: {texts}"
lines = root.findall("{http://www.w3.org/2000/svg}polyline")
assert len(lines) >= 3, f"want installed, online and plan series, got {len(lines)}"
for line in lines:
    points = line.get("points").split()
    assert len(points) >= 2, "a series with fewer than two points"
    for p in points:
        px, py = (float(v) for v in p.split(","))
        assert 0 <= px <= 960 and 0 <= py <= 540, f"point {p} off the canvas"
print("chart ok:", len(texts), "labels,", len(lines), "series")
PY

# A bad config fails with the loader's message and writes nothing.
if "$dojo" capacity chart --config "$work/missing.yaml" --out "$work/bad.svg" 2>"$work/err"; then
  echo "chart with a missing config succeeded" >&2
  exit 1
fi
grep -q "missing.yaml" "$work/err" || { cat "$work/err" >&2; exit 1; }
[ ! -e "$work/bad.svg" ] || { echo "half a chart left behind" >&2; exit 1; }
ls -A "$work" | grep -qv -e '^capacity.svg$' -e '^err$' && { echo "stray files: $(ls -A "$work")" >&2; exit 1; }
echo "chart errors ok"
