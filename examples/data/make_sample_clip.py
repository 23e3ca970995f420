#!/usr/bin/env python3
"""Generates examples/data/sample_clip: a synthetic "student" clip for demos.

24 JPEG frames (320x240) of a cartoon student at a desk who looks down at a
phone, with the official box files beside them:
  face_boxes.json  {clip_dir: {frame_file: [l, u, r, b]}}
  body_boxes.json  {clip_dir: [l, u, r, b]}
keyed by the clip folder as seen from the repository root
("examples/data/sample_clip"). Everything is drawn from a fixed seed, so the
output is the same on every run:
    /usr/bin/python3 examples/data/make_sample_clip.py

With the ffmpeg command on PATH it also writes the same clip as a video,
examples/data/sample_video.mp4 (H.264, 10 fps), and its face boxes keyed by
frame index, examples/data/sample_video_faces.json, and its body box,
examples/data/sample_video_bodies.json (the encoder's output may
differ between x264 versions; the committed file is the reference).
"""

import json
import math
import os
import shutil
import subprocess

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

W, H = 320, 240
FRAMES = 24
SEED = 20250601
CLIP_KEY = "examples/data/sample_clip"
DATA = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(DATA, "sample_clip")
VIDEO_KEY = "examples/data/sample_video.mp4"


def background(rng):
    y = np.linspace(0, 1, H)[:, None, None]
    wall = np.array([214, 206, 186]) * (1 - 0.25 * y) + np.array([10, 12, 20]) * y
    img = np.broadcast_to(wall, (H, W, 3)).copy()
    img += rng.normal(0, 3, img.shape)  # plaster texture
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    d.rectangle([18, 22, 150, 96], fill=(236, 240, 238), outline=(90, 90, 96), width=3)  # whiteboard
    for i, yy in enumerate(range(36, 86, 12)):
        d.line([30, yy, 60 + 14 * i, yy], fill=(40, 70, 160), width=2)  # writing
    d.rectangle([228, 18, 304, 92], fill=(170, 205, 235), outline=(120, 110, 95), width=4)  # window
    d.line([266, 18, 266, 92], fill=(120, 110, 95), width=3)
    return im


def draw_frame(t, bg, rng):
    """Frame t of the clip; returns the picture, the face box and the body extent."""
    im = bg.copy()
    d = ImageDraw.Draw(im)
    phase = t / (FRAMES - 1)
    look_down = min(1.0, max(0.0, (phase - 0.35) / 0.4))  # the student turns to the phone
    sway = 3.0 * math.sin(2 * math.pi * phase * 1.5)
    cx = 168 + sway
    # torso and arms
    torso = [cx - 46, 128, cx + 46, 236]
    d.rounded_rectangle(torso, radius=18, fill=(52, 96, 150))
    d.rectangle([cx - 9, 112, cx + 9, 132], fill=(224, 182, 150))  # neck
    # head: an ellipse that drops and tilts toward the phone
    hx, hy = cx + 10 * look_down, 84 + 14 * look_down
    head = [hx - 27, hy - 33, hx + 27, hy + 31]
    d.ellipse(head, fill=(232, 190, 158), outline=(150, 110, 90))
    d.chord([hx - 29, hy - 37, hx + 29, hy + 4], 180, 360, fill=(60, 40, 30))  # hair
    blink = t in (5, 6, 17)
    ey = hy - 4 + 6 * look_down
    for ex in (hx - 11, hx + 11):
        if blink:
            d.line([ex - 5, ey, ex + 5, ey], fill=(40, 30, 30), width=2)
        else:
            d.ellipse([ex - 5, ey - 3, ex + 5, ey + 3], fill=(250, 250, 250))
            d.ellipse([ex - 2 + 2 * look_down, ey - 2 + look_down, ex + 2 + 2 * look_down, ey + 2 + look_down],
                      fill=(40, 30, 30))
    my = hy + 16
    d.arc([hx - 10, my - 6, hx + 10, my + 4 - 6 * look_down], 20, 160, fill=(150, 60, 60), width=2)
    # desk, book, phone
    d.rectangle([0, 196, W, H], fill=(140, 98, 60))
    d.polygon([(40, 214), (112, 206), (120, 226), (46, 234)], fill=(200, 60, 50))  # book
    d.line([(44, 222), (116, 215)], fill=(245, 240, 230), width=2)
    px, py = 214 - 18 * look_down, 206 - 40 * look_down
    d.rounded_rectangle([px, py, px + 22, py + 36], radius=4, fill=(25, 25, 30))  # phone
    d.rectangle([px + 3, py + 4, px + 19, py + 30], fill=(120, 190, 240) if look_down > 0.2 else (40, 44, 52))
    d.ellipse([px - 8, py + 22, px + 10, py + 40], fill=(224, 182, 150))  # hand
    d.line([(cx + 38, 150), (px, py + 31)], fill=(52, 96, 150), width=14)  # arm
    im = im.filter(ImageFilter.GaussianBlur(0.6))
    noise = rng.normal(0, 2.5, (H, W, 3))
    im = Image.fromarray(np.clip(np.asarray(im).astype(float) + noise, 0, 255).astype(np.uint8))
    jitter = rng.uniform(-1.5, 1.5, 4)  # a detector's boxes are never exact
    face = [round(float(v + j), 2) for v, j in zip(head, jitter)]
    body = [min(torso[0], head[0]), min(torso[1], head[1]), max(torso[2], head[2]), torso[3]]
    return im, face, body


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    bg = background(rng)
    faces, extent = {}, None
    for t in range(FRAMES):
        im, face, body = draw_frame(t, bg, rng)
        name = "%05d.jpg" % (t + 1)
        im.save(os.path.join(OUT, name), quality=88)
        if t not in (11, 12):  # the "detector" missed the face here: whole frame, as in the official data
            faces[name] = face
        extent = body if extent is None else [min(extent[0], body[0]), min(extent[1], body[1]),
                                              max(extent[2], body[2]), max(extent[3], body[3])]
    body_box = [round(float(v), 2) for v in (extent[0] - 6, extent[1] - 6, extent[2] + 6, extent[3] + 2)]
    write_json(os.path.join(OUT, "face_boxes.json"), {CLIP_KEY: faces})
    write_json(os.path.join(OUT, "body_boxes.json"), {CLIP_KEY: body_box})
    write_video(faces, body_box)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def write_video(faces, body_box):
    """The JPEG frames as an H.264 video; its box files (faces keyed by frame index)."""
    if shutil.which("ffmpeg") is None:
        print("ffmpeg not found: sample_video.mp4 not written")
        return
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-framerate", "10",
                    "-i", os.path.join(OUT, "%05d.jpg"), "-c:v", "libx264", "-preset", "slow", "-crf", "23",
                    "-pix_fmt", "yuv420p", "-fflags", "+bitexact", "-flags:v", "+bitexact",
                    os.path.join(DATA, "sample_video.mp4")], check=True)
    by_index = {str(int(name[:5]) - 1): box for name, box in faces.items()}
    write_json(os.path.join(DATA, "sample_video_faces.json"), {VIDEO_KEY: by_index})
    write_json(os.path.join(DATA, "sample_video_bodies.json"), {VIDEO_KEY: body_box})


if __name__ == "__main__":
    main()
