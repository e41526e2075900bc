#!/usr/bin/env python3
"""check_reference.py: run `workbench run` and Tools/gpt2_ref.py on the same request and compare them.

    python3 Tools/check_reference.py --workbench .build/release/workbench --model M.bin [--n 10]
                                     [--sampler mult|argmax] [--wb-args="--threads 2"] TOKEN...

Prints one line: the max |logit error| of the first forward pass (float32 logits [T, V] of both), the
largest |logit| (for scale), whether the generated tokens are identical, and both token lists when they are
not. Exit status 0 when the tokens match and the error is <= --tolerance (default 1e-4), 1 otherwise,
2 on bad input. Used for Notes/correctness.md; the test suite does the same in Tests/WorkbenchTests.
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workbench", default=os.path.join(ROOT, ".build", "release", "workbench"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--sampler", default="mult")
    ap.add_argument("--wb-args", default="", help="extra `workbench run` arguments (write --wb-args=\"...\")")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("tokens", nargs="+")
    a = ap.parse_args()
    import numpy as np

    with tempfile.TemporaryDirectory() as d:
        wl, rl = os.path.join(d, "wb.f32"), os.path.join(d, "ref.f32")
        common = ["--model", a.model, "--n", str(a.n), "--sampler", a.sampler]
        wb = subprocess.run([a.workbench, "run", *common, "--logits-out", wl, *a.wb_args.split(), "--", *a.tokens],
                            capture_output=True, text=True)
        ref = subprocess.run([sys.executable, os.path.join(ROOT, "Tools", "gpt2_ref.py"), *common,
                              "--logits-out", rl, *a.tokens], capture_output=True, text=True)
        for name, p in (("workbench", wb), ("gpt2_ref.py", ref)):
            if p.returncode != 0:
                sys.stderr.write(f"check_reference.py: {name} failed: {p.stderr.strip()}\n")
                sys.exit(2)
        x, y = np.fromfile(wl, dtype=np.float32), np.fromfile(rl, dtype=np.float32)
    if x.shape != y.shape:
        print(f"logit shapes differ: workbench {x.shape}, reference {y.shape}")
        sys.exit(1)
    err = float(np.max(np.abs(x - y)))
    same = wb.stdout.split() == ref.stdout.split()
    print(f"max_abs_logit_error {err:.3g} max_abs_logit {float(np.max(np.abs(y))):.3g} "
          f"tokens {'identical' if same else 'DIFFER'} ({len(ref.stdout.split())} generated)")
    if not same:
        print(f"workbench: {' '.join(wb.stdout.split())}\nreference: {' '.join(ref.stdout.split())}")
    sys.exit(0 if same and err <= a.tolerance else 1)


if __name__ == "__main__":
    main()
