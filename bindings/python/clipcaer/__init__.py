"""clipcaer: CLIP-CAER academic emotion recognition, fast C++ inference from Python.

    import clipcaer
    model = clipcaer.Model("clip_caer.safetensors")
    r = model.classify_folder("clip_frames/")
    print(r.label, r.probs)

See docs/api-python.md.
"""

import sys as _sys

from ._clipcaer import *  # noqa: F401,F403
from ._clipcaer import Model, __version__, load_clip, preprocess  # noqa: F401

# `import clipcaer.preprocess` works too (the submodule lives in the extension).
_sys.modules[__name__ + ".preprocess"] = preprocess


def _classify_folder(self, frames_dir, face_boxes=None, body_box=None, *, face_detector=None, **kwargs):
    """Preprocess a clip folder as the official test loader does (load_clip)
    and classify it. face_boxes / body_box / face_detector as in load_clip;
    other keyword arguments go to classify_clip. Returns a Prediction."""
    faces, frames = load_clip(frames_dir, face_boxes=face_boxes, body_box=body_box,
                              num_segments=self.num_frames, size=self.image_size, face_detector=face_detector)
    return self.classify_clip(faces, frames, **kwargs)


Model.classify_folder = _classify_folder
