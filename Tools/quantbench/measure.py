#!/usr/bin/env python3
"""The end-to-end measurements of Notes/formats.md: decode ms/token, the gpt.c workload (after load and whole
process), peak RSS, for each converted format and for ggml's gpt-2 example (f32 / q8_0 / q4_0) in the same
interleaved rounds, each job a fresh process, the order rotated every round.

usage: measure.py WORKBENCH PEERS_DIR ROUNDS [JOBS]
  PEERS_DIR holds gpt2_124M.bin (workbench synth), gpt2_124M.{f32,bf16,q8,q4}.wbm (workbench convert) and,
  optionally, ggml/build/bin/gpt-2-backend with gpt2_124M_{f32,q8_0,q4_0}.ggml (/work/shared/peers/README.md).
  JOBS: comma-separated subset of the job names below.
Decode: prompt of 48 ids, argmax, (time to n = 49 + 32) - (time to n = 49), / 32 (workbench: --repeat 3
medians; ggml: its DECODE_MS split). gpt.c workload: prompt 31373 612, n = 10 (8 tokens), the mult sampler with
coin 0.5 (ggml: GPT2_COIN=1): "after load" is the in-process time (workbench: --repeat 5 median, ggml: GEN_MS),
"whole process" the wall time of one fresh run, with its peak RSS (/usr/bin/time -v).
Prints one line per job and round, then min/median per job and metric; appends JSON lines to PEERS_DIR/quant-results.jsonl.
"""
import json, os, re, statistics, subprocess, sys, time

WB, D, ROUNDS = sys.argv[1], sys.argv[2], int(sys.argv[3])
ONLY = set(sys.argv[4].split(",")) if len(sys.argv) > 4 else None
GG = f"{D}/ggml/build/bin/gpt-2-backend"
V = 50257
LONG = [(i * 7919 + 31373) % V for i in range(320)]
ENV = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2")


def sh(cmd, extra=None):
    e = dict(ENV, **(extra or {}))
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=e)
    wall = (time.perf_counter() - t0) * 1e3
    if p.returncode != 0: raise RuntimeError(f"{cmd[:4]} rc={p.returncode}: {p.stderr[-400:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return p.stdout, p.stderr, wall, rss


def f1(pat, s):
    m = re.search(pat, s)
    if not m: raise RuntimeError(f"no {pat} in {s[-400:]}")
    return float(m.group(1))


def wb_run(model, prompt, n, repeat, sampler):
    out, err, wall, rss = sh([WB, "run", "--model", model, "--threads", "2", "--n", str(n), "--repeat", str(repeat), "--no-timers",
                              "--sampler", sampler] + [str(t) for t in prompt])
    return f1(r"generated \d+ tokens in ([\d.]+) ms", err), wall, rss, [int(x) for x in out.split()]


def wb_decode(model):
    def run():
        a = wb_run(model, LONG[:48], 49, 3, "argmax")[0]
        b = wb_run(model, LONG[:48], 49 + 32, 3, "argmax")[0]
        return dict(decode_ms=(b - a) / 32)
    return run


def wb_gptc(model):
    def run():
        ms, wall, rss, toks = wb_run(model, [31373, 612], 10, 1, "mult")
        warm = wb_run(model, [31373, 612], 10, 5, "mult")[0]
        return dict(gptc_ms=warm, first_ms=ms, whole_ms=wall, rss_mb=rss, tokens=toks)
    return run


def gg(q, prompt, b, n, extra):
    return sh([GG, "-m", f"{D}/gpt2_124M_{q}.ggml", "-t", "2", "-b", str(b), "--ignore-eos", "-n", str(n), "-p",
               " ".join(map(str, prompt))] + (["--top_k", "1"] if "GPT2_COIN" not in extra else []), dict(extra, GPT2_IDS="1"))


def gg_decode(q):
    def run():
        out, err, wall, rss = gg(q, LONG[:48], 48, 33, {})
        return dict(decode_ms=f1(r"DECODE_MS ([\d.]+) \d+", err) / f1(r"DECODE_MS [\d.]+ (\d+)", err))
    return run


def gg_gptc(q):
    def run():
        out, err, wall, rss = gg(q, [31373, 612], 8, 8, {"GPT2_COIN": "1"})
        return dict(gptc_ms=f1(r"GEN_MS ([\d.]+)", err), whole_ms=wall, rss_mb=rss,
                    tokens=[int(x) for x in re.findall(r"TOK (\d+)", err)])
    return run


jobs = {}
for f in ["bin", "f32.wbm", "bf16.wbm", "q8.wbm", "q4.wbm"]:
    m = f"{D}/gpt2_124M.{f}"
    if os.path.exists(m):
        name = "wb " + f.replace(".wbm", "").replace("bin", "llm.c file")
        jobs[name + " decode"] = wb_decode(m)
        jobs[name + " gptc"] = wb_gptc(m)
for q in ["f32", "q8_0", "q4_0"]:
    if os.path.exists(GG) and os.path.exists(f"{D}/gpt2_124M_{q}.ggml"):
        jobs[f"ggml {q} decode"] = gg_decode(q)
        jobs[f"ggml {q} gptc"] = gg_gptc(q)
if ONLY: jobs = {k: v for k, v in jobs.items() if k in ONLY}
names = list(jobs)
results = {k: [] for k in names}
with open(f"{D}/quant-results.jsonl", "a") as log:
    for r in range(ROUNDS):
        order = names[r % len(names):] + names[:r % len(names)]
        for nm in order:
            try:
                res = jobs[nm]()
            except Exception as ex:
                res = dict(error=str(ex)[:300])
            res["load"] = os.getloadavg()[0]
            results[nm].append(res)
            log.write(json.dumps(dict(job=nm, round=r, t=time.time(), **res)) + "\n"); log.flush()
            print(r, nm, {k: (round(v, 2) if isinstance(v, float) else v) for k, v in res.items() if k != "tokens"}, flush=True)
print("\njob                      metric       min      median   (rounds; load average min-max)")
for nm in names:
    rs = [x for x in results[nm] if "error" not in x]
    if not rs: print(f"{nm:24} errors: {results[nm][0].get('error')}"); continue
    loads = [x["load"] for x in rs]
    for k in [k for k in rs[0] if k not in ("tokens", "load")]:
        v = [x[k] for x in rs]
        print(f"{nm:24} {k:10} {min(v):9.2f} {statistics.median(v):9.2f}   ({len(v)}; {min(loads):.1f}-{max(loads):.1f})")
    if "tokens" in rs[0]: print(f"{nm:24} tokens     {rs[0]['tokens']}")
