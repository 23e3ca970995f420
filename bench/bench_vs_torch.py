#!/usr/bin/env python3
"""clipcaer against PyTorch on one full-size CLIP-CAER clip, 2 threads each.

    /usr/bin/python3 bench/bench_vs_torch.py [--build-dir build/python] [--model-dir DIR] [--repeats 7]

Both sides get the same random ViT-B/32 CLIP-CAER (made by
tests/fullsize/check_parity.py --prepare-only, or reused from --model-dir)
and the same 16-frame clip. Timed: PyTorch's video-only forward (image
encoder on 2 x 16 frames, both temporal encoders, fusion, logits against
precomputed text features) and clipcaer.Model.classify_clip. Each side runs
in its own subprocess (so its load time and peak RSS are its own), idle while
the other runs; runs alternate, after one warm-up each. Prints the medians,
the ratio, clipcaer's load time and both peak RSS, and the weights file size.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

from runtime_workers import REPO, Worker, cpu_name


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "python"))
    parser.add_argument("--model-dir", help="folder with model_best.pth, clip_caer.safetensors, inputs.npz "
                                            "(from check_parity.py --keep); default: made in a temp folder")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    tmp = None
    if not args.model_dir:
        tmp = tempfile.TemporaryDirectory(prefix="clipcaer-bench-")
        args.model_dir = tmp.name
        subprocess.run([sys.executable, os.path.join(REPO, "tests", "fullsize", "check_parity.py"),
                        "--prepare-only", "--keep", args.model_dir], check=True,
                       env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    try:
        weights = os.path.join(args.model_dir, "clip_caer.safetensors")
        common = dict(threads=args.threads, inputs=os.path.join(args.model_dir, "inputs.npz"))
        sides = {"torch": Worker("torch", checkpoint=os.path.join(args.model_dir, "model_best.pth"), **common),
                 "clipcaer": Worker("clipcaer", weights=weights, build_dir=args.build_dir, **common)}
        times = {k: [] for k in sides}
        logits = {}
        for k, w in sides.items():  # warm-up
            logits[k] = w.run()["logits"]
        for r in range(args.repeats):
            order = ("torch", "clipcaer") if r % 2 == 0 else ("clipcaer", "torch")
            for k in order:
                times[k].append(sides[k].run()["s"])
        peaks = {k: w.close()["peak_rss_mb"] for k, w in sides.items()}
        size_mb = os.path.getsize(weights) / 1e6
    finally:
        if tmp:
            tmp.cleanup()

    med = {k: statistics.median(v) for k, v in times.items()}
    diff = max(abs(a - b) for a, b in zip(logits["torch"], logits["clipcaer"]))
    print(f"\nCPU: {cpu_name()}; {args.threads} threads each; {args.repeats} alternating runs after one warm-up")
    print(f"{'':10} {'median s':>9} {'min s':>8} {'max s':>8} {'load s':>7} {'peak RSS MB':>12}")
    for k in ("torch", "clipcaer"):
        print(f"{k:10} {med[k]:9.3f} {min(times[k]):8.3f} {max(times[k]):8.3f} "
              f"{sides[k].ready['load_s']:7.2f} {peaks[k]:12.0f}")
    print(f"ratio torch / clipcaer (medians): {med['torch'] / med['clipcaer']:.2f}x")
    print(f"weights file: {size_mb:.1f} MB")
    print(f"logits max abs diff between the two: {diff:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
