#!/usr/bin/env python3
"""Times OpenAI's Python CLIP tokenizer on bench_tokenizer.cpp's texts, to put
clipcaer's numbers in proportion. Needs the `clip` package (clip-anytorch), ftfy
and regex on PYTHONPATH (see tests/generate_tokenizer_cases.py).
    PYTHONPATH=/tmp/tokref /usr/bin/python3 bench/bench_tokenizer_reference.py
"""
import json
import os
import sys
import time
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from generate_tokenizer_cases import TEMPLATES, clip_tokenize, load_simple_tokenizer  # noqa: E402

CPU = time.process_time  # CPU time, like the CPU column of Google Benchmark
RAER_CLASSES = ["neutrality", "enjoyment", "confusion", "fatigue", "distraction"]


def main():
    with open(os.path.join(os.path.dirname(ROOT), "shared", "testdata", "tokenizer_cases.json"), encoding="utf-8") as f:
        descriptors = [c["text"] for c in json.load(f)[:5]]
    prompts = [t.format(c) for t in TEMPLATES for c in RAER_CLASSES]
    load_s = min(timeit.repeat(lambda: load_simple_tokenizer(False), number=1, repeat=3, timer=CPU))
    for label, tok in (("", load_simple_tokenizer(False)), (" without ftfy", load_simple_tokenizer(True))):
        for name, texts in (("raer_descriptors", descriptors), ("prompt_set_5x10", prompts)):
            n = 200
            t = min(timeit.repeat(lambda: [clip_tokenize(tok, s) for s in texts], number=n, repeat=5, timer=CPU)) / n
            print(f"python {name}{label}: {t * 1e6:.1f} us per batch of {len(texts)} (warm cache)")
    cold = []
    for _ in range(5):
        fresh = load_simple_tokenizer(False)
        start = CPU()
        [clip_tokenize(fresh, s) for s in descriptors]
        cold.append(CPU() - start)
    print(f"python raer_descriptors_cold_cache: {min(cold) * 1e6:.1f} us per batch of {len(descriptors)}")
    print(f"python load: {load_s * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
