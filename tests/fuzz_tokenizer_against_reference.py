#!/usr/bin/env python3
"""Differential test of clipcaer.Tokenizer against OpenAI's simple_tokenizer.py
(without ftfy, which clipcaer does not run): every code point in three
arrangements, then random texts for a while. Not part of CI: it needs the
reference package (see generate_tokenizer_cases.py) and a built module.

    PYTHONPATH=build/python:/tmp/tokref /usr/bin/python3 tests/fuzz_tokenizer_against_reference.py [SECONDS] [SEED]
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_tokenizer_cases import VOCAB, load_simple_tokenizer  # noqa: E402

import clipcaer  # noqa: E402


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    ref = load_simple_tokenizer(without_ftfy=True)
    tok = clipcaer.Tokenizer(VOCAB)
    failures = []

    def check(text):
        want = ref.encode(text)
        if tok.encode(text) != want or tok.decode(want) != ref.decode(want):
            failures.append(text)

    # Every code point, alone in runs, between spaces, and next to a capital sigma.
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    exhaustive = 0
    for step, sep in ((20, ""), (7, " "), (3, "\u03a3")):
        for i in range(0, len(cps), step):
            check(sep.join(chr(c) for c in cps[i:i + step]))
            exhaustive += 1

    pool = ([chr(c) for c in range(0x20, 0x7F)] + list("&;#'<|>") * 5
            + ["&amp;", "&lt;", "&#39;", "&#x27;", "&eacute", "&notit;", "&#128512;", "&#x80;", "&#0;",
               "<|endoftext|>", "<|startoftext|>", "'s", "'ll", "\u017f", "\u03a3", "\u0130", "\u0345", "\u02b0"])

    def random_cp():
        while True:
            c = rng.choice([rng.randint(0, 0x7F), rng.randint(0x80, 0x7FF), rng.randint(0x800, 0xFFFF),
                            rng.randint(0x10000, 0x10FFFF)])
            if not 0xD800 <= c <= 0xDFFF:
                return chr(c)

    randomized = 0
    end = time.time() + seconds
    while time.time() < end:
        if rng.random() < 0.5:
            text = "".join(rng.choice(pool) if rng.random() < 0.7 else random_cp() for _ in range(rng.randint(0, 30)))
        else:
            text = "".join(random_cp() for _ in range(rng.randint(0, 30)))
        check(text)
        randomized += 1

    for text in failures[:10]:
        print("MISMATCH", ascii(text))
    print(f"{exhaustive} code-point texts + {randomized} random texts, {len(failures)} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
