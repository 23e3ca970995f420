"""Procedural test clips that any language reproduces exactly, so fixtures at
full image size need not store their inputs.

pixel(n, s, t, c, y, x) = ((((7 + 10n)x + (13 + 6n)y + 3((x*y) mod 31) + 29t + 53c + 97s) mod 256) >> n) / 255
with n the clip, s the stream (0 faces, 1 context frames), t the frame,
c the RGB channel, y and x the row and column; computed in integers (">> n":
shift right, so clip 1 is darker), then divided as float32.
"""

import numpy as np

FORMULA = ("((((7 + 10n)x + (13 + 6n)y + 3((x*y) mod 31) + 29t + 53c + 97s) mod 256) >> n) / 255 "
           "for clip n, stream s (0 faces, 1 frames), frame t, channel c, row y, column x")


def procedural_clips(clips, frames, size):
    """(faces, frames), each (clips, frames, 3, size, size) float32 in [0, 1]."""
    n, s, t, c, y, x = np.ogrid[:clips, :2, :frames, :3, :size, :size]
    u8 = ((7 + 10 * n) * x + (13 + 6 * n) * y + 3 * ((x * y) % 31) + 29 * t + 53 * c + 97 * s) % 256 >> n
    pixels = u8.astype(np.float32) / np.float32(255)
    return np.ascontiguousarray(pixels[:, 0]), np.ascontiguousarray(pixels[:, 1])
