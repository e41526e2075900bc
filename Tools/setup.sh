#!/usr/bin/env bash
# One-time set-up of a fresh Debian/Ubuntu machine for workbench: the system libraries the package links
# (libunwind, libelf, OpenBLAS), perf and valgrind for the profilers and gates, numpy for the reference.
# Idempotent and quiet when everything is there already.
set -euo pipefail
# libc6-dbg: symbols for libc internals in profiles (else they show as [unknown] (libc.so.6)).
pkgs=(libunwind-dev libelf-dev libopenblas-dev linux-perf valgrind libc6-dbg zlib1g-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Optional viewers the profile and report tests use when present (`go tool pprof`, headless chromium): a
# failure to install them only skips those tests.
opt=()
for p in golang-go chromium; do dpkg -s "$p" >/dev/null 2>&1 || opt+=("$p"); done
if [ ${#opt[@]} -gt 0 ]; then
  echo "setup: installing ${opt[*]} (optional)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  { $SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${opt[@]}" >/dev/null; } \
    || echo "setup: warning: could not install ${opt[*]}; the tests that need them are skipped" >&2
fi
if ! python3 -c "import numpy" >/dev/null 2>&1; then
  echo "setup: installing numpy" >&2
  python3 -m pip install -q numpy
fi
# GPT-2's BPE ranks for `workbench tokenize`/`detokenize` and text prompts: gpt2.tiktoken (= tiktoken's r50k_base)
# ships in the openai-whisper sdist on PyPI; it is extracted into the cache folder and its SHA-256 checked.
# tiktoken (pip) is the reference the tokenizer tests were generated with. A failure here is one warning: every
# command that takes token ids works without the file.
cache="${WORKBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/workbench}"
ranks="$cache/gpt2.tiktoken"
ranks_sha256=306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930
fetch_ranks() {  # $1: an empty temporary folder
  python3 -m pip download -q --no-deps --no-binary :all: openai-whisper -d "$1" >/dev/null 2>&1 || return 1
  local sdist f
  sdist="$(ls "$1"/openai_whisper-*.tar.gz 2>/dev/null | head -n 1)" || true
  [ -n "$sdist" ] || return 1
  tar -xzf "$sdist" -C "$1" --wildcards '*/whisper/assets/gpt2.tiktoken' 2>/dev/null || return 1
  f="$(ls "$1"/*/whisper/assets/gpt2.tiktoken 2>/dev/null | head -n 1)" || true
  [ -n "$f" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$ranks_sha256" ] || return 1
  mkdir -p "$cache" && cp "$f" "$ranks.tmp.$$" && mv "$ranks.tmp.$$" "$ranks"
}
if [ ! -f "$ranks" ] || [ "$(sha256sum "$ranks" | cut -d' ' -f1)" != "$ranks_sha256" ]; then
  echo "setup: fetching GPT-2's tokenizer ranks (openai-whisper sdist) into $ranks" >&2
  tmp="$(mktemp -d)"
  fetch_ranks "$tmp" || echo "setup: warning: could not fetch gpt2.tiktoken (text commands need it; token ids work without it)" >&2
  rm -rf "$tmp"
fi
if ! python3 -c "import tiktoken" >/dev/null 2>&1; then
  echo "setup: installing tiktoken" >&2
  python3 -m pip install -q tiktoken >/dev/null 2>&1 || echo "setup: warning: could not install tiktoken (only Tools/tokenizer_corpus.py needs it)" >&2
fi
