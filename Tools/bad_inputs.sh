#!/usr/bin/env bash
# Runs every bad-input case of Notes/bad-input.md against a workbench binary and prints the table rows
# (case | command | exit | first stderr line). Usage: bash Tools/bad_inputs.sh [WORKBENCH] > rows.md
set -u
WB="${1:-.build/debug/workbench}"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$WB" synth "$T/tiny.bin" --preset tiny >/dev/null 2>&1
printf 'garbage' > "$T/garbage.bin"; : > "$T/empty.bin"; mkfifo "$T/fifo"
head -c 2000 "$T/tiny.bin" > "$T/trunc.bin"
printf 'a;b 9223372036854775807\na;c 9223372036854775807\n' > "$T/huge.folded"; printf 'a;b 1\n' > "$T/one.folded"
printf 'not folded\n' > "$T/bad.folded"
echo '{"suite":"full","metrics":[]}' > "$T/empty-baseline.json"; echo '{' > "$T/bad.json"
python3 - "$T" <<'PY'
import struct,sys,math
t=sys.argv[1]; d=bytearray(open(t+'/tiny.bin','rb').read())
struct.pack_into('<f', d, 1024+4*100, math.nan); open(t+'/nan.bin','wb').write(d)
PY
M="--model $T/tiny.bin"
row() { local name="$1"; shift; local out rc; out=$("$WB" "$@" 2>&1 >/dev/null </dev/null); rc=$?
  printf '| %s | `workbench %s` | %s | %s |\n' "$name" "$(echo "$*" | sed "s|$T|T|g")" "$rc" "$(echo "$out" | grep -v '^\s*$' | tail -1 | sed "s|$T|T|g; s/|/\\\\|/g" | cut -c1-160)"; }
row "model: missing file" run --model /no/such.bin 1 2
row "model: empty path" run --model '' 1 2
row "model: not a checkpoint" run --model "$T/garbage.bin" 1 2
row "model: empty file" run --model "$T/empty.bin" 1 2
row "model: truncated" run --model "$T/trunc.bin" 1 2
row "model: a FIFO" run --model "$T/fifo" 1 2
row "model: a folder" run --model "$T" 1 2
row "model: a NaN weight" run --model "$T/nan.bin" 1 2
out=$(WORKBENCH_CACHE=/proc/nonexistent/x WORKBENCH_MODEL= "$WB" run 1 2 2>&1 >/dev/null); rc=$?
printf '| %s | `%s` | %s | %s |\n' "cache: unwritable \$WORKBENCH_CACHE" "WORKBENCH_CACHE=/proc/nonexistent/x workbench run 1 2" "$rc" "$(echo "$out" | tail -1)"
row "prompt: not an integer" run $M 1 abc
row "prompt: an unknown flag" run $M --fast 1
row "prompt: 21 digits" run $M 123456789012345678901
row "prompt: out of range" run $M 1 512
row "prompt: negative" run $M -- -1
row "prompt: empty" run $M
row "prompt: two ways" run $M --prompt 1 2
row "n: negative" run $M --n -3 1
row "n: zero" run $M --n 0 1
row "n: above maxT" run $M --n 65 1
row "n: not above the prompt" run $M --n 2 1 2
row "--text with a tiny model (V mismatch)" run $M --text hello
row "--text: missing tokenizer" run --tokenizer /no/tok --text hi
row "--tokenizer without --text" run $M --tokenizer /x 1
row "--show-ids without --text" run $M --show-ids 1
row "--per-layer without --timings" run $M --per-layer 1
row "--logits-out: missing folder" run $M --logits-out /no/dir/x.bin 1
row "--timings-json: a folder" run $M --timings-json / 1
row "--no-timers with --timings" run $M --no-timers --timings 1
row "--repeat 0" run $M --repeat 0 1
row "sampler: unknown" run $M --sampler top 1
row "matmul: unknown variant" run $M --matmul nope 1
row "matmul: missing .so" run $M --matmul ./nope.so 1
row "matmul: not a shared object" run $M --matmul "$T/garbage.bin" 1
row "threads: 0" run $M --threads 0 1
row "kernels: unknown value" run $M --kernels fast 1
row "tune file: missing" run $M --kernels auto --tune-file /no/tune.json 1
row "tune file: garbled" run $M --kernels auto --tune-file "$T/bad.json" 1
row "compare: one variant" compare matmul:naive
row "compare: mixed kernels" compare matmul:naive attention:naive
row "compare: unknown kernel" compare conv:a conv:b
row "compare: bad shape" compare matmul:naive matmul:simd --shape 1,2
row "compare: shape too large" compare matmul:naive matmul:simd --shape 99999999,99999999,9
row "compare: --c on a matmul" compare matmul:naive matmul:simd --c 8
row "compare: C not divisible by NH" compare attention:naive attention:simd --c 10 --nh 3
row "compare: one --engine" compare --engine matmul=naive
row "compare: bad engine spec" compare --engine bogus --engine default
row "compare: --runs 0" compare matmul:naive matmul:simd --runs 0
row "profile: --diff with one file" profile --diff "$T/one.folded"
row "profile: --diff missing file" profile --diff /no/a.folded "$T/one.folded"
row "profile: --diff garbled" profile --diff "$T/bad.folded" "$T/one.folded"
row "profile: --diff counts past Int64.max" profile --diff "$T/huge.folded" "$T/one.folded"
row "profile: --diff with --pprof" profile --diff "$T/one.folded" "$T/one.folded" --pprof x.pb.gz
row "profile: --svg missing folder" profile $M --svg /no/dir/x.svg --duration 1
row "profile: unknown backend" profile $M --backend dtrace
row "profile: --hz 0" profile $M --hz 0
row "profile: -- missing command" profile -- no-such-command-xyz
row "profile: defaults on a tiny model" profile $M --duration 0.5 --no-save
row "scale: --t above maxT" scale $M --t 65
row "scale: defaults on a tiny model" scale $M --runs 1 --no-pin-comparison
row "scale: unknown workload" scale $M --workload bogus
row "tune: bad --t" tune $M --t 0
row "synth: unknown preset" synth "$T/x.bin" --preset huge
row "synth: folder missing" synth /no/dir/x.bin --preset tiny
row "gate: empty baseline" gate --baseline "$T/empty-baseline.json"
row "gate: malformed baseline" gate --baseline "$T/bad.json"
row "gate: missing baseline" gate --baseline /no/b.json
row "gate: unknown child case" gate --measure --quick --round 0 --json-out "$T/m.json" --cases attention,bogus
row "tokenize: missing tokenizer" tokenize --tokenizer /no/t -- hi
row "detokenize: id too large" detokenize 99999
row "detokenize: not an integer" detokenize abc
row "kernels: unknown variant" kernels --time --variants nope
row "unknown verb" frobnicate
