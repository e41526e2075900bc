#!/usr/bin/env python3
"""Writes Tests/TokenizerTests/Fixtures/corpus.json: GPT-2 token ids of a few hundred strings, from tiktoken.

    bash Tools/setup.sh                      # fetches gpt2.tiktoken into the cache folder, installs tiktoken
    python3 Tools/tokenizer_corpus.py        # [--ranks FILE] [--out FILE]

The encoding is built offline from the ranks file (no download): GPT-2's pattern, the file's ranks, and
<|endoftext|> = 50256, and each string is encoded with disallowed_special=() so that <|endoftext|> in a text is
ordinary text (what `workbench tokenize` does). The script also checks that tiktoken's own r50k/gpt2 pattern
(possessive, `\\s++$|\\s+(?!\\S)|\\s`) gives the same ids on every string, and that decoding gives the string back.
The corpus is deterministic (fixed strings plus strings from a seeded generator).
"""
import argparse
import hashlib
import json
import os
import random
import sys
import unicodedata

GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
TIKTOKEN_R50K_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
RANKS_SHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"


def default_ranks():
    cache = os.environ.get("WORKBENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "workbench")
    return os.environ.get("WORKBENCH_TOKENIZER") or os.path.join(cache, "gpt2.tiktoken")


PROSE = [
    "Hello world",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.",
    "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, "
    "and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.",
    "In the beginning God created the heaven and the earth. And the earth was without form, and void; "
    "and darkness was upon the face of the deep.",
    "We hold these truths to be self-evident, that all men are created equal.",
    "A language model assigns probabilities to sequences of tokens; GPT-2 uses byte-level BPE with 50,257 tokens.",
    "Mr. and Mrs. Dursley, of number four, Privet Drive, were proud to say that they were perfectly normal, thank you very much.",
    "She sells sea-shells on the sea-shore.",
    "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\nThe slings and arrows of outrageous fortune,",
    "Q: What is 2+2?\nA: 4.",
    "e.g., i.e., etc., vs., Dr., St., U.S.A.",
    "ALL CAPS SENTENCE WITH SHOUTING!!!",
    "tHiS iS wEiRd CaSiNg",
    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "hyphenated-words and under_scored_words and camelCaseWords and PascalCaseWords",
    "\"Quoted,\" he said. 'Single quoted,' she replied. «Guillemets» and „German quotes“ and “curly” ‘ones’.",
    "Ellipsis... and an em dash — and an en dash – and a hyphen - here.",
    "(parenthetical) [bracketed] {braced} <angled>",
    "#hashtag @mention $dollar %percent ^caret &ampersand *star",
]

CONTRACTIONS = [
    "don't", "Don't", "DON'T", "I'm", "I'M", "you're", "YOU'RE", "we've", "WE'VE", "they'll", "THEY'LL",
    "she'd", "SHE'D", "it's", "IT'S", "he's", "HE'S", "John's book", "JOHN'S BOOK", "'s", "'S", "'t", "'T",
    "'re", "'ve", "'ll", "'d", "'m", "'", "''", "'''s", "'ss", "''s", "'x", " 's", " 'S", "rock'n'roll",
    "y'all'd've", "o'clock", "ma'am", "can't won't shan't", "I'll've", "'tis", "`backtick's`", "’s curly", "‘quoted’s",
    "it 's", "it' s", "'ll've're", "ABC'd", "x's'", "!'s", "?'ll", "1's", "2'S", "é's", "日本's",
]

CODE = [
    "def f(x):\n    return x * 2\n",
    "for i in range(10):\n\tprint(i)\n",
    "int main(int argc, char **argv) {\n    printf(\"%d\\n\", argc);\n    return 0;\n}\n",
    "let x: [Int32] = [1, 2, 3].map { $0 * 2 }",
    "func encode(_ text: String) throws -> [Int32] { try tok.encode(text) }",
    "if (a && b || !c) { x += y; } else { x -= y; }",
    "{\"key\": \"value\", \"list\": [1, 2.5, true, null]}",
    "<html><body><p class=\"x\">Hi</p></body></html>",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "x = y ** 2 // 3 % 4 >> 1 << 2 ^ 5 | 6 & 7 ~ 8",
    "#include <stdio.h>\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n",
    "    indented with four spaces\n        and eight\n",
    "\t\ttwo tabs\n\t\t\tthree tabs",
    "https://github.com/openai/tiktoken/blob/main/src/lib.rs#L25",
    "mailto:someone@example.com?subject=Hello%20World",
    "git commit -m \"fix: the tokenizer's merge loop\" && git push origin tok",
    "$ swift build -c release --product workbench 2>&1 | tail -n 3",
    "/usr/local/bin/python3 -m pip install --upgrade pip==23.2.1",
    "# Heading\n\n* bullet one\n* bullet two\n\n```swift\nprint(\"hi\")\n```\n",
    "\\documentclass{article}\\begin{document}$E = mc^2$ and $\\sum_{i=1}^{n} i^2$\\end{document}",
    "a=1;b=2;c=a+b;",
    "0x1F 0xDEADBEEF 0b1010 0o777 1_000_000",
    "lambda x: x if x > 0 else -x",
    "#!/usr/bin/env bash\nset -euo pipefail\necho \"$HOME\"\n",
]

NUMBERS = [
    "0", "1", "12", "123", "1234", "12345", "123456789", "12345678901234567890", "3.14159", "2.718281828459045",
    "-42", "+42", "1,000,000", "1.000.000,00", "1e-9", "6.022e23", "100%", "$19.99", "€20", "£5.50", "¥1000",
    "10:30 am", "2024-03-28", "12/31/1999", "(555) 123-4567", "v1.2.3", "3rd 21st 42nd 100th", "x2 2x 2x2",
    "½ ¼ ¾", "² ³ ¹", "Ⅻ Ⅷ ⅷ", "１２３４５", "٣٤٥ ١٢", "१२३", "๑๒๓", "0.1+0.2=0.30000000000000004",
    "π ≈ 3.14", "1/3 ≈ 0.333…",
]

WHITESPACE = [
    "", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", "\n\n\n", " \n", "\n ", " \n ", "a b", "a  b", "a   b",
    "a    b", "a\tb", "a\t\tb", "a\nb", "a\n\nb", "a \nb", "a\n b", "a \n b", "a  \n  b", "hello   ", "   hello",
    "   hello   ", "trailing space ", "trailing spaces   ", "trailing newline\n", "trailing newlines\n\n\n",
    "tabs\t\t\tand\tspaces  \t  mixed", "\t leading tab space", "line1\r\nline2\r\n", "a\u00a0b", "a\u00a0\u00a0b",
    "a\u3000b", "a\u2028b", "a\u2029b", "a\u0085b", "a\u200bb", "a\u202fb", "\u2003em space\u2003",
    "a\x0bb\x0cc", "a\x1cb\x1dc\x1ed\x1ff", "x\x1c\x1cy", "\x1c\x1c \x1c", "a\x85\x85b", " \t\n\r\x0b\x0c", "x \t y", "   \n\n   \n", "end with space then letter a",
    "   !", "  ?!", " \n!", "a \u00a0b", "\u00a0 a",
]

UNICODE = [
    "café", "cafe\u0301", "naïve résumé", "na\u0308ive", "Ångström", "A\u030angstro\u0308m", "Dvořák", "Zürich",
    "crème brûlée", "São Paulo", "façade", "Œuvre", "straße", "ß ẞ", "ǅ ǈ ǋ", "ﬁ ﬂ ﬀ", "e\u0301\u0302\u0303",
    "\u0301\u0301 leading marks", "a\u20dd", "Ελληνικά γράμματα", "Привет, мир!", "Україна", "Հայերեն", "ქართული",
    "日本語のテキスト", "中文文本，标点符号。", "漢字とひらがなとカタカナ", "한국어 텍스트", "ｆｕｌｌｗｉｄｔｈ",
    "ｶﾀｶﾅ", "العربية نص", "مرحبا بالعالم", "שלום עולם", "עִבְרִית", "हिन्दी पाठ", "नमस्ते", "বাংলা", "தமிழ்",
    "ภาษาไทย", "ພາສາລາວ", "မြန်မာ", "ትግርኛ", "ᚠᚢᚦᚨᚱᚲ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝟘𝟙𝟚", "𐍈𐌰𐌿𐍃", "𠀀𠀁 rare CJK",
    "Mixed English и русский and 日本語 and العربية",
    "\u200d\u200c zero width joiners", "\ufeffBOM at start", "soft\u00adhyphen", "\u202eright-to-left override",
    "\u0000 nul", "\x01\x02\x03 controls", "\x7f delete", "tab\x09bell\x07",
    "™ © ® ℠ ℃ ℉ № ℗", "← ↑ → ↓ ↔ ⇒ ⇔", "∀x∈ℝ: x² ≥ 0", "∑∏∫√∞≠≤≥", "♠♣♥♦ ♪♫", "★☆✓✗", "§¶†‡•",
    "\ufffd replacement char", "\U0010ffff last scalar", "\ue000 private use",
]

EMOJI = [
    "👍", "👍🏽", "👍🏿👍🏻", "👨‍👩‍👧‍👦", "👩‍💻", "🏳️‍🌈", "🏴‍☠️", "🇯🇵🇺🇸🇫🇷", "❤️", "❤️‍🔥", "🤷‍♂️", "🧑🏾‍🚀",
    "1️⃣ 2️⃣ #️⃣", "😀😃😄😁😆", "I ❤️ NY", "Hello 👋 world 🌍!", "🙂🙃 upside", "emoji at end 🎉", "🎉 at start",
    "👁‍🗨", "🧔🏻‍♀️", "🫠🫡🫢", "💩💩💩",
]

SPECIAL = [
    "<|endoftext|>", "Hello<|endoftext|>world", "<|endoftext|><|endoftext|>", " <|endoftext|> ", "<|startoftext|>",
    "<|endoftext", "endoftext|>", "<|fim_prefix|>", "text <|endoftext|>\n\nNext document",
]


def generated(rng, count):
    """Strings mixing the classes the pre-tokenizer cares about."""
    atoms = ["a", "Z", "é", "ß", "日", "ж", "ا", "א", "0", "7", "٣", "½", "Ⅻ", " ", "  ", "\t", "\n", "\r\n",
             "\u00a0", "\u3000", "'", "'s", "'S", "'ll", "'re", "!", "?", ".", ",", "-", "_", "@", "#", "$",
             "(", ")", "\u0301", "👍", "🏽", "\u200d", "👩", "😀", "™", "→", "\x00", "\x7f", "the", " the",
             "The", " of", "ing", "tion", "123", "4567"]
    out = []
    for _ in range(count):
        n = rng.randint(1, 24)
        out.append("".join(rng.choice(atoms) for _ in range(n)))
    return out


def corpus():
    rng = random.Random(20240328)
    strings = PROSE + CONTRACTIONS + CODE + NUMBERS + WHITESPACE + UNICODE + EMOJI + SPECIAL
    strings += [
        "a" * 10000,                                  # one piece of 10k bytes (the heap merge path)
        " " + "b" * 3000,
        "ab" * 2000,
        " " * 1000,                                   # a long whitespace run
        "\n" * 500 + "x",
        "!" * 777,
        "9" * 1200,
        "é" * 600,
        "👍🏽" * 150,
        "日本" * 400,
        " ".join(PROSE),                              # a paragraph
        "\n\n".join(CODE),
    ]
    strings += generated(rng, 80)
    seen, out = set(), []
    for s in strings:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def visible(line):
    """JSON text with invisible and direction-changing characters escaped (\\uXXXX), the rest as is."""
    out = []
    for ch in line:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn") or ch in "\u0085\u00a0\u3000\u2003\u202f":
            b = ch.encode("utf-16-be")
            out.extend("\\u%02x%02x" % (b[i], b[i + 1]) for i in range(0, len(b), 2))
        else:
            out.append(ch)
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ranks", default=default_ranks(), help="gpt2.tiktoken (default: $WORKBENCH_TOKENIZER, else the cache folder's)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests",
                                                  "TokenizerTests", "Fixtures", "corpus.json"))
    args = ap.parse_args()
    try:
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe
    except ImportError:
        sys.exit("tokenizer_corpus.py: needs tiktoken (pip install tiktoken, or bash Tools/setup.sh)")
    if not os.path.exists(args.ranks):
        sys.exit(f"tokenizer_corpus.py: {args.ranks} does not exist (bash Tools/setup.sh fetches it)")
    digest = hashlib.sha256(open(args.ranks, "rb").read()).hexdigest()
    if digest != RANKS_SHA256:
        sys.exit(f"tokenizer_corpus.py: {args.ranks} has SHA-256 {digest}, expected GPT-2's {RANKS_SHA256}")
    ranks = load_tiktoken_bpe(args.ranks)
    special = {"<|endoftext|>": 50256}
    enc = tiktoken.Encoding(name="gpt2", pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens=special)
    alt = tiktoken.Encoding(name="gpt2_r50k", pat_str=TIKTOKEN_R50K_PATTERN, mergeable_ranks=ranks, special_tokens=special)
    cases = []
    for s in corpus():
        ids = enc.encode(s, disallowed_special=())
        assert ids == alt.encode(s, disallowed_special=()), f"the two patterns disagree on {s!r}"
        assert enc.decode(ids) == s, f"decode(encode(s)) != s for {s!r}"
        cases.append({"text": s, "ids": ids})
    doc = {
        "schema": 1,
        "generator": "Tools/tokenizer_corpus.py",
        "tiktoken": tiktoken.__version__,
        "ranks_sha256": digest,
        "pattern": GPT2_PATTERN,
        "special_tokens": special,
        "count": len(cases),
        "cases": cases,
    }
    # One case per line, so a change to the corpus is a readable diff.
    head = json.dumps({k: v for k, v in doc.items() if k != "cases"}, ensure_ascii=False)
    lines = [visible(json.dumps(c, ensure_ascii=False)) for c in cases]
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(head[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n")
    json.load(open(args.out, encoding="utf-8"))   # it parses
    tokens = sum(len(c["ids"]) for c in cases)
    print(f"wrote {os.path.normpath(args.out)}: {len(cases)} strings, {tokens} tokens (tiktoken {tiktoken.__version__})")


if __name__ == "__main__":
    main()
