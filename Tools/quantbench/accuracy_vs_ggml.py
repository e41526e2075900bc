#!/usr/bin/env python3
"""Accuracy of the workbench's converted models and of ggml's q8_0/q4_0 against the workbench's f32 model, on
the same teacher-forced sequence and the same greedy prompt (Notes/formats.md, "accuracy against ggml").

usage: accuracy_vs_ggml.py WORKBENCH CHECKPOINT PEERS_DIR [LENGTH] [GREEDY]
  WORKBENCH   the release binary;  CHECKPOINT  the llm.c file (workbench synth);  PEERS_DIR  holds
  ggml/build/bin/gpt-2-backend and gpt2_124M_{f32,q8_0,q4_0}.ggml (/work/shared/peers/README.md) and the
  converted files gpt2_124M.{bf16,q8,q4}.wbm (workbench convert).
Sequence: LENGTH (default 64) ids (i * 7919 + 31373) mod V, the same as `workbench convert --check` (the greedy
continuation of the synthetic model repeats one token, so it would ask the same question at every position).
Workbench logits: `run --logits-out` over the whole sequence (one forward, every position). ggml writes only the
last row of its prompt pass (GPT2_LOGITS_OUT), so position i is one ggml process over tokens[0..i].
Greedy: GREEDY tokens (default 32) from 31373 612 with argmax / --top_k 1.
Metrics per model vs the f32 workbench logits: max |dlogit|, relative RMS, top-1 agreement, mean/max KL(p_f32 || p_model),
greedy tokens agreeing before the first difference.
"""
import os, subprocess, sys, tempfile
import numpy as np

WB, CK, D = sys.argv[1], sys.argv[2], sys.argv[3]
LENGTH = int(sys.argv[4]) if len(sys.argv) > 4 else 64
GREEDY = int(sys.argv[5]) if len(sys.argv) > 5 else 32
V = 50257
PROMPT = [31373, 612]
GG = f"{D}/ggml/build/bin/gpt-2-backend"
env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2")


def ref_flags(model):
    # the f32 reference runs `tiled` (threaded's 2-thread prefill was intermittently wrong on this base)
    return ["--matmul", "tiled"] if model == CK else []


def wb_tokens(model, n, prompt):
    out = subprocess.run([WB, "run", "--model", model, "--sampler", "argmax", "--threads", "2", "--n", str(n)] + ref_flags(model) + [str(t) for t in prompt],
                         capture_output=True, text=True, env=env, check=True).stdout
    return [int(x) for x in out.split()]


def wb_logits(model, seq):
    with tempfile.NamedTemporaryFile(suffix=".f32") as f:
        subprocess.run([WB, "run", "--model", model, "--threads", "2", "--n", str(len(seq) + 1), "--logits-out", f.name] + ref_flags(model) + [str(t) for t in seq],
                       capture_output=True, text=True, env=env, check=True)
        return np.fromfile(f.name, dtype=np.float32).reshape(len(seq), V)


def gg_run(q, prompt, n, logits_out=None):
    e = dict(env, GPT2_IDS="1")
    if logits_out: e["GPT2_LOGITS_OUT"] = logits_out
    p = subprocess.run([GG, "-m", f"{D}/gpt2_124M_{q}.ggml", "-t", "2", "-b", str(max(8, len(prompt))), "--ignore-eos", "--top_k", "1",
                        "-n", str(n), "-p", " ".join(map(str, prompt))], capture_output=True, text=True, env=e, check=True)
    return [int(l.split()[1]) for l in p.stderr.splitlines() if l.startswith("TOK ")]


def gg_logits(q, seq):
    rows = []
    with tempfile.NamedTemporaryFile(suffix=".f32") as f:
        for i in range(len(seq)):
            gg_run(q, seq[:i + 1], 1, f.name)
            rows.append(np.fromfile(f.name, dtype=np.float32)[-V:])
    return np.stack(rows)


def metrics(ref, x):
    d = x.astype(np.float64) - ref
    lr = ref - ref.max(1, keepdims=True); lr -= np.log(np.exp(lr).sum(1, keepdims=True))
    lx = x - x.max(1, keepdims=True); lx -= np.log(np.exp(lx).sum(1, keepdims=True))
    kl = (np.exp(lr) * (lr - lx)).sum(1)
    return dict(max_abs=float(np.abs(d).max()), rel_rms=float(np.sqrt((d * d).sum() / (ref.astype(np.float64) ** 2).sum())),
                top1=float((ref.argmax(1) == x.argmax(1)).mean()), kl_mean=float(kl.mean()), kl_max=float(kl.max()))


def prefix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]: n += 1
    return n


seq = [(i * 7919 + 31373) % V for i in range(LENGTH)]
ref = wb_logits(CK, seq).astype(np.float64)
ref_greedy = wb_tokens(CK, len(PROMPT) + GREEDY, PROMPT)
print(f"sequence: {LENGTH} ids (i * 7919 + 31373) mod V; greedy: {GREEDY} tokens from 31373 612")
print(f"{'model':24} {'max|dlogit|':>11} {'rel RMS':>9} {'top-1':>7} {'KL mean':>9} {'KL max':>9}  greedy agree")
rows = [("workbench f32 (file)", lambda: (wb_logits(CK, seq), ref_greedy))]
for f in ["bf16", "q8", "q4"]:
    m = f"{D}/gpt2_124M.{f}.wbm"
    if os.path.exists(m): rows.append((f"workbench {f}", lambda m=m: (wb_logits(m, seq), wb_tokens(m, len(PROMPT) + GREEDY, PROMPT))))
for q in ["f32", "q8_0", "q4_0"]:
    if os.path.exists(f"{D}/gpt2_124M_{q}.ggml") and os.path.exists(GG):
        rows.append((f"ggml {q}", lambda q=q: (gg_logits(q, seq), gg_run(q, PROMPT, GREEDY))))
for name, get in rows:
    lg, greedy = get()
    m = metrics(ref, lg.astype(np.float64))
    print(f"{name:24} {m['max_abs']:11.4f} {m['rel_rms']:9.2e} {100 * m['top1']:6.1f}% {m['kl_mean']:9.2e} {m['kl_max']:9.2e}  "
          f"{prefix(ref_greedy, greedy)} of {GREEDY}", flush=True)
