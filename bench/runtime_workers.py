#!/usr/bin/env python3
"""One runtime timing one CLIP-CAER clip, in a process of its own (shared by
bench_vs_torch.py and compare_runtimes.py).

    /usr/bin/python3 bench/runtime_workers.py --kind torch|clipcaer|onnxruntime --inputs inputs.npz ...
    /usr/bin/python3 bench/runtime_workers.py --kind torch --export-onnx OUT.onnx --checkpoint PTH --inputs NPZ

The worker loads its model, answers one JSON line {"ready", "load_s",
"rss_mb", "versions"} (or {"unavailable": why} and exits), then times one
forward per "run" line on stdin and answers {"s", "logits"}; any other line
makes it answer {"peak_rss_mb"} and exit. The parent drives it with Worker.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings

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


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_torch(args, threads):
    """PyTorch's video-only forward (text features precomputed): what it takes
    per clip once the prompts are fixed, as clipcaer does at load."""
    import torch
    torch.set_num_threads(threads)
    sys.path.insert(0, os.path.join(REPO, "weights"))
    from reference import model_from_state_dict
    ckpt = torch.load(args.checkpoint, map_location="cpu")
    model = model_from_state_dict(ckpt.pop("state_dict"), args.temporal_heads)
    del ckpt
    with torch.inference_mode():
        text = model.text_features()
    return model, text


def blas_library():
    """The BLAS this process mapped, e.g. 'openblas-pthread/libblas.so.3' (Debian's torch uses whatever
    libblas.so.3 points to: the reference BLAS, ~40x slower, unless an optimised one is installed)."""
    try:
        with open("/proc/self/maps") as f:
            fields = [line.split() for line in f]
    except OSError:
        return None
    paths = {x[-1] for x in fields if len(x) >= 6 and "blas" in x[-1]}  # the 6th field: the mapped file
    return ", ".join(sorted(os.path.join(os.path.basename(os.path.dirname(p)), os.path.basename(p))
                            for p in paths)) or None


def make_torch(args, faces, frames):
    import torch
    model, text = load_torch(args, args.threads)
    f, c = torch.from_numpy(faces)[None], torch.from_numpy(frames)[None]

    def run():
        with torch.inference_mode():
            video = model.video_features(f, c)["video_features"]
            return model.logits(video, text)[0].numpy()
    versions = {"torch": torch.__version__}
    blas = blas_library()
    if blas:
        versions["torch BLAS"] = blas
    return run, versions


def make_clipcaer(args, faces, frames):
    import numpy as np
    sys.path.insert(0, os.path.abspath(args.build_dir))
    import clipcaer
    model = clipcaer.Model(args.weights, threads=args.threads, dtype=args.dtype)

    def run():
        return np.asarray(model.classify_clip(faces, frames).logits)
    return run, {"clipcaer": clipcaer.__version__}


def make_onnxruntime(args, faces, frames):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle workers block instead of spinning (as PyTorch's OMP_WAIT_POLICY=PASSIVE):
    # spinning threads would steal the cores from the side timed next.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
    feed = {"faces": faces[None], "frames": frames[None]}

    def run():
        return sess.run(["logits"], feed)[0][0]
    return run, {"onnxruntime": ort.__version__}


def export_onnx(args):
    """Writes PyTorch's video path (logits against the precomputed text
    features, fixed input shapes) to args.export_onnx, via a temp file."""
    import numpy as np
    import torch
    model, text = load_torch(args, args.threads)

    class VideoLogits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.register_buffer("text", text.clone())

        def forward(self, faces, frames):
            return self.model.logits(self.model.video_features(faces, frames)["video_features"], self.text)

    inputs = np.load(args.inputs)
    sample = (torch.from_numpy(inputs["faces"][:1]), torch.from_numpy(inputs["frames"][:1]))
    tmp = args.export_onnx + ".tmp"
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)  # the frame-count check, constant here
    with torch.no_grad():
        torch.onnx.export(VideoLogits().eval(), sample, tmp, input_names=["faces", "frames"],
                          output_names=["logits"], opset_version=args.opset, do_constant_folding=True)
    os.replace(tmp, args.export_onnx)


def worker(args):
    import numpy as np
    if args.export_onnx:
        return export_onnx(args)
    inputs = np.load(args.inputs)
    faces, frames = inputs["faces"][0], inputs["frames"][0]
    make = {"torch": make_torch, "clipcaer": make_clipcaer, "onnxruntime": make_onnxruntime}[args.kind]
    t0 = time.perf_counter()
    try:
        run, versions = make(args, faces, frames)
    except ImportError as e:
        return reply({"unavailable": f"{e} (in {sys.executable})"})
    except RuntimeError as e:  # e.g. a dtype this build's kernels cannot pack yet
        if args.kind != "clipcaer":
            raise
        return reply({"unavailable": str(e)})
    load_s = time.perf_counter() - t0
    versions.update(numpy=np.__version__, python=platform.python_version())
    reply({"ready": True, "load_s": load_s, "rss_mb": peak_rss_mb(), "versions": versions})
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0 = time.perf_counter()
        logits = run()
        elapsed = time.perf_counter() - t0
        reply({"s": elapsed, "logits": [float(x) for x in logits]})
    reply({"peak_rss_mb": peak_rss_mb()})


def reply(obj):
    print(json.dumps(obj), flush=True)


class Unavailable(Exception):
    """The worker could not set up its runtime (message says why)."""


class Worker:
    """A worker process; the constructor returns once it has loaded (so loads
    never overlap) and raises Unavailable if it could not."""

    def __init__(self, kind, threads, inputs, python=None, checkpoint=None, weights=None, onnx=None,
                 build_dir=None, dtype="", temporal_heads=8, name=None):
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS=str(threads))
        self.name = name or kind
        cmd = [python or sys.executable, os.path.abspath(__file__), "--kind", kind, "--inputs", inputs,
               "--threads", str(threads), "--dtype", dtype, "--temporal-heads", str(temporal_heads)]
        for flag, value in (("--checkpoint", checkpoint), ("--weights", weights), ("--onnx", onnx),
                            ("--build-dir", build_dir)):
            if value:
                cmd += [flag, value]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.ready = self.read()
        if "unavailable" in self.ready:
            self.proc.wait()
            raise Unavailable(self.ready["unavailable"])

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"runtime_workers.py: the {self.name} worker exited (code {self.proc.wait()})")
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
    parser.add_argument("--kind", required=True, choices=("torch", "clipcaer", "onnxruntime"))
    parser.add_argument("--inputs", required=True, help="npz with faces, frames (N, T, 3, S, S); clip 0 is used")
    parser.add_argument("--checkpoint", help="official-style model_best.pth (torch)")
    parser.add_argument("--weights", help="clip_caer.safetensors (clipcaer)")
    parser.add_argument("--onnx", help="exported video path (onnxruntime)")
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "python"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", default="", help="clipcaer weight dtype ('' = the file's)")
    parser.add_argument("--temporal-heads", type=int, default=8)
    parser.add_argument("--export-onnx", metavar="PATH", help="with --kind torch: export the video path, then exit")
    parser.add_argument("--opset", type=int, default=14)
    return worker(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
