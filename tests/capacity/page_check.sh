#!/usr/bin/env bash
# page_check.sh DOJO SEED: `dojo capacity serve` serves a page at / that a
# real browser (Debian's headless Chromium) renders: the DOM it builds holds
# every figure of the JSON report, as the report says it, and a screenshot
# shows the chart's online and plan lines. Nothing started outlives the test.
set -euo pipefail
dojo=$1
seed=$2
work=$(mktemp -d)
server=
fail() { echo "page_check: $*" >&2; exit 1; }
cleanup() {
  [ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; }
  pkill -KILL -f -- "--user-data-dir=$work/profile" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
browser=$(command -v chromium-headless-shell || command -v chromium || true)
[ -n "$browser" ] || fail "no headless Chromium (scripts/bootstrap installs chromium-headless-shell)"

# 2024-12-16: a pool retired, one drained in burn-in, a delivery to come.
"$dojo" capacity serve --config "$seed" --as-of 2024-12-16 --state-dir "$work/state" \
  --listen 127.0.0.1:0 >"$work/serve.out" 2>&1 &
server=$!
for _ in $(seq 100); do
  grep -q "serving http://" "$work/serve.out" && break
  sleep 0.1
done
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.out" | head -1)
[ -n "$url" ] || { cat "$work/serve.out" >&2; fail "capacity serve did not start"; }

"$dojo" capacity report --config "$seed" --as-of 2024-12-16 --state-dir "$work/state" \
  --format json >"$work/report.json"
python3 - "$url" "$work/report.json" <<'PY'
import json, sys, urllib.error, urllib.request
url, report = sys.argv[1], json.load(open(sys.argv[2]))
with urllib.request.urlopen(url + "/report.json", timeout=10) as r:
    assert json.load(r) == report, "/report.json differs from dojo capacity report --format json"
with urllib.request.urlopen(url + "/", timeout=10) as r:
    assert r.headers["Content-Type"] == "text/html; charset=utf-8", r.headers["Content-Type"]
    assert "<script" not in r.read().decode(), "the page runs script"
try:
    urllib.request.urlopen(url + "/nothing", timeout=10)
    sys.exit("/nothing was served")
except urllib.error.HTTPError as e:
    assert e.code == 404, e.code
PY

run_browser() {
  HOME=$work timeout -k 5 90 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-crash-reporter --no-first-run --user-data-dir="$work/profile" --hide-scrollbars \
    --window-size=1100,1700 "$@" "$url/" 2>>"$work/browser.log"
}
run_browser --dump-dom >"$work/dom.html" || { tail -20 "$work/browser.log" >&2; fail "the browser could not load the page"; }
run_browser --screenshot="$work/page.png" >/dev/null || { tail -20 "$work/browser.log" >&2; fail "no screenshot"; }
if pgrep -f -- "--user-data-dir=$work/profile" >/dev/null; then
  fail "browser processes outlived their run"
fi

# Pillow comes from Debian's python3-pil: the system interpreter has it even
# where another python3 comes first on PATH.
py=python3
python3 -c 'import PIL' 2>/dev/null || py=/usr/bin/python3
"$py" - "$work/dom.html" "$work/report.json" "$work/page.png" <<'PY'
import json, re, sys
from html.parser import HTMLParser
from PIL import Image

dom, report, png = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]

class Figures(HTMLParser):
    def __init__(self):
        super().__init__()
        self.figures, self.key, self.table, self.rows, self.cell = {}, None, None, {}, None
        self.svg_polylines = 0
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-key" in attrs:
            self.key = attrs["data-key"]
            self.figures[self.key] = ""
        if tag == "table":
            self.table = attrs.get("id")
            self.rows[self.table] = []
        if tag == "tr" and self.table:
            self.rows[self.table].append([])
        if tag in ("td", "th") and self.table:
            self.cell = ""
        if tag == "polyline":
            self.svg_polylines += 1
    def handle_endtag(self, tag):
        if tag in ("td", "span"):
            self.key = None
        if tag in ("td", "th") and self.table and self.cell is not None:
            self.rows[self.table][-1].append(self.cell.strip())
            self.cell = None
        if tag == "table":
            self.table = None
    def handle_data(self, data):
        if self.key:
            self.figures[self.key] += data
        if self.cell is not None:
            self.cell += data

page = Figures()
page.feed(open(dom).read())
assert page.svg_polylines >= 3, f"the rendered page has {page.svg_polylines} chart lines"

def shown(text):
    """The number a cell shows, in the JSON report's unit (ratios as ratios)."""
    m = re.match(r"^([+-]?[0-9,]+(?:\.[0-9]+)?) (H100e|%|USD)", text)
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    return value / 100 if m.group(2) == "%" else value

checked = 0
for key, text in page.figures.items():
    text = text.strip()
    want = report.get(key)
    if key in ("as_of",):
        assert text == want, (key, text, want)
    elif key == "forecast_date":
        assert want is None or want in text, (key, text, want)
    elif key == "plan_final_h100e":
        assert text.startswith(f"{want:,.0f} H100e by {report['plan_final_date']}"), (key, text)
    else:
        got = shown(text)
        if want is None:
            assert got is None, f"{key}: the page shows {text!r}, the report null"
            continue
        decimals = len(text.split(" ")[0].split(".")[1]) if "." in text.split(" ")[0] else 0
        scale = 100 if text.split(" ")[1:2] == ["%"] else 1
        tolerance = 0.5 * 10 ** -decimals / scale + 1e-9
        assert got is not None and abs(got - want) <= tolerance, f"{key}: page {text!r}, report {want}"
    checked += 1
assert len(page.figures) >= 16 and checked >= 12, f"{len(page.figures)} figures on the page, {checked} numbers"

rows = page.rows["not-online"][1:]
assert [(r[0], r[1]) for r in rows] == [(n["pool"], n["state"]) for n in report["not_online"]], rows
rows = page.rows["deliveries"][1:]
assert [(r[0], r[1]) for r in rows] == [(d["date"], d["pool"]) for d in report["deliveries"]], rows

# The screenshot: the chart's lines are on screen, in their colours.
image = Image.open(png).convert("RGB")
def pixels(rgb, slack=40):
    return sum(1 for p in image.getdata() if all(abs(a - b) <= slack for a, b in zip(p, rgb)))
online, plan = pixels((0x1f, 0x5f, 0xb4)), pixels((0xd9, 0x7b, 0x00))
assert online > 500, f"{online} pixels of the online line"
assert plan > 500, f"{plan} pixels of the plan line"
dark = pixels((0x22, 0x22, 0x22), 60)
assert dark > 2000, f"{dark} pixels of text"
print(f"page ok: {checked} figures match the report; screenshot {image.size}, "
      f"online {online} px, plan {plan} px, text {dark} px")
PY
echo "page ok"
