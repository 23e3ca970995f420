#!/usr/bin/env python3
"""clipcaer.load_clip against the official Pillow + OpenCV pipeline, in one run.

Makes 16 synthetic 1280x720 JPEG frames with a face box per frame and a body
box, then times (median of --repeat rounds in which the variants take turns,
after one warm-up each):
  official   the official test loader's steps in Python: each frame opened
             twice (as the official code does), Pillow crop + BILINEAR resize,
             OpenCV letterbox, stack, / 255
  decode-1x  the same with each frame decoded once (a fairer Python baseline)
  clipcaer   clipcaer.load_clip with 1 thread and with all cores
and prints the medians and the speed ratios. With --model M.safetensors the
model's classify_clip on the preprocessed clip takes turns too, and the
preprocessing time is printed as a share of the model's. Run from the
repository root:
    PYTHONPATH=build/python /usr/bin/python3 bench/bench_preprocess_vs_pil.py [--model M]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import official_pipeline as ref  # noqa: E402

import clipcaer  # noqa: E402


def synthetic_frame(rng, w, h, seed):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    chans = [128 + 90 * np.sin(0.013 * x * (c + 1) + 0.021 * y + seed) * np.cos(0.007 * y * (3 - c)) for c in range(3)]
    img = np.stack(chans, axis=-1) + rng.integers(-8, 8, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def decode_once_pipeline(frames_dir, face_boxes, body_box, num_segments=16, size=224):
    names = sorted(os.listdir(frames_dir))
    faces, frames = [], []
    for p in ref.ref_indices(len(names), num_segments):
        pil = Image.open(os.path.join(frames_dir, names[p]))
        pil.load()
        faces.append(ref.ref_face(pil, face_boxes.get(names[p]), size))
        frames.append(ref.ref_context(pil, body_box, size))
    return ref.to_float(faces), ref.to_float(frames)


def interleaved_medians(runs, repeat):
    """Median wall time (ms) of each run; the runs take turns, so a change in
    machine load hits all of them alike and the ratios stay fair."""
    for fn in runs.values():
        fn()  # warm-up: file cache, thread pool, lazy imports
    times = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--model", help="a full-size weights file: also time classify_clip in the same rounds")
    args = ap.parse_args()
    cv2.setNumThreads(1)  # the official loader runs in DataLoader workers; one clip, one core
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        clip = os.path.join(tmp, "clip")
        os.makedirs(clip)
        face_boxes = {}
        for i in range(args.frames):
            name = "%05d.jpg" % i
            Image.fromarray(synthetic_frame(rng, 1280, 720, i)).save(os.path.join(clip, name), quality=90)
            face_boxes[name] = [560.5 + i, 180.2, 760.9 + i, 420.7]
        body_box = [400.0, 100.0, 980.0, 719.0]

        runs = {
            "official (Pillow + OpenCV, 2 decodes/frame)": lambda: ref.ref_clip(clip, face_boxes, body_box),
            "Pillow + OpenCV, 1 decode/frame": lambda: decode_once_pipeline(clip, face_boxes, body_box),
            "clipcaer.load_clip, 1 thread": lambda: clipcaer.load_clip(clip, face_boxes, body_box, threads=1),
            "clipcaer.load_clip, all cores (%d)" % os.cpu_count(): lambda: clipcaer.load_clip(clip, face_boxes, body_box),
        }
        if args.model:
            model = clipcaer.Model(args.model)
            faces, frames = clipcaer.load_clip(clip, face_boxes, body_box, num_segments=model.num_frames,
                                               size=model.image_size)
            runs["model.classify_clip (all cores)"] = lambda: model.classify_clip(faces, frames)
        # Same result first: bit-identical when both decode with the same libjpeg-turbo (docs/inputs.md).
        a, b = runs["official (Pillow + OpenCV, 2 decodes/frame)"](), runs["clipcaer.load_clip, 1 thread"]()
        diff = max(float(np.abs(a[k] - b[k]).mean()) for k in range(2)) * 255
        worst = max(float(np.abs(a[k] - b[k]).max()) for k in range(2)) * 255
        print("%d frames 1280x720 JPEG -> 16 + 16 x 3 x 224 x 224; JPEG decoder %s; vs official: mean |diff| %.3f/255, "
              "max %.0f/255" % (args.frames, clipcaer.jpeg_decoder(), diff, worst))
        medians = interleaved_medians(runs, args.repeat)
    base = medians["official (Pillow + OpenCV, 2 decodes/frame)"]
    model_ms = medians.pop("model.classify_clip (all cores)", None)
    for name, ms in medians.items():
        print("%-48s %8.1f ms   %5.2fx vs official" % (name, ms, base / ms))
    if model_ms:
        print("%-48s %8.1f ms" % ("model.classify_clip (all cores)", model_ms))
        for name, ms in medians.items():
            if name.startswith("clipcaer"):
                print("%-48s %7.1f %% of the model's time" % (name, 100 * ms / model_ms))


if __name__ == "__main__":
    main()
