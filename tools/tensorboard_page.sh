#!/usr/bin/env bash
# Screenshot a run's TensorBoard scalars page in headless Chromium, and check the picture.
#
#   tools/tensorboard_page.sh LOGDIR OUT.png    a TensorBoard folder (OUTPUT_DIR/runs-kinetics)
#   tools/tensorboard_page.sh --demo OUT.png    `make test-tensorboard-page`: trains a
#       demo-sized run first (configs/Demo/TimeSformer_divST_tiny.yaml, 3 epochs, validation
#       each epoch, on a small generated demo set) in a temporary folder and uses its TensorBoard
#       folder
#
# Starts TensorBoard on LOGDIR (127.0.0.1, a free port), waits until it serves every tag of
# TAGS, loads its Time Series page filtered to those tags in headless Chromium (a fresh
# profile; WebGL off, so that TensorBoard draws its lines as SVG), and stops TensorBoard again,
# also on an error or Ctrl-C. Writes the screenshot to OUT.png, the page's DOM to OUT.html and
# TensorBoard's log to OUT.tensorboard.log. Then checks: the PNG is an image of the window's size
# with a fair share of non-background pixels; the DOM has a card of each tag, each with a drawn
# line (an SVG path of two or more points). Headless Chromium now and then leaves TensorBoard's
# cards empty (about 1 load in 10 here), so a page that fails is loaded again, 3 loads in all.
# Exit status: 1 with a line saying what failed, 2 on bad arguments or without a browser.
#
# Environment knobs: PYTHON (default: .venv/bin/python of this checkout), TAGS (default
# "Train/loss Train/lr Val/Top1_err"), WINDOW (default 1400,1000), BROWSER (default: chromium,
# else chromium-browser, google-chrome), WAIT (seconds for TensorBoard, default 90), KEEP_DEMO
# (with --demo: a new folder to keep the run in: data, logs, checkpoint).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
read -r -a TAG_LIST <<<"${TAGS:-Train/loss Train/lr Val/Top1_err}"
WINDOW=${WINDOW:-1400,1000}
WAIT=${WAIT:-90}
ATTEMPTS=3

say() { echo "tensorboard_page: $*"; }
fail() {
    echo "tensorboard_page: FAILED: $*" >&2
    exit 1
}
usage() {
    echo "usage: tools/tensorboard_page.sh LOGDIR OUT.png | --demo OUT.png (see the script's header)" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
SOURCE=$1
OUT=$2
[[ $OUT == *.png ]] || { echo "tensorboard_page: OUT must end in .png: $OUT" >&2; exit 2; }
[[ $SOURCE == --demo || -d $SOURCE ]] || { echo "tensorboard_page: no such folder: $SOURCE" >&2; exit 2; }
[[ ${#TAG_LIST[@]} -gt 0 ]] || { echo "tensorboard_page: TAGS names no tag" >&2; exit 2; }
[[ $WINDOW =~ ^[0-9]+,[0-9]+$ ]] || { echo "tensorboard_page: WINDOW is WIDTH,HEIGHT, not $WINDOW" >&2; exit 2; }
[[ -x $PYTHON ]] || { echo "tensorboard_page: no Python at $PYTHON (make install, or set PYTHON)" >&2; exit 2; }
if [[ -n ${BROWSER:-} ]]; then
    BROWSER_PATH=$(command -v "$BROWSER" || true)
else
    BROWSER_PATH=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
fi
if [[ -z $BROWSER_PATH ]]; then
    echo "tensorboard_page: no browser (${BROWSER:-chromium}) on PATH; apt-get install -y chromium," \
        "or run \`make test-tensorboard-page\` as root, which installs it" >&2
    exit 2
fi

mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
DOM=${OUT%.png}.html
TB_LOG=${OUT%.png}.tensorboard.log
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tensorboard_page.XXXXXX")
TB_PID=
cleanup() {
    if [[ -n $TB_PID ]] && kill -0 "$TB_PID" 2>/dev/null; then
        kill "$TB_PID" 2>/dev/null || true
        wait "$TB_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the demo run --------------------------------------------------------------------------
if [[ $SOURCE == --demo ]]; then
    DEMO=${KEEP_DEMO:-$WORK/demo}
    [[ ! -e $DEMO/output ]] || fail "$DEMO/output holds an earlier run; remove it or pick another KEEP_DEMO"
    mkdir -p "$DEMO"
    DEMO=$(cd "$DEMO" && pwd)
    say "training the demo run in $DEMO"
    SECONDS=0
    "$PYTHON" -c 'import sys
from timesformer.datasets.demo_data import DemoSpec, generate_demo_dataset
generate_demo_dataset(sys.argv[1], DemoSpec(clips_per_class={"train": 8, "val": 4, "test": 4}))' \
        "$DEMO/data"
    if ! "$PYTHON" -m timesformer run --cfg "$ROOT/configs/Demo/TimeSformer_divST_tiny.yaml" \
        TENSORBOARD.ENABLE True SOLVER.MAX_EPOCH 3 TRAIN.EVAL_PERIOD 1 DATA_LOADER.NUM_WORKERS 0 \
        OUTPUT_DIR "$DEMO/output" DATA.PATH_TO_DATA_DIR "$DEMO/data" DATA.PATH_PREFIX "$DEMO/data" \
        >"$DEMO/train.log" 2>&1; then
        tail -n 20 "$DEMO/train.log" >&2
        fail "the demo run failed (its log's end is above)"
    fi
    LOGDIR=$(find "$DEMO/output" -maxdepth 1 -type d -name 'runs-*' | sort | head -n 1)
    [[ -n $LOGDIR ]] || fail "the demo run wrote no TensorBoard folder (runs-*) under $DEMO/output"
    say "trained in ${SECONDS} s"
else
    LOGDIR=$SOURCE
fi

# --- TensorBoard ---------------------------------------------------------------------------
PORT=$("$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE=http://127.0.0.1:$PORT
"$PYTHON" -m tensorboard.main --logdir "$LOGDIR" --host 127.0.0.1 --port "$PORT" \
    --reload_interval 1 >"$TB_LOG" 2>&1 &
TB_PID=$!

# TensorBoard answers before it has read the event files: wait for the tags themselves.
missing_tags() {
    "$PYTHON" - "$BASE" "${TAG_LIST[@]}" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/data/plugin/scalars/tags", timeout=5) as reply:
        served = {tag for tags in json.load(reply).values() for tag in tags}
except (OSError, ValueError):
    served = set()
print(" ".join(t for t in sys.argv[2:] if t not in served))
PY
}
DEADLINE=$((SECONDS + WAIT))
while MISSING=$(missing_tags) && [[ -n $MISSING ]]; do
    kill -0 "$TB_PID" 2>/dev/null || { tail -n 10 "$TB_LOG" >&2; fail "TensorBoard exited; see $TB_LOG"; }
    ((SECONDS < DEADLINE)) || fail "TensorBoard at $BASE did not serve the tags $MISSING within $WAIT s; see $TB_LOG"
    sleep 0.5
done

# --- the page ------------------------------------------------------------------------------
URL=$("$PYTHON" - "$BASE" "${TAG_LIST[@]}" <<'PY'
import re, sys, urllib.parse
pattern = "^(" + "|".join(re.escape(tag) for tag in sys.argv[2:]) + ")$"
print(f"{sys.argv[1]}/?tagFilter={urllib.parse.quote(pattern, safe='')}#timeseries")
PY
)

# Checks the screenshot and the DOM; prints what is right, or exits 1 naming what is wrong.
check_page() {
    "$PYTHON" - "$OUT" "$DOM" "$WINDOW" "${TAG_LIST[@]}" <<'PY'
import html, os, re, struct, sys
from PIL import Image

png, dom, window, tags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def failed(message):
    sys.exit(f"{message} (see {dom})")
with open(png, "rb") as f:
    head = f.read(24)
if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
    failed(f"{png} is not a PNG image")
size = struct.unpack(">II", head[16:24])
if size != tuple(int(v) for v in window.split(",")):
    failed(f"{png} is {size[0]}x{size[1]}; the window was {window.replace(',', 'x')}")
with Image.open(png) as image:
    rgb = image.convert("RGB")
    colors = rgb.getcolors(maxcolors=rgb.width * rgb.height) or []
share = 1 - max(count for count, _ in colors) / (rgb.width * rgb.height)
if share < 0.05:  # of the pixels unlike the most common (the background) color
    failed(f"{png} is nearly blank: {share:.1%} of its pixels differ from the background")
text = open(dom, encoding="utf-8", errors="replace").read()
if "No dashboards are active" in text:
    failed("TensorBoard says 'No dashboards are active'")
# One <scalar-card> per card; its heading carries the tag as a title; a drawn series is an SVG
# path of two or more points.
cards = text.split("<scalar-card ")[1:]
titled = {tag: [c for c in cards if f'title="{html.escape(tag)}"' in c] for tag in tags}
missing = [tag for tag, found in titled.items() if not found]
if missing:
    failed(f"the page has no card of {missing}")
empty = [tag for tag, found in titled.items() if not any(re.search(r'<path d="M[^"]*L', c) for c in found)]
if empty:
    failed(f"the cards of {empty} show no line")
print(f"tensorboard_page: ok: {png}: PNG {size[0]}x{size[1]}, {os.path.getsize(png) / 1024:.0f} KiB, "
      f"{share:.0%} non-background pixels")
print(f"tensorboard_page: ok: {dom}: a card with a drawn line for each of {', '.join(tags)}")
PY
}

say "rendering $URL"
for ((attempt = 1; ; attempt++)); do
    # --run-all-compositor-stages-before-draw: without it the cards' IntersectionObserver
    # (TensorBoard fills a card once it is on screen) mostly never fires under virtual time.
    # --virtual-time-budget: virtual time stands still while requests are pending, so the
    # app's data requests finish within it.
    if ! timeout 180 "$BROWSER_PATH" --headless=new --no-sandbox --disable-gpu --disable-3d-apis \
        --run-all-compositor-stages-before-draw --hide-scrollbars --no-first-run \
        --no-default-browser-check --user-data-dir="$WORK/profile$attempt" \
        --window-size="$WINDOW" --virtual-time-budget=15000 \
        --screenshot="$OUT" --dump-dom "$URL" >"$DOM" 2>"$WORK/browser.log"; then
        tail -n 10 "$WORK/browser.log" >&2
        fail "$BROWSER_PATH did not render $URL (its log's end is above)"
    fi
    if REPORT=$(check_page 2>&1); then
        echo "$REPORT"
        break
    fi
    ((attempt < ATTEMPTS)) || fail "$REPORT (each of $ATTEMPTS loads of the page)"
    say "load $attempt: $REPORT; loading again"
done
