#!/usr/bin/env bash
# The gate's false-alarm check (Notes/gates.md): N back-to-back `workbench gate --against REV` runs on unchanged
# code (REV defaults to HEAD: both sides are this commit), the last HOG of them beside a CPU hog (a shell busy
# loop on one core), then CAL `workbench gate --calibrate` runs (the last CALHOG beside the hog).
# One line per run: exit status, verdict, counts, seconds, load. Per-run reports: $OUT/trial-K.json, cal-K.json.
# usage: Tools/gate_trials.sh [N=20] [HOG=10] [CAL=3] [CALHOG=2] [REV=HEAD]   (release build first)
#   GATE_ARGS="--quick": the tests' suite instead of CI's full one (seconds a round instead of ~35 s)
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}; HOG=${2:-10}; CAL=${3:-3}; CALHOG=${4:-2}; REV=${5:-HEAD}
OUT=${OUT:-.build/gate-trials}; mkdir -p "$OUT"
W=.build/release/workbench
hog=""
start_hog() { sh -c 'while :; do :; done' & hog=$!; }
stop_hog() { [ -n "$hog" ] && kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null; hog=""; }
trap stop_hog EXIT
summary() {  # report.json -> counts of each verdict
    python3 - "$1" <<'PY'
import json, sys, collections
try: r = json.load(open(sys.argv[1]))
except Exception as e: print("no report (%s)" % e); sys.exit()
rows = r.get("rows", [])
c = collections.Counter(row.get("verdict", "?") for row in rows)
ch = [(row["change"], row["name"]) for row in rows if row.get("kind") in ("ratio", "time", "bound") and isinstance(row.get("change"), (int, float))]
worst = max(ch) if ch else (0, "-")
print(" ".join("%s=%d" % kv for kv in sorted(c.items())), "| largest slowdown %+.1f%% (%s)" % (100 * worst[0], worst[1]),
      "| rounds %s" % max([row.get("rounds") or 0 for row in rows] or [0]))
PY
}
for k in $(seq 1 "$N"); do
    [ "$k" -gt $((N - HOG)) ] && [ -z "$hog" ] && start_hog
    t0=$SECONDS
    $W gate --against "$REV" ${GATE_ARGS:-} --report-json "$OUT/trial-$k.json" > "$OUT/trial-$k.txt" 2> "$OUT/trial-$k.err"
    rc=$?
    load=$(grep -m1 -o "during.*" "$OUT/trial-$k.txt" | cut -c1-120)
    echo "trial $k$([ -n "$hog" ] && echo " (hog)"): exit $rc, $((SECONDS - t0)) s, $(summary "$OUT/trial-$k.json"); $load"
done
stop_hog
for k in $(seq 1 "$CAL"); do
    [ "$k" -gt $((CAL - CALHOG)) ] && [ -z "$hog" ] && start_hog
    t0=$SECONDS
    $W gate --calibrate ${GATE_ARGS:-} --report-json "$OUT/cal-$k.json" > "$OUT/cal-$k.txt" 2> "$OUT/cal-$k.err"
    rc=$?
    echo "calibrate $k$([ -n "$hog" ] && echo " (hog)"): exit $rc, $((SECONDS - t0)) s, $(grep -h "smallest slowdown caught" "$OUT/cal-$k.txt")"
    grep -E "^ *[0-9]+%" "$OUT/cal-$k.txt" | cut -c1-160 | sed "s/^/    /"
done
