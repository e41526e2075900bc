#!/usr/bin/env python3
"""gpt2_ref.py: an independent numpy (float32) GPT-2 forward pass and gpt.c's generation loop.

It reads an llm.c checkpoint itself and shares no code with the Swift engine, so the engine can be checked
against it (Tests/WorkbenchTests/Reference*.swift), and it doubles as the "numpy/OpenBLAS peer" in
head-to-head benchmarks (--bench).

    python3 Tools/gpt2_ref.py --model M.bin [--n 10] [--sampler mult|argmax] [--logits-out F]
                              [--no-kv-cache] [--threads N] [--bench] TOKEN...

prints the n - len(prompt) generated tokens one per line, like `workbench run`. --logits-out writes the
float32 logits [T, V] of the first forward pass (the prompt). --bench prints load / prefill / generation
times to stderr. Bad input: one line `gpt2_ref.py: <reason>` on stderr, exit status 2.

Dimension names, as in llm.c: T positions, C channels, OC output channels, V vocabulary, Vp padded
vocabulary (rows of wte), NH heads, hs = C / NH, L layers, maxT positions of wpe.
Everything is float32; constants are np.float32 so numpy never promotes to float64.
"""
import argparse
import os
import sys
import time

PROG = "gpt2_ref.py"
MAGIC = 20240326
HEADER_INTS = 256
PARAM_NAMES = ["wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
               "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"]

np = None  # numpy, imported in main() after BLAS thread variables are set


class RefError(Exception):
    """A bad input: the message is printed as one line and the exit status is 2."""


def fail(msg):
    sys.stderr.write(f"{PROG}: {msg}\n")
    sys.exit(2)


# ----------------------------------------------------------------------------------------------------------
# checkpoint

def parameter_shapes(maxT, Vp, L, C):
    """The 16 parameter tensors' shapes, in llm.c's order."""
    return [(Vp, C), (maxT, C), (L, C), (L, C), (L, 3 * C, C), (L, 3 * C), (L, C, C), (L, C),
            (L, C), (L, C), (L, 4 * C, C), (L, 4 * C), (L, C, 4 * C), (L, C), (C,), (C,)]


def load_checkpoint(path):
    """Reads and validates an llm.c checkpoint (versions 1 and 3).
    Returns (config dict with maxT V Vp L NH C version, dict name -> float32 array view of one buffer)."""
    if os.path.isdir(path):
        raise RefError(f"{path}: is a directory, not a checkpoint")
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            header = np.fromfile(f, dtype="<i4", count=HEADER_INTS)
            if header.size < HEADER_INTS:
                raise RefError(f"{path}: file is truncated: {size} bytes, shorter than the 1024-byte header")
            if int(header[0]) != MAGIC:
                raise RefError(f"{path}: bad magic number {int(header[0])} (expected {MAGIC})")
            version = int(header[1])
            if version not in (1, 3):
                raise RefError(f"{path}: unsupported checkpoint version {version} (supported: 1, 3)")
            maxT, V, L, NH, C = (int(v) for v in header[2:7])
            Vp = int(header[7]) if version == 3 else V
            for name, value in (("maxT", maxT), ("V", V), ("L", L), ("NH", NH), ("C", C)):
                if value < 1:
                    raise RefError(f"{path}: bad header: {name} = {value}")
            if C % NH != 0:
                raise RefError(f"{path}: bad header: channels {C} are not divisible by heads {NH}")
            if Vp < V:
                raise RefError(f"{path}: bad header: padded vocabulary {Vp} < vocabulary {V}")
            shapes = parameter_shapes(maxT, Vp, L, C)
            counts = [int(np.prod(s)) for s in shapes]
            expected = HEADER_INTS * 4 + 4 * sum(counts)
            if size != expected:
                what = "is truncated" if size < expected else "has trailing bytes"
                raise RefError(f"{path}: file {what}: {size} bytes, the header implies {expected}")
            flat = np.fromfile(f, dtype="<f4", count=sum(counts))
    except OSError as e:
        raise RefError(f"{path}: cannot read: {e.strerror or e}")
    params, offset = {}, 0
    for name, shape, n in zip(PARAM_NAMES, shapes, counts):
        params[name] = flat[offset:offset + n].reshape(shape)
        offset += n
    config = dict(maxT=maxT, V=V, Vp=Vp, L=L, NH=NH, C=C, version=version)
    return config, params


# ----------------------------------------------------------------------------------------------------------
# ops (one function each, shapes first)

def encoder_forward(tokens, wte, wpe, pos0):
    """out [T, C] = wte[tokens] + wpe[pos0:pos0+T]. tokens [T] int, wte [Vp, C], wpe [maxT, C]."""
    return wte[tokens] + wpe[pos0:pos0 + len(tokens)]


def layernorm_forward(x, w, b):
    """out [T, C] = (x - mean) / sqrt(var + 1e-5) * w + b over each row (biased variance).
    x [T, C], w [C], b [C]."""
    mean = x.mean(axis=-1, keepdims=True)
    d = x - mean
    var = (d * d).mean(axis=-1, keepdims=True)
    rstd = np.float32(1) / np.sqrt(var + np.float32(1e-5))
    return (d * rstd) * w + b


def matmul_forward(inp, w, b=None):
    """out [T, OC] = inp [T, C] @ w[OC, C]^T + b [OC] (b optional).
    Computed as (w @ inp^T)^T: BLAS gets the weight in its stored row-major layout as the left operand, which
    numpy's OpenBLAS runs ~10% faster than inp @ w.T on the 124M shapes for small T (2-64); T = 1 is a gemv
    either way. No copy of w is made."""
    out = np.ascontiguousarray((w @ inp.T).T)
    if b is not None:
        out += b
    return out


def causal_mask(pos0, T):
    """future [T, P] bool, P = pos0 + T: True where key position > query position (query row i is pos0 + i),
    or None when T = 1 (the last position sees every key)."""
    if T == 1:
        return None
    return np.arange(pos0 + T)[None, :] > (pos0 + np.arange(T))[:, None]


def attention_forward(q, k, v, future, NH):
    """Causal multi-head attention for query positions pos0..pos0+T-1 over keys 0..pos0+T-1.
    q [T, C]; k, v [P, C] with P = pos0 + T (every position so far: the KV cache); future [T, P] or None
    (see causal_mask). Returns out [T, C].
    Per head: scores = q k^T / sqrt(hs), masked above the diagonal, softmax with max subtraction, @ v."""
    T, C = q.shape
    P = k.shape[0]
    hs = C // NH
    qh = q.reshape(T, NH, hs).transpose(1, 0, 2)          # [NH, T, hs]
    kh = k.reshape(P, NH, hs).transpose(1, 2, 0)          # [NH, hs, P]
    vh = v.reshape(P, NH, hs).transpose(1, 0, 2)          # [NH, P, hs]
    scores = (qh @ kh) * np.float32(1.0 / np.sqrt(hs))    # [NH, T, P]
    if future is not None:
        scores[:, future] = -np.inf
    scores -= scores.max(axis=-1, keepdims=True)
    att = np.exp(scores)
    att /= att.sum(axis=-1, keepdims=True)
    return (att @ vh).transpose(1, 0, 2).reshape(T, C)    # [T, C]


def gelu_forward(x):
    """out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), elementwise, any shape."""
    s = np.float32(np.sqrt(2.0 / np.pi))
    return np.float32(0.5) * x * (np.float32(1) + np.tanh(s * (x + np.float32(0.044715) * x * x * x)))


def residual_forward(a, b):
    """out = a + b, elementwise ([T, C])."""
    return a + b


def softmax_forward(logits):
    """probs [V] = exp(logits - max) / sum, logits [V]. The sum is a sequential float32 accumulation
    (cumsum), like llm.c's loop, so the probabilities match the engine's closely."""
    e = np.exp(logits - logits.max())
    return e / np.cumsum(e, dtype=np.float32)[-1]


def sample_mult(probs, coin=0.5):
    """gpt.c's sample_mult: the first i with coin < probs[0] + ... + probs[i] (a running float32 sum),
    else V - 1. probs [V]."""
    cdf = np.cumsum(probs, dtype=np.float32)
    above = np.flatnonzero(np.float32(coin) < cdf)
    return int(above[0]) if above.size else len(probs) - 1


def argmax(probs):
    """The index of the largest value, the first one on ties. probs [V]."""
    return int(np.argmax(probs))


# ----------------------------------------------------------------------------------------------------------
# model

class GPT2:
    """The forward pass over loaded parameters, with a per-layer KV cache (keys and values of every position)."""

    def __init__(self, config, params):
        self.c, self.p = config, params
        L, maxT, C = config["L"], config["maxT"], config["C"]
        self.k_cache = np.zeros((L, maxT, C), dtype=np.float32)
        self.v_cache = np.zeros((L, maxT, C), dtype=np.float32)
        self.wte_v = params["wte"][:config["V"]]   # [V, C]: the lm-head weight (padding rows excluded)

    def forward(self, tokens, pos0=0, all_logits=False):
        """Logits [rows, V] for tokens at positions pos0..pos0+T-1: all T rows with all_logits, else only the
        last position's (rows = 1; the lm-head is the largest matmul). Positions 0..pos0-1 come from the KV
        cache (filled by earlier calls). tokens: list of int."""
        c, p = self.c, self.p
        C, NH, T = c["C"], c["NH"], len(tokens)
        P = pos0 + T
        future = causal_mask(pos0, T)
        x = encoder_forward(np.asarray(tokens, dtype=np.int64), p["wte"], p["wpe"], pos0)
        for l in range(c["L"]):
            ln1 = layernorm_forward(x, p["ln1w"][l], p["ln1b"][l])
            qkv = matmul_forward(ln1, p["qkvw"][l], p["qkvb"][l])            # [T, 3C]
            self.k_cache[l, pos0:P] = qkv[:, C:2 * C]
            self.v_cache[l, pos0:P] = qkv[:, 2 * C:]
            atty = attention_forward(qkv[:, :C], self.k_cache[l, :P], self.v_cache[l, :P], future, NH)
            x = residual_forward(x, matmul_forward(atty, p["attprojw"][l], p["attprojb"][l]))
            ln2 = layernorm_forward(x, p["ln2w"][l], p["ln2b"][l])
            fch = gelu_forward(matmul_forward(ln2, p["fcw"][l], p["fcb"][l]))  # [T, 4C]
            x = residual_forward(x, matmul_forward(fch, p["fcprojw"][l], p["fcprojb"][l]))
        if not all_logits:
            x = x[-1:]
        lnf = layernorm_forward(x, p["lnfw"], p["lnfb"])
        return matmul_forward(lnf, self.wte_v)                                # [rows, V]

    def generate(self, prompt, n, sampler="mult", kv_cache=True, on_first_logits=None, on_token=None):
        """Completes prompt to n tokens, gpt.c's way; returns the generated tokens and the prefill seconds."""
        tokens = list(prompt)
        generated, prefill = [], 0.0
        for step in range(len(prompt), n):
            first = step == len(prompt)
            t0 = time.perf_counter()
            if kv_cache and not first:
                logits = self.forward([tokens[-1]], pos0=step - 1)
            else:
                logits = self.forward(tokens, pos0=0, all_logits=first and on_first_logits is not None)
            if first:
                prefill = time.perf_counter() - t0
                if on_first_logits:
                    on_first_logits(logits)
            probs = softmax_forward(logits[-1])
            nxt = sample_mult(probs) if sampler == "mult" else argmax(probs)
            tokens.append(nxt)
            generated.append(nxt)
            if on_token:
                on_token(nxt)
        return generated, prefill


# ----------------------------------------------------------------------------------------------------------
# command line

def parse_args(argv):
    ap = argparse.ArgumentParser(prog=PROG, description="numpy float32 GPT-2 reference (llm.c checkpoints).")
    ap.add_argument("--model", required=True, help="llm.c checkpoint (version 1 or 3)")
    ap.add_argument("--n", type=int, default=10, help="total tokens, prompt included (default 10)")
    ap.add_argument("--sampler", default="mult", help="mult (gpt.c's sample_mult, coin 0.5) or argmax")
    ap.add_argument("--logits-out", help="write the float32 logits [T, V] of the first forward pass here")
    ap.add_argument("--no-kv-cache", action="store_true", help="recompute the whole prefix every step")
    ap.add_argument("--threads", type=int, help="BLAS threads (sets OPENBLAS/OMP/MKL_NUM_THREADS)")
    ap.add_argument("--bench", action="store_true", help="print load, prefill and generation times to stderr")
    ap.add_argument("tokens", nargs="*", help="prompt token ids")
    args = ap.parse_args(argv)
    if args.sampler not in ("mult", "argmax"):
        raise RefError(f"unknown sampler '{args.sampler}' (known: mult, argmax)")
    if args.threads is not None and args.threads < 1:
        raise RefError(f"--threads must be positive, got {args.threads}")
    if not args.tokens:
        raise RefError("empty prompt: give at least one token id")
    try:
        args.prompt = [int(t) for t in args.tokens]
    except ValueError as e:
        raise RefError(f"token ids must be integers ({e})")
    return args


def main(argv):
    global np
    try:
        args = parse_args(argv)
    except RefError as e:
        fail(str(e))
    if args.threads is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    try:
        import numpy
    except ImportError:
        fail("numpy is required (pip install numpy)")
    np = numpy
    try:
        t0 = time.perf_counter()
        config, params = load_checkpoint(args.model)
        load_s = time.perf_counter() - t0
        V, maxT = config["V"], config["maxT"]
        bad = [t for t in args.prompt if not 0 <= t < V]
        if bad:
            raise RefError(f"token {bad[0]} is out of range: token ids must be in 0..<{V}")
        if args.n > maxT:
            raise RefError(f"n = {args.n} exceeds the model's maximum sequence length {maxT}")
        if len(args.prompt) >= args.n:
            raise RefError(f"the prompt has {len(args.prompt)} tokens but n = {args.n}: n must be larger")
        model = GPT2(config, params)

        def write_logits(logits):
            try:
                np.ascontiguousarray(logits, dtype=np.float32).tofile(args.logits_out)
            except OSError as e:
                raise RefError(f"cannot write logits to {args.logits_out}: {e.strerror or e}")

        def print_token(tok):
            sys.stdout.write(f"{tok}\n")
            sys.stdout.flush()

        t1 = time.perf_counter()
        generated, prefill_s = model.generate(
            args.prompt, args.n, sampler=args.sampler, kv_cache=not args.no_kv_cache,
            on_first_logits=write_logits if args.logits_out else None, on_token=print_token)
        gen_s = time.perf_counter() - t1
    except RefError as e:
        fail(str(e))
    if args.bench:
        c = config
        sys.stderr.write(
            f"{PROG}: model L={c['L']} NH={c['NH']} C={c['C']} V={c['V']} Vp={c['Vp']} maxT={c['maxT']} "
            f"v{c['version']}, prompt {len(args.prompt)} tokens, n={args.n}, sampler {args.sampler}, "
            f"kv-cache {'off' if args.no_kv_cache else 'on'}, numpy {np.__version__}\n"
            f"load_ms {load_s * 1e3:.1f}\nprefill_ms {prefill_s * 1e3:.1f}\n"
            f"generate_ms {gen_s * 1e3:.1f}\nms_per_token {gen_s * 1e3 / max(1, len(generated)):.2f}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
