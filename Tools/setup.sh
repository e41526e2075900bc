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
# Optional viewers the profile tests use when present (`go tool pprof`, headless chromium): a failure to
# install them only skips those tests.
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
