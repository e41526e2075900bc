#!/usr/bin/env python3
"""headtohead.py: workbench against the numpy/OpenBLAS peer (Tools/gpt2_ref.py) on the same checkpoint.

    python3 Tools/headtohead.py [--model M.bin] [--rounds 5] [--threads 2] [--workloads prefill64,...]

Workloads (each is "complete a prompt to n tokens", timed after the model is loaded, in both programs):
  prefill64   64-token prompt, n = 65: one batched forward over 64 positions + sampling one token
  prefill256  256-token prompt, n = 257
  decode64    2-token prompt (31373 612) completed to 64 tokens (KV cache in both)
  gptc        gpt.c's workload: prompt 31373 612, n = 10
Rounds alternate the two programs (workbench, peer, workbench, peer, ...), each run a fresh process, and the
table reports medians, min-max and the ratio peer/workbench of the medians. Both programs must produce the same
tokens, else the row says MISMATCH. The workbench binary is .build/release/workbench (build it first with
`swift build -c release`). Without --model, the workbench's default synthetic 124M model is used for both.
"""
import argparse
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WB = os.path.join(ROOT, ".build", "release", "workbench")
PEER = [sys.executable, os.path.join(ROOT, "Tools", "gpt2_ref.py")]


def workloads(V):
    long = [(i * 7919 + 31373) % V for i in range(256)]
    return {
        "prefill64": (long[:64], 65),
        "prefill256": (long[:256], 257),
        "decode64": ([31373 % V, 612 % V], 64),
        "gptc": ([31373 % V, 612 % V], 10),
    }


def run(cmd, env):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"headtohead.py: {' '.join(cmd[:3])} ... failed: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}")
    return p.stdout.split(), p.stderr


def wb_time(stderr):
    # "generated 63 tokens in 512.3 ms (median of 1 runs...)" -- printed with --repeat
    for line in stderr.splitlines():
        if line.startswith("generated ") and " in " in line:
            return float(line.split(" in ")[1].split(" ms")[0])
    sys.exit("headtohead.py: no timing line from workbench (is it up to date?)")


def peer_time(stderr):
    for line in stderr.splitlines():
        if line.startswith("generate_ms "):
            return float(line.split()[1])
    sys.exit("headtohead.py: no generate_ms line from the peer")


def model_vocab(path):
    import numpy as np
    h = np.fromfile(path, dtype=np.int32, count=256)
    return int(h[3])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--workloads", default="prefill64,prefill256,decode64,gptc")
    ap.add_argument("--wb-args", default="", help="extra workbench run arguments, e.g. '--matmul naive'")
    a = ap.parse_args()
    if not os.path.exists(WB):
        sys.exit(f"headtohead.py: {WB} not found: run `swift build -c release` first")
    env = dict(os.environ)
    model = a.model
    if model is None:  # resolve the workbench default (creates it once)
        out = subprocess.run([WB, "run", "--n", "2", "0"], capture_output=True, text=True, env=env)
        if out.returncode != 0:
            sys.exit(f"headtohead.py: cannot resolve the default model: {out.stderr.strip()}")
        cache = env.get("WORKBENCH_CACHE") or os.path.join(env.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "workbench")
        model = os.path.join(cache, "gpt2_124M_synthetic_v3_seed1337.bin")
    env["OPENBLAS_NUM_THREADS"] = str(a.threads)
    V = model_vocab(model)
    wl = workloads(V)
    names = [w for w in a.workloads.split(",") if w]
    for w in names:
        if w not in wl:
            sys.exit(f"headtohead.py: unknown workload '{w}' (known: {', '.join(wl)})")
    print(f"model {model}; workbench threads {a.threads} {a.wb_args}; peer numpy with OPENBLAS_NUM_THREADS={a.threads}; {a.rounds} rounds")
    print(f"{'workload':<12}{'workbench ms':>14}{'(min-max)':>18}{'peer ms':>12}{'(min-max)':>18}{'peer/wb':>9}  tokens")
    for w in names:
        prompt, n = wl[w]
        toks = [str(t) for t in prompt]
        wbt, pt = [], []
        wb_tokens = peer_tokens = None
        for r in range(a.rounds):
            o, e = run([WB, "run", "--model", model, "--threads", str(a.threads), "--n", str(n), "--repeat", "1",
                        *a.wb_args.split(), *toks], env)
            wbt.append(wb_time(e)); wb_tokens = o
            o, e = run([*PEER, "--model", model, "--n", str(n), "--bench", *toks], env)
            pt.append(peer_time(e)); peer_tokens = o
        mw, mp = statistics.median(wbt), statistics.median(pt)
        same = "same" if wb_tokens == peer_tokens else "MISMATCH"
        print(f"{w:<12}{mw:>14.1f}{f'({min(wbt):.1f}-{max(wbt):.1f})':>18}{mp:>12.1f}{f'({min(pt):.1f}-{max(pt):.1f})':>18}{mp / mw:>8.2f}x  {same}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
