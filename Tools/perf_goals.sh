#!/usr/bin/env bash
# Measures issue 7's performance goals on the default model (release build; quiet machine please):
# prefill T=64, decode ms/token, the gpt.c workload, 2-vs-1 thread scaling, KV cache vs full recompute,
# and the head-to-head with the numpy/OpenBLAS peer. Prints what it runs and the figures.
# Usage: Tools/perf_goals.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-5}
B=.build/release/workbench
[ -x "$B" ] || { echo "build first: swift build -c release" >&2; exit 2; }
P64=$(python3 -c "print(' '.join(str((i*7919+31373)%50257) for i in range(64)))")
med() { sed -n 's/.* in \([0-9.]*\) ms.*/\1/p'; }
echo "== workbench machine"; $B machine | head -12
echo "== prefill T=64 (n=65: one 64-position forward + one sampled token), 2 threads, median of 10"
$B run --threads 2 --n 65 --repeat 10 $P64 2>&1 >/dev/null | tail -1
echo "== prefill T=64, 1 thread, median of 10"
$B run --threads 1 --n 65 --repeat 10 $P64 2>&1 >/dev/null | tail -1
echo "== gpt.c workload: prompt 31373 612, n=10, median of 10"
$B run --repeat 10 31373 612 2>&1 >/dev/null | tail -1
echo "== decode: 2-token prompt to 64 tokens (62 decode steps after the prefill), median of $R"
$B run --n 64 --repeat "$R" --timings 31373 612 | sed -n '/^generated/p'
echo "== 256 tokens from a 2-token prompt: KV cache vs full recompute"
$B run --n 256 --repeat 1 31373 612 2>&1 >/dev/null | tail -1
$B run --n 256 --repeat 1 --no-kv-cache 31373 612 2>&1 >/dev/null | tail -1
echo "== scale: prefill T=64, 1..2 threads"
$B scale --workload prefill --t 64 --runs "$R" 2>/dev/null
echo "== head-to-head with the numpy/OpenBLAS peer"
python3 Tools/headtohead.py --rounds "$R"
