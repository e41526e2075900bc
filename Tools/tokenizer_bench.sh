#!/usr/bin/env bash
# Times `workbench tokenize` beside tiktoken on the same 1 MiB texts, same machine, same run; checks the ids agree.
#
#   bash Tools/setup.sh && swift build -c release --product workbench
#   bash Tools/tokenizer_bench.sh [WORKBENCH_BINARY] [RUNS]      # defaults: .build/release/workbench, 5
#
# Texts (written to a temporary folder, deterministic for a given Python version):
#   english  Python's own documentation (pydoc_data topics, then stdlib docstrings), cut to 1 MiB
#   mixed    seeded random sentences in 12 scripts with emoji, contractions and whitespace runs, 1 MiB
# Timings, best of RUNS, wall clock and CPU time (user + system; on a busy machine the CPU time is the steadier):
#   whole command   `workbench tokenize < text > /dev/null` (start, load gpt2.tiktoken, encode, print), and a
#                   python3 process that builds tiktoken's encoding from the same file and encodes (no printing)
#   empty input     the same with an empty text: start + load only
#   encode          tiktoken: encode_ordinary (one thread) timed inside Python; the workbench: whole command minus
#                   empty input (so it includes writing the ids as text)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-.build/release/workbench}"
runs="${2:-5}"
[ -x "$bin" ] || { echo "tokenizer_bench: no binary at $bin (swift build -c release --product workbench)" >&2; exit 2; }
ranks="${WORKBENCH_TOKENIZER:-${WORKBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/workbench}/gpt2.tiktoken}"
[ -f "$ranks" ] || { echo "tokenizer_bench: no $ranks (bash Tools/setup.sh fetches it)" >&2; exit 2; }
python3 -c "import tiktoken" 2>/dev/null || { echo "tokenizer_bench: needs tiktoken (pip install tiktoken)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 - "$bin" "$runs" "$ranks" "$tmp" <<'EOF'
import importlib, inspect, os, random, resource, subprocess, sys, time, warnings
import tiktoken
from tiktoken.load import load_tiktoken_bpe

bin, runs, ranks, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
MiB = 1 << 20
PAT = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

def cut(s):
    b = s.encode()[:MiB]
    return b.decode("utf-8", errors="ignore")

def english():
    from pydoc_data.topics import topics
    parts, seen = [topics[k] for k in sorted(topics)], set()
    warnings.simplefilter("ignore")
    for m in ["os", "collections", "itertools", "functools", "re", "json", "argparse", "subprocess", "threading",
              "asyncio", "typing", "datetime", "decimal", "fractions", "statistics", "random", "pathlib", "shutil",
              "tarfile", "zipfile", "email", "http.client", "urllib.request", "logging", "unittest", "doctest",
              "inspect", "dataclasses", "enum", "contextlib", "socket", "ssl", "sqlite3", "csv", "configparser",
              "string", "textwrap", "difflib", "heapq", "bisect", "codecs", "io", "pickle", "copy", "pprint",
              "tempfile", "glob", "time", "calendar", "math", "operator", "abc", "types", "traceback", "warnings",
              "ast", "tokenize", "xml.etree.ElementTree", "mailbox", "imaplib", "smtplib", "ftplib", "optparse",
              "locale", "gettext", "multiprocessing", "concurrent.futures", "queue", "selectors", "uuid", "hashlib",
              "base64", "zlib", "gzip", "lzma"]:
        try:
            mod = importlib.import_module(m)
        except Exception:
            continue
        objs = [mod] + [o for _, o in sorted(vars(mod).items()) if inspect.isclass(o) or inspect.isfunction(o)]
        for o in list(objs):
            if inspect.isclass(o):
                objs += [f for _, f in sorted(vars(o).items()) if inspect.isfunction(f)]
        for o in objs:
            d = getattr(o, "__doc__", None)
            if isinstance(d, str) and len(d) > 100 and d not in seen:
                seen.add(d); parts.append(d)
    s = "\n\n".join(parts)
    assert len(s.encode()) >= MiB, f"only {len(s.encode())} bytes of English text"
    return cut(s)

def mixed():
    rng = random.Random(1234)
    words = {
        "en": "the quick brown fox jumps over lazy dog and it's what we'll do".split(),
        "fr": "le café est très bon mais l'hôtel était fermé".split(),
        "de": "Straße Größe über Bären schön für".split(),
        "ru": "Привет мир это тест большой строки".split(),
        "el": "Ελληνικά γράμματα και λέξεις".split(),
        "ar": "مرحبا بالعالم هذا نص عربي".split(),
        "he": "שלום עולם זה טקסט בעברית".split(),
        "hi": "नमस्ते दुनिया यह हिन्दी पाठ है".split(),
        "zh": ["中文", "文本", "标点", "符号", "测试"],
        "ja": ["日本語", "のテキスト", "ひらがな", "カタカナ"],
        "ko": "한국어 텍스트 입니다".split(),
        "th": ["ภาษาไทย", "ข้อความ", "ทดสอบ"],
    }
    extras = ["👍🏽", "👨‍👩‍👧‍👦", "🎉", "❤️", "123", "3.14", "IT'S", "don't", "—", "...", "  ", "\t", "\n\n"]
    out, n = [], 0
    while n < MiB + 1000:
        lang = rng.choice(sorted(words))
        sent = " ".join(rng.choice(words[lang]) for _ in range(rng.randint(3, 12)))
        if rng.random() < 0.5:
            sent += " " + rng.choice(extras)
        sent += rng.choice([". ", "! ", "? ", "\n"])
        out.append(sent); n += len(sent.encode())
    return cut("".join(out))

def best(f):
    """(wall, cpu): the smallest of `runs` runs each. CPU: this process's, plus its finished children's."""
    walls, cpus = [], []
    for _ in range(runs):
        r0, c0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time(), time.perf_counter()
        f()
        t1, c1, r1 = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(t1 - t0)
        cpus.append(c1 - c0 + (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    return min(walls), min(cpus)

enc = tiktoken.Encoding(name="gpt2", pat_str=PAT, mergeable_ranks=load_tiktoken_bpe(ranks),
                        special_tokens={"<|endoftext|>": 50256})
py_encode = ("import sys, tiktoken\nfrom tiktoken.load import load_tiktoken_bpe\n"
             "e = tiktoken.Encoding(name='gpt2', pat_str=sys.argv[2], mergeable_ranks=load_tiktoken_bpe(sys.argv[1]),"
             " special_tokens={'<|endoftext|>': 50256})\n"
             "e.encode_ordinary(open(sys.argv[3], encoding='utf-8').read())\n")
env = dict(os.environ, WORKBENCH_TOKENIZER=ranks, RAYON_NUM_THREADS="1")
empty = os.path.join(tmp, "empty.txt"); open(empty, "w").close()

def run_workbench(path):
    with open(path, "rb") as f:
        subprocess.run([bin, "tokenize"], stdin=f, stdout=subprocess.DEVNULL, env=env, check=True)

def run_python(path):
    subprocess.run([sys.executable, "-c", py_encode, ranks, PAT, path], env=env, check=True)

print(f"tiktoken {tiktoken.__version__}, Python {sys.version.split()[0]}, {bin}, best of {runs}; wall ms (CPU ms)")
print(f"{'text':8} {'MiB':>4} {'tokens':>7}  {'tool':9} {'whole command':>16} {'empty input':>16} {'encode':>16} {'MB/s (CPU)':>10}")
def cell(t):
    return f"{t[0] * 1e3:7.1f} ({t[1] * 1e3:6.1f})"
for name, text in [("english", english()), ("mixed", mixed())]:
    path = os.path.join(tmp, name + ".txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    size = len(text.encode())
    ids = enc.encode_ordinary(text)
    with open(path, "rb") as f:
        got = subprocess.run([bin, "tokenize"], stdin=f, capture_output=True, env=env, check=True).stdout.split()
    same = [int(x) for x in got] == ids
    if not same:
        print(f"{name}: workbench and tiktoken DIFFER ({len(got)} vs {len(ids)} tokens)", file=sys.stderr)
    py_in = best(lambda: enc.encode_ordinary(text))
    py_cmd, py_empty = best(lambda: run_python(path)), best(lambda: run_python(empty))
    wb_cmd, wb_empty = best(lambda: run_workbench(path)), best(lambda: run_workbench(empty))
    wb_in = (wb_cmd[0] - wb_empty[0], wb_cmd[1] - wb_empty[1])
    for tool, cmd, emp, e in [("tiktoken", py_cmd, py_empty, py_in), ("workbench", wb_cmd, wb_empty, wb_in)]:
        print(f"{name:8} {size / MiB:4.2f} {len(ids):7d}  {tool:9} {cell(cmd)} {cell(emp)} {cell(e)} {size / e[1] / 1e6:10.1f}")
    print(f"{name:8} ids identical: {'yes' if same else 'NO'}")
EOF
