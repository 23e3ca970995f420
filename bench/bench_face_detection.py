#!/usr/bin/env python3
"""What face detection costs, against OpenCV's own CascadeClassifier, in one run.

Puts each test photograph (scripts/fetch-test-pictures.sh: one with a frontal
face, one without a face) on frames of 640x360, 1280x720 and 1920x1080, and
times, on one thread each (cv2.setNumThreads(1)), in rounds where they take
turns (median of --repeat rounds, after one warm-up):
  clipcaer   clipcaer.Cascade(frontal).detect(frame, min_size=S/12)
  opencv     cv2.CascadeClassifier(frontal).detectMultiScale(same)
  detector   clipcaer.FaceDetector().find_faces(frame): the frontal pass,
             then (no face) the profile cascade on the frame and its mirror
The two cascade runs must find the same rectangles (checked). Run from the
repository root:
    PYTHONPATH=build/python /usr/bin/python3 bench/bench_face_detection.py
"""

import argparse
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

import clipcaer

PICTURES = Path(os.environ.get("CLIPCAER_TEST_PICTURES") or
                Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clipcaer" / "test-pictures")
FRONTAL = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml"


def frame_with(picture, width, height):
    """The picture scaled to the frame's height, on a grey frame (RGB)."""
    rgb = cv2.imread(str(PICTURES / picture))[..., ::-1]
    scaled = cv2.resize(rgb, (rgb.shape[1] * height // rgb.shape[0], height), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 128, np.uint8)
    w = min(width, scaled.shape[1])
    frame[:, :w] = scaled[:, :w]
    return np.ascontiguousarray(frame)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="640x360,1280x720,1920x1080")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    ours, theirs, detector = clipcaer.Cascade(FRONTAL), cv2.CascadeClassifier(FRONTAL), clipcaer.FaceDetector()
    print(f"cascade {FRONTAL}; clipcaer {clipcaer.__version__}, OpenCV {cv2.__version__}; one thread each; "
          f"median of {args.repeat} rounds")
    print(f"{'frame':>10} {'picture':>14} {'clipcaer':>9} {'opencv':>9} {'ratio':>6} {'detector':>9} faces")
    for size in args.sizes.split(","):
        width, height = (int(v) for v in size.split("x"))
        for picture in ("astronaut.png", "coffee.png"):
            frame = frame_with(picture, width, height)
            bgr = np.ascontiguousarray(frame[..., ::-1])
            m = min(width, height) // 12
            runs = {
                "clipcaer": lambda: sorted(map(tuple, ours.detect(frame, min_size=(m, m)).tolist())),
                "opencv": lambda: sorted(map(tuple, np.asarray(theirs.detectMultiScale(bgr, minSize=(m, m))).reshape(-1, 4).tolist())),
                "detector": lambda: detector.find_faces(frame),
            }
            times = {k: [] for k in runs}
            results = {}
            for r in range(args.repeat + 1):
                for k, fn in runs.items():
                    t, results[k] = timed(fn)
                    if r:
                        times[k].append(t)
            assert results["clipcaer"] == results["opencv"], (size, picture, results)
            med = {k: statistics.median(v) for k, v in times.items()}
            print(f"{size:>10} {picture:>14} {med['clipcaer']:8.3f}s {med['opencv']:8.3f}s "
                  f"{med['clipcaer'] / med['opencv']:5.2f}x {med['detector']:8.3f}s {len(results['detector'])}")


if __name__ == "__main__":
    main()
