#!/usr/bin/env python3
"""What a timeline of a long video costs against classifying its windows one
by one, in one run.

Makes a video with the ffmpeg command (testsrc2, --seconds at 30 fps,
640x360, H.264) and decodes all its frames into memory once (not timed).
Then, in rounds where the two take turns (median of --repeat rounds, after
one warm-up each):
  timeline   Model.timeline(video, window, stride): decodes the video, and
             encodes each frame the windows choose once
  per-window for each of the same windows, load_clip_arrays on its frames
             (already decoded: the baseline's decoding is free) and
             classify_clip: every window's T frames through the image tower
Both give the same logits (checked). Run from the repository root:
    PYTHONPATH=build/python /usr/bin/python3 bench/bench_timeline.py --model M.safetensors
"""

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

import clipcaer
from video_source import ffmpeg, make_h264


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--seconds", type=float, default=16.0)
    ap.add_argument("--window", type=float, default=4.0)
    ap.add_argument("--stride", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    model = clipcaer.Model(args.model, threads=args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        video = os.path.join(tmp, "lesson.mp4")
        make_h264(video, args.seconds, "640x360")
        frames_dir = os.path.join(tmp, "frames")
        os.mkdir(frames_dir)
        ffmpeg("-i", video, "-pix_fmt", "rgb24", os.path.join(frames_dir, "%05d.png"))
        names = sorted(os.listdir(frames_dir))
        frames = [clipcaer.preprocess.read_image(os.path.join(frames_dir, n)) for n in names]
        plan = model.timeline(video, args.window, args.stride)

        def timeline():
            return model.timeline(video, args.window, args.stride).logits

        def per_window():
            out = []
            for first, end in zip(plan.first_frames, plan.end_frames):
                faces, ctx = clipcaer.preprocess.load_clip_arrays(frames[first:end], num_segments=model.num_frames,
                                                                  size=model.image_size)
                out.append(model.classify_clip(faces, ctx).logits)
            return np.stack(out)

        variants = {"timeline": timeline, "per-window": per_window}
        assert np.array_equal(timeline(), per_window()), "the two disagree"
        times = {k: [] for k in variants}
        for _ in range(args.repeat):
            for name, f in variants.items():
                t0 = time.perf_counter()
                f()
                times[name].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        windows, T = len(plan), model.num_frames
        print(f"{args.seconds:g} s video at 30 fps ({plan.num_frames} frames), windows of {args.window:g} s every "
              f"{args.stride:g} s: {windows} windows; images through the tower: timeline {plan.images_encoded}, "
              f"per-window {2 * T * windows}; model {args.model}, {model.threads} threads, {model.kernel_set}, "
              f"median of {args.repeat} interleaved rounds")
        for name in variants:
            print(f"  {name:11s} {med[name]:7.2f} s  ({med[name] / windows:.3f} s per window)  rounds: "
                  + ", ".join(f"{t:.2f}" for t in times[name]))
        print(f"  timeline / per-window: {med['timeline'] / med['per-window']:.2f}x")


if __name__ == "__main__":
    main()
