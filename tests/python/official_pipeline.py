"""Our own transcription of the official CLIP-CAER test-mode input pipeline
(zgsfer/CLIP-CAER dataloader/video_dataloader.py, VideoDataset.get in test
mode with duration 1, and the test transform GroupResize + Stack +
ToTorchFormatTensor), on live Pillow and OpenCV. The reference for the
parity tests, the fixture generator and the benchmark.
"""

import glob
import os

import cv2
import numpy as np
from PIL import Image

S = 224
MARGIN = 20


def ref_indices(num_frames, num_segments):
    if num_frames > num_segments:
        tick = num_frames / float(num_segments)
        return [int(tick / 2.0 + tick * x) for x in range(num_segments)]
    return list(range(num_frames)) + [num_frames - 1] * (num_segments - num_frames)


def ref_face_crop(pil, box):
    if box is None:
        return pil
    left, upper, right, lower = (int(v) for v in box)
    left = max(0, left - MARGIN)
    upper = max(0, upper - MARGIN)
    right = min(pil.width, right + MARGIN)
    lower = min(pil.height, lower + MARGIN)
    return pil.crop((left, upper, right, lower))


def ref_letterbox(im, size):
    h, w = im.shape[0], im.shape[1]
    r = min(size / w, size / h)
    new_w, new_h = int(w * r), int(h * r)
    im = cv2.resize(im, (new_w, new_h))
    pw, ph = (size - new_w) // 2, (size - new_h) // 2
    top, bottom, left, right = ph, ph, pw, pw
    if top + bottom + new_h < size:
        bottom += 1
    if left + right + new_w < size:
        right += 1
    return cv2.copyMakeBorder(im, top, bottom, left, right, borderType=cv2.BORDER_CONSTANT, value=[0, 0, 0])


def ref_context(pil, body_box, size=S):
    if body_box is not None:
        pil = pil.crop(tuple(body_box))
    bgr = cv2.cvtColor(np.array(pil), cv2.COLOR_RGB2BGR)
    bgr = ref_letterbox(bgr, size)
    return Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype("uint8")).resize((size, size), Image.BILINEAR)


def ref_face(pil, box, size=S):
    return ref_face_crop(pil, box).resize((size, size), Image.BILINEAR)


def to_float(images):
    return np.stack([np.asarray(im).transpose(2, 0, 1) for im in images]).astype(np.float32) / np.float32(255)


def ref_clip(frames_dir, face_boxes=None, body_box=None, num_segments=16, size=S, pattern="*"):
    # The official loader globs "*": every file in the folder must be a frame there.
    paths = sorted(glob.glob(os.path.join(frames_dir, pattern)))
    faces, frames = [], []
    for p in ref_indices(len(paths), num_segments):
        path = paths[p]
        box = (face_boxes or {}).get(os.path.basename(path))
        faces.append(ref_face(Image.open(path), box, size))
        frames.append(ref_context(Image.open(path), body_box, size))
    return to_float(faces), to_float(frames)
