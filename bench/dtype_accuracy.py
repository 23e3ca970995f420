#!/usr/bin/env python3
"""The accuracy cost of bfloat16 and int8 weights against float32.

    /usr/bin/python3 bench/dtype_accuracy.py [--model-dir DIR] [--build-dir build/python]
        [--isa NAME] [--write-doc docs/performance.md]

For every CLIP-CAER fixture of tests/fixtures/manifest.json (with its stored
or procedural inputs) and, with --model-dir, the full-size random model of
tests/fullsize/check_parity.py --keep DIR (both clips of inputs.npz): loads
the model as float32, bfloat16 and int8 and compares each reduced type with
float32 on the same inputs: logits max abs diff, top-class agreement, and the
smallest cosine similarity of the video, face-video and context-video
features. Prints a markdown table; --write-doc puts it between the
dtype_accuracy markers of docs/performance.md.
"""

import argparse
import json
import os
import sys

import numpy as np

from doc_block import replace_block

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "tests", "fixtures")
sys.path.insert(0, os.path.join(REPO, "weights"))
import st_format  # noqa: E402
from fixture_inputs import procedural_clips  # noqa: E402

DOC_BEGIN, DOC_END = "<!-- dtype_accuracy:begin -->", "<!-- dtype_accuracy:end -->"
FEATURES = ("video", "face_video", "context_video")


def cases(model_dir):
    """(name, weights path, faces, frames) to compare on."""
    with open(os.path.join(FIXTURES, "manifest.json")) as f:
        manifest = json.load(f)
    for name, e in sorted(manifest.items()):
        if e["kind"] != "clip-caer":
            continue
        io = st_format.read_safetensors(os.path.join(FIXTURES, e["io"]))[0]
        if e.get("inputs") == "procedural":
            size = e["config"]["vision"]["image_size"]
            io["faces"], io["frames"] = procedural_clips(e["clips"], e["clip_frames"], size)
        yield name, os.path.join(FIXTURES, e["weights"]), io["faces"], io["frames"]
    if model_dir:
        inputs = np.load(os.path.join(model_dir, "inputs.npz"))
        yield "full-size ViT-B/32", os.path.join(model_dir, "clip_caer.safetensors"), inputs["faces"], inputs["frames"]


def min_cosine(a, b):
    a = a.reshape(-1, a.shape[-1]).astype(np.float64)
    b = b.reshape(-1, b.shape[-1]).astype(np.float64)
    return float(np.min(np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)))


def measure(clipcaer, weights, faces, frames, isa):
    out = {}
    for dtype in ("float32", "bfloat16", "int8"):
        m = clipcaer.Model(weights, threads=2, isa=isa, dtype=dtype)
        f = m.features(faces, frames)
        out[dtype] = dict(kernel_set=m.kernel_set, logits=np.asarray(f["logits"]),
                          **{k: np.asarray(f[k]) for k in FEATURES})
    rows = []
    ref = out["float32"]
    for dtype in ("bfloat16", "int8"):
        got = out[dtype]
        rows.append(dict(dtype=dtype, kernel_set=got["kernel_set"], clips=len(ref["logits"]),
                         logits=float(np.abs(got["logits"] - ref["logits"]).max()),
                         agree=int((got["logits"].argmax(1) == ref["logits"].argmax(1)).sum()),
                         cosine=min(min_cosine(got[k], ref[k]) for k in FEATURES)))
    return rows


def table(results):
    lines = ["| model | dtype | kernel set | clips | logits max abs diff | same top class | min feature cosine |",
             "|---|---|---|---|---|---|---|"]
    for name, rows in results:
        for r in rows:
            lines.append(f"| {name} | {r['dtype']} | {r['kernel_set']} | {r['clips']} | {r['logits']:.4f} | "
                         f"{r['agree']}/{r['clips']} | {r['cosine']:.6f} |")
    return "\n".join(lines)


def write_doc(path, text):
    with open(path) as f:
        doc = replace_block(f.read(), DOC_BEGIN, DOC_END, text)
    if doc is None:
        sys.exit(f"dtype_accuracy.py: {path} has no {DOC_BEGIN} ... {DOC_END} markers")
    with open(path, "w") as f:
        f.write(doc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", help="full-size model from tests/fullsize/check_parity.py --keep DIR")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build", "python"))
    ap.add_argument("--isa", default="", help="kernel set (default: the best for this CPU)")
    ap.add_argument("--write-doc", help="docs/performance.md to update")
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.build_dir))
    import clipcaer
    results = [(name, measure(clipcaer, w, faces, frames, args.isa)) for name, w, faces, frames in
               cases(args.model_dir)]
    text = table(results)
    print(text)
    if args.write_doc:
        write_doc(args.write_doc, f"`{' '.join(['bench/dtype_accuracy.py'] + sys.argv[1:])}`\n\n" + text)
    worst = [r for _, rows in results for r in rows if r["agree"] != r["clips"]]
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
