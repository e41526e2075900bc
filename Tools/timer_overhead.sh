#!/usr/bin/env bash
# Measures the cost of the per-op timers: the same generation with timers on and off, interleaved
# (on, off, on, off, ...) in separate processes, each process reporting the median of --repeat runs.
# Usage: [PROMPT="31373 612"] Tools/timer_overhead.sh [MODEL] [ROUNDS] [REPEAT] [N]   (release build expected)
set -euo pipefail
cd "$(dirname "$0")/.."
B=.build/release/workbench
PROMPT=${PROMPT:-31373 612}; MODEL=${1:-}; ROUNDS=${2:-7}; REPEAT=${3:-10}; N=${4:-10}
margs=(); [ -n "$MODEL" ] && margs=(--model "$MODEL")
on=(); off=()
for r in $(seq "$ROUNDS"); do
  a=$($B run "${margs[@]}" --n "$N" --repeat "$REPEAT" $PROMPT 2>&1 >/dev/null | sed -n 's/.* in \([0-9.]*\) ms.*/\1/p')
  b=$($B run "${margs[@]}" --n "$N" --repeat "$REPEAT" --no-timers $PROMPT 2>&1 >/dev/null | sed -n 's/.* in \([0-9.]*\) ms.*/\1/p')
  on+=("$a"); off+=("$b")
done
python3 - "${on[*]}" "${off[*]}" <<'PY'
import sys, statistics as st
on = [float(x) for x in sys.argv[1].split()]; off = [float(x) for x in sys.argv[2].split()]
ratios = sorted(a / b for a, b in zip(on, off))
print(f"timers on : median {st.median(on):.3f} ms  (runs {on})")
print(f"timers off: median {st.median(off):.3f} ms  (runs {off})")
print(f"overhead  : median of paired ratios {100*(st.median(ratios)-1):+.2f}%  (min {100*(ratios[0]-1):+.2f}%, max {100*(ratios[-1]-1):+.2f}%)")
PY
