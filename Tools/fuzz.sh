#!/usr/bin/env bash
# Fuzzes the parsers that read users' files (Sources/FuzzTargets) with libFuzzer, each for a bounded time.
#   bash Tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 60 s, every target)
# The corpus lives in Tests/Fuzz/<target>/ (seeds + what libFuzzer kept: minimised with -merge=1), crashes land in
# Tests/Fuzz/<target>/ too (crash-*), so `swift test` (FuzzRegressionTests) replays every one from then on.
# Leak detection is off: Foundation's FileManager.contents(atPath:) leaks 4 KiB on an empty file (not our code).
# Prints per target the inputs run and the crashes found; exits 1 if any target crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"; shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(checkpoint-header folded perf-script baseline tuning)
build=.build-fuzz; mkdir -p "$build"
# Coverage instrumentation + AddressSanitizer on every Swift module, libFuzzer's driver without its main.
rt="$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")/lib/clang"
fuzzer=$(ls "$rt"/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1)
[ -n "$fuzzer" ] || { echo "fuzz: libclang_rt.fuzzer_no_main not found under $rt" >&2; exit 2; }
swift build -c release --build-path "$build" --product workbench-fuzz \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
  -Xlinker --undefined=LLVMFuzzerRunDriver -Xlinker "$fuzzer" -Xlinker -lstdc++ >"$build.log" 2>&1 || { echo "fuzz: build failed (see $build.log)" >&2; exit 2; }
bin="$build/release/workbench-fuzz"
export ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}"
status=0
for t in "${targets[@]}"; do
  corpus="Tests/Fuzz/$t"; work="$build/corpus-$t"
  mkdir -p "$corpus" "$work"
  log="$build/$t.log"
  "$bin" --fuzz "$t" "$work" "$corpus" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$corpus/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(ls "$corpus" | grep -c '^crash-\|^timeout-\|^oom-\|^leak-' || true)
  # keep a minimised corpus in the repository
  "$bin" --fuzz "$t" -merge=1 "$corpus" "$work" >/dev/null 2>&1 || true
  echo "fuzz $t: ${runs:-0} inputs in ${secs} s, exit $rc, kept $(ls "$corpus" | wc -l) corpus files, $crashes crash file(s)"
  [ $rc -ne 0 ] && status=1
done
exit $status
