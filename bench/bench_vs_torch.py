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
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class RecorderMeter:
    """So torch.load can rebuild the checkpoint's __main__.RecorderMeter (the
    worker is __main__)."""


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(kind, model_dir, build_dir, threads):
    """Serves 'run' requests on stdin; answers one JSON line per request."""
    import numpy as np
    inputs = np.load(os.path.join(model_dir, "inputs.npz"))
    faces, frames = inputs["faces"][0], inputs["frames"][0]
    t0 = time.perf_counter()
    if kind == "torch":
        import torch
        torch.set_num_threads(threads)
        sys.path.insert(0, os.path.join(REPO, "weights"))
        from reference import model_from_state_dict
        ckpt = torch.load(os.path.join(model_dir, "model_best.pth"), map_location="cpu")
        model = model_from_state_dict(ckpt.pop("state_dict"))
        del ckpt
        with torch.inference_mode():
            text = model.text_features()
        f, c = torch.from_numpy(faces)[None], torch.from_numpy(frames)[None]

        def run():
            with torch.inference_mode():
                video = model.video_features(f, c)["video_features"]
                return model.logits(video, text)[0].numpy()
    else:
        sys.path.insert(0, os.path.abspath(build_dir))
        import clipcaer
        model = clipcaer.Model(os.path.join(model_dir, "clip_caer.safetensors"), threads=threads)

        def run():
            return np.asarray(model.classify_clip(faces, frames).logits)
    load_s = time.perf_counter() - t0
    print(json.dumps({"ready": True, "load_s": load_s, "rss_mb": peak_rss_mb()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0 = time.perf_counter()
        logits = run()
        elapsed = time.perf_counter() - t0
        print(json.dumps({"s": elapsed, "logits": [float(x) for x in logits]}), flush=True)
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}), flush=True)


class Worker:
    def __init__(self, kind, args):
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS=str(args.threads))
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", kind, "--model-dir", args.model_dir,
             "--build-dir", args.build_dir, "--threads", str(args.threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.ready = self.read()

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"bench_vs_torch.py: the {self.kind} worker exited (code {self.proc.wait()})")
        return json.loads(line)

    def run(self):
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        out = self.read()
        self.proc.wait()
        return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "python"))
    parser.add_argument("--model-dir", help="folder with model_best.pth, clip_caer.safetensors, inputs.npz "
                                            "(from check_parity.py --keep); default: made in a temp folder")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", choices=("torch", "clipcaer"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.model_dir, args.build_dir, args.threads)

    tmp = None
    if not args.model_dir:
        tmp = tempfile.TemporaryDirectory(prefix="clipcaer-bench-")
        args.model_dir = tmp.name
        subprocess.run([sys.executable, os.path.join(REPO, "tests", "fullsize", "check_parity.py"),
                        "--prepare-only", "--keep", args.model_dir], check=True,
                       env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    try:
        weights = os.path.join(args.model_dir, "clip_caer.safetensors")
        sides = {"torch": Worker("torch", args), "clipcaer": Worker("clipcaer", args)}
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


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
