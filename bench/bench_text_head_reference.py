#!/usr/bin/env python3
"""Times the PyTorch reference building bench_text_head.cpp's head: the same 50
prompts (5 RAER classes x 10 templates), CLIP's text tower at full size (width
512, 12 layers, vocabulary 49408, context 77; random weights), then CLIP's
ensemble (normalise, mean, normalise). Two torch threads, like the C++ bench.

    /usr/bin/python3 bench/bench_text_head_reference.py

Prints the time with CLIP's own 77-row runs, and with the rows cut after the
last EOT as clipcaer does (the causal mask makes the results the same).
"""
import os
import sys
import timeit

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "weights"))
from bpe_tokenizer import Tokenizer  # noqa: E402
from reference import CLIP, Config, text_tower  # noqa: E402

CLASSES = ["neutrality", "enjoyment", "confusion", "fatigue", "distraction"]
TEMPLATES = [
    "a photo of a {} student.", "a photo of a student showing {}.",
    "a video frame of a {} learner in a classroom.", "a close-up photo of a {} face.",
    "a student who looks {}.", "an image of {} during a lecture.",
    "a blurry photo of a {} student.", "a low resolution photo of a student feeling {}.",
    "the academic emotion of {}.", "a classroom scene with a {} student.",
]


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    cfg = Config(vision_width=64, vision_layers=1, patch_size=32, image_size=32)  # text tower at full size
    model = CLIP(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    tok = Tokenizer(os.path.join(os.path.dirname(ROOT), "shared", "clip", "bpe_simple_vocab_16e6.txt.gz"))

    def build(cut):
        # Tokenising is part of building a head, as in Model::make_head.
        prompts = [t.format(c) for c in CLASSES for t in TEMPLATES]
        ids = torch.tensor([tok.tokenize(p, truncate=False) for p in prompts])
        eot = ids.argmax(-1)
        rows = int(eot.max()) + 1 if cut else ids.shape[1]
        with torch.no_grad():
            f = text_tower(model.transformer, model.positional_embedding[:rows], model.ln_final,
                           model.text_projection, model.token_embedding(ids[:, :rows]), eot)
            f = f / f.norm(dim=-1, keepdim=True)
            f = f.view(len(CLASSES), len(TEMPLATES), -1).mean(1)
            return f / f.norm(dim=-1, keepdim=True)

    for cut, label in ((False, "77 rows (as CLIP runs it)"), (True, "rows cut after the last EOT")):
        build(cut)
        t = min(timeit.repeat(lambda: build(cut), number=1, repeat=5))
        print(f"reference 5x10 head, {label}: {t * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
