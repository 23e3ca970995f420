#!/usr/bin/env python3
"""What reading a clip from a video file costs, in one run.

Makes a video with the ffmpeg command (testsrc2, --seconds at 30 fps,
1280x720, H.264 yuv420p) and the same frames as a JPEG folder (`ffmpeg -i
video -q:v 2 %05d.jpg`: what users would otherwise extract), then times
(median of --repeat rounds in which the variants take turns, after one
warm-up each):
  video      clipcaer.load_clip(video): decode every frame, convert the 16
             chosen ones, preprocess
  jpeg-dir   clipcaer.load_clip(jpeg folder): decode the 16 chosen JPEGs,
             preprocess (no extraction counted)
  extract    the ffmpeg command extracting the JPEG folder (a subprocess)
each with 1 thread and with all cores (ffmpeg with -threads 1 / 0), and
prints the medians and ratios. With --model M.safetensors the model's
classify_clip takes turns too, for scale. Run from the repository root:
    PYTHONPATH=build/python /usr/bin/python3 bench/bench_video.py [--model M]
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time

import clipcaer
from video_source import ffmpeg, make_h264


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--model", default="")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        video = os.path.join(tmp, "v.mp4")
        make_h264(video, args.seconds, "1280x720")
        jpegs = os.path.join(tmp, "jpg")
        os.mkdir(jpegs)
        ffmpeg("-i", video, "-q:v", "2", os.path.join(jpegs, "%05d.jpg"))
        n = len(os.listdir(jpegs))

        def extract(threads):
            out = os.path.join(tmp, "x")
            shutil.rmtree(out, ignore_errors=True)
            os.mkdir(out)
            ffmpeg("-threads", threads, "-i", video, "-threads", threads, "-q:v", "2", os.path.join(out, "%05d.jpg"))

        variants = {}
        for t, label in ((1, "1 thread"), (0, f"{cores} threads")):
            variants[f"video, {label}"] = lambda t=t: clipcaer.load_clip(video, threads=t)
            variants[f"jpeg-dir, {label}"] = lambda t=t: clipcaer.load_clip(jpegs, threads=t)
            variants[f"extract, {label}"] = lambda t=t: extract(1 if t == 1 else 0)
        if args.model:
            model = clipcaer.Model(args.model)
            faces, frames = clipcaer.load_clip(video, num_segments=model.num_frames, size=model.image_size)
            variants["model classify_clip"] = lambda: model.classify_clip(faces, frames)
        times = {k: [] for k in variants}
        for f in variants.values():
            f()
        for _ in range(args.repeat):
            for k, f in variants.items():
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{n} frames of 1280x720 H.264; {clipcaer.video_decoder()}; medians of {args.repeat} rounds")
        for k, v in med.items():
            print(f"  {k:28s} {1000 * v:8.1f} ms")
        for label in ("1 thread", f"{cores} threads"):
            v, j, e = med[f"video, {label}"], med[f"jpeg-dir, {label}"], med[f"extract, {label}"]
            print(f"  {label}: video / jpeg-dir {v / j:.2f}x, video / (extract + jpeg-dir) {v / (e + j):.2f}x")


if __name__ == "__main__":
    main()
