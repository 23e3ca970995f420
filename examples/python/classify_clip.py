"""Classify one clip folder with the Python module.

usage: python3 classify_clip.py MODEL.safetensors CLIP_DIR [FACE_BOXES.json] [BODY_BOXES.json]
"""
import sys

import clipcaer


def main(argv):
    if not 3 <= len(argv) <= 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    model = clipcaer.Model(argv[1])
    faces, frames = clipcaer.load_clip(argv[2],
                                       face_boxes=argv[3] if len(argv) > 3 else None,
                                       body_box=argv[4] if len(argv) > 4 else None,
                                       num_segments=model.num_frames, size=model.image_size)
    r = model.classify_clip(faces, frames)
    print(f"clip {argv[2]}: {r.label}")
    print("logits: " + " ".join(f"{v:.4f}" for v in r.logits))
    for name, p in zip(model.class_names, r.probs):
        print(f"  {name:<12} {100 * p:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
