#!/usr/bin/env python3
"""Generates the test fixtures (deterministic; needs torch):

    /usr/bin/python3 weights/make_fixtures.py            # writes tests/fixtures/ and the demo model

For each CLIP-CAER fixture <name>: an official-format checkpoint <name>.pth
(torch.save of {'epoch', 'state_dict', 'best_acc', 'optimizer' (a real SGD
state), 'recorder' (an object of this script's __main__.RecorderMeter holding
numpy arrays)}), its conversion <name>.safetensors made by convert.py, and
<name>.io.safetensors with inputs and the reference's outputs (computed in
float64, stored as float32). Also a plain CLIP model (clip_a), the demo model
examples/data/demo_model.safetensors with goldens on procedural inputs
(demo.io.safetensors), and manifest.json describing everything.
"""

import argparse
import json
import os
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import convert  # noqa: E402
from class_list import RAER_CLASSES  # noqa: E402
from fixture_inputs import FORMULA, procedural_clips  # noqa: E402
from reference import CLIP, CLIPCAER, Config, float64_copy, randomize_, random_prompt_ids  # noqa: E402
from st_format import write_safetensors  # noqa: E402

REPO = os.path.dirname(HERE)


class RecorderMeter:
    """Stands for the official training script's __main__.RecorderMeter."""

    def __init__(self, total_epoch, seed):
        rng = np.random.default_rng(seed)
        self.total_epoch = total_epoch
        self.current_epoch = total_epoch // 2
        self.epoch_losses = rng.random((total_epoch, 2)).astype(np.float32)
        self.epoch_accuracy = (100 * rng.random((total_epoch, 2))).astype(np.float32)


CAER7 = [
    {"name": "Anger", "descriptor": "Furrowed brows, glaring eyes, clenched jaw, tense posture."},
    {"name": "Disgust", "descriptor": "Wrinkled nose, raised upper lip, turning away."},
    {"name": "Fear", "descriptor": "Wide eyes, raised brows, open mouth, body pulled back."},
    {"name": "Happy", "descriptor": "Smiling mouth, raised cheeks, relaxed open posture."},
    {"name": "Neutral", "descriptor": "Relaxed face, steady gaze, calm posture."},
    {"name": "Sad", "descriptor": "Drooping eyelids, downturned mouth, slumped shoulders."},
    {"name": "Surprise", "descriptor": "Raised brows, wide eyes, dropped jaw."},
]
ATTENTION3 = [
    {"name": "Engaged", "descriptor": "Eyes on the material, upright posture."},
    {"name": "Passive", "descriptor": "Steady face, little movement."},
    {"name": "Disengaged", "descriptor": "Looking away, slouching, using a phone."},
]

FIXTURES = [
    # 7 classes (one with an empty descriptor, one whose EOT is the last row),
    # two text layers, patch 8, float32.
    dict(name="caer_a", seed=101, clip_frames=4, classes=CAER7, temporal_heads=8, dtype="float32",
         prompt_lengths=[5, 9, 12, 0, 7, 1, 10], best_acc=np.float64(61.25),
         cfg=Config(vision_width=64, vision_layers=1, patch_size=8, image_size=24, text_width=64, text_layers=2,
                    context_length=16, vocab_size=32, embed_dim=32, num_frames=4, temporal_depth=1,
                    temporal_heads=8, temporal_dim_head=8, temporal_mlp_dim=64, n_ctx=2, num_classes=7,
                    class_specific_ctx=True)),
    # Two vision heads, generic context, temporal depth 2 with 4 heads,
    # clips of 3 frames for a T = 6 model; bfloat16 checkpoint and weights file
    # (weights are bf16 values, so the goldens are exact for an f32 conversion too).
    dict(name="caer_b", seed=202, clip_frames=3, classes=ATTENTION3, temporal_heads=4, dtype="bfloat16",
         prompt_lengths=[18, 6, 11], best_acc=torch.tensor(48.5), bf16=True,
         cfg=Config(vision_width=128, vision_layers=1, patch_size=8, image_size=16, text_width=64, text_layers=1,
                    context_length=24, vocab_size=32, embed_dim=32, num_frames=6, temporal_depth=2,
                    temporal_heads=4, temporal_dim_head=16, temporal_mlp_dim=64, n_ctx=4, num_classes=3,
                    class_specific_ctx=False)),
]
CLIP_FIXTURE = dict(name="clip_a", seed=303, images=3, prompt_lengths=[4, 9, 1, 12],
                    cfg=Config(vision_width=64, vision_layers=1, patch_size=16, image_size=32, text_width=64,
                               text_layers=1, context_length=16, vocab_size=32, embed_dim=32))
# Full geometry of the released model (image 224, patch 32, 77 tokens, 16 frames,
# 8 context tokens, RAER's classes with their real prompt lengths) at small widths.
DEMO = dict(name="demo", seed=404, clip_frames=16, prompt_lengths=[24, 23, 27, 27, 28],
            cfg=Config(vision_width=64, vision_layers=2, patch_size=32, image_size=224, text_width=64,
                       text_layers=1, context_length=77, vocab_size=64, embed_dim=64, num_frames=16,
                       temporal_depth=1, temporal_heads=8, temporal_dim_head=8, temporal_mlp_dim=128, n_ctx=8,
                       num_classes=5))
DEMO_SOURCE = ("synthetic: random weights at small widths with the geometry of the released ViT-B/32 model, "
               "made by weights/make_fixtures.py for demos and tests; not a trained model, its predictions mean nothing")


def file_config(cfg, eot_positions=None):
    """The `config` metadata the converter must derive for cfg (docs/weights.md)."""
    out = {
        "vision": {"width": cfg.vision_width, "layers": cfg.vision_layers, "heads": cfg.vision_width // 64,
                   "patch_size": cfg.patch_size, "image_size": cfg.image_size},
        "text": {"width": cfg.text_width, "layers": cfg.text_layers, "heads": cfg.text_width // 64,
                 "context_length": cfg.context_length, "vocab_size": cfg.vocab_size},
        "embed_dim": cfg.embed_dim,
    }
    if eot_positions is None:
        return out
    out.update({
        "temporal": {"num_frames": cfg.num_frames, "depth": cfg.temporal_depth, "heads": cfg.temporal_heads,
                     "dim_head": cfg.temporal_dim_head, "mlp_dim": cfg.temporal_mlp_dim},
        "n_ctx": cfg.n_ctx, "class_specific_ctx": cfg.class_specific_ctx, "num_classes": cfg.num_classes,
        "eot_positions": list(eot_positions), "logit_scale": 100.0, "input_normalization": "none",
    })
    return out


@torch.no_grad()
def calibrate_(model, faces, frames, target=2.0):
    """Scales ln_final's gain so the logits of the fixture clips spread about
    `target` around their mean: random text features would otherwise make
    100 * cosine differences of tens (a saturated softmax). The spread grows
    with the gain and saturates, so the gain is bisected (in log space)."""
    video = model.video_features(faces, frames)["video_features"]
    weight = model.clip_model_.ln_final.weight
    w0 = weight.clone()

    def spread(gain):
        weight.copy_(w0 * gain)
        logits = model.logits(video, model.text_features())
        return float((logits - logits.mean(-1, keepdim=True)).std())

    lo, hi = -10.0, 0.0  # log gain
    if spread(np.exp(hi)) > target:
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if spread(np.exp(mid)) < target else (lo, mid)
    spread(np.exp(hi))


def sgd_state(model, faces, frames, labels):
    """A real SGD optimizer state (momentum buffers) after one step, over the
    small parameter groups of the official optimizer."""
    opt = torch.optim.SGD([{"params": model.project_fc.parameters(), "lr": 1e-5},
                           {"params": model.prompt_learner.parameters(), "lr": 1e-3}],
                          lr=1e-2, momentum=0.9, weight_decay=1e-4)
    loss = torch.nn.functional.cross_entropy(model(faces, frames), labels)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return opt.state_dict()


@torch.no_grad()
def round_to_bf16_(model):
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            t.copy_(t.to(torch.bfloat16).to(t.dtype))


def state_dict_as(model, dtype):
    """state_dict() in `dtype`, keeping the official model's storage sharing."""
    converted, out = {}, {}
    for key, t in model.state_dict().items():
        if t.data_ptr() not in converted:
            converted[t.data_ptr()] = t.to(dtype).clone()
        out[key] = converted[t.data_ptr()]
    return out


@torch.no_grad()
def goldens(model, faces, frames):
    out = float64_copy(model).features(torch.from_numpy(faces).double(), torch.from_numpy(frames).double())
    return {k: v.float().numpy() for k, v in out.items()}


def smooth_clips(rng, clips, frames, size):
    """Clips of smooth random images (a 3 x 3 random grid upsampled, plus
    noise), brightness and contrast drawn per clip, quantised to k / 255."""
    out = np.empty((clips, frames, 3, size, size), np.float32)
    for n in range(clips):
        brightness, contrast = rng.uniform(0.3, 0.7), rng.uniform(0.4, 1.0)
        low = torch.from_numpy(rng.random((frames, 3, 3, 3), np.float32))
        up = torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear", align_corners=False).numpy()
        img = brightness + contrast * (up - 0.5) + 0.08 * rng.standard_normal(up.shape)
        out[n] = np.round(np.clip(img, 0, 1) * 255) / 255
    return out


GAINS = dict(vision_gain=3.0, temporal_gain=3.0)


def build_caer(spec, faces, frames):
    cfg = spec["cfg"]
    model = randomize_(CLIPCAER(cfg), spec["seed"], **GAINS).eval()
    model.set_prompts(random_prompt_ids(cfg, spec["prompt_lengths"], spec["seed"] + 1))
    f, c = torch.from_numpy(faces), torch.from_numpy(frames)
    optimizer = sgd_state(model, f, c, torch.arange(faces.shape[0]) % cfg.num_classes)
    calibrate_(model, f, c)
    if spec.get("bf16"):
        round_to_bf16_(model)
    return model, optimizer


def write_classes(path, classes):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"classes": classes}, fh, indent=1)
        fh.write("\n")


def make_caer_fixture(spec, out_dir):
    name, cfg = spec["name"], spec["cfg"]
    rng = np.random.default_rng(spec["seed"] + 2)
    shape = (2, spec["clip_frames"], 3, cfg.image_size, cfg.image_size)
    faces, frames = smooth_clips(rng, *shape[:2], cfg.image_size), smooth_clips(rng, *shape[:2], cfg.image_size)
    model, optimizer = build_caer(spec, faces, frames)

    pth = os.path.join(out_dir, name + ".pth")
    dtype = torch.bfloat16 if spec.get("bf16") else torch.float32
    torch.save({"epoch": 7, "state_dict": state_dict_as(model, dtype), "best_acc": spec["best_acc"],
                "optimizer": optimizer, "recorder": RecorderMeter(10, spec["seed"])}, pth)
    classes_file = name + ".classes.json"
    write_classes(os.path.join(out_dir, classes_file), spec["classes"])
    convert.convert(pth, os.path.join(out_dir, name + ".safetensors"), os.path.join(out_dir, classes_file),
                    temporal_heads=spec["temporal_heads"], dtype=spec["dtype"])

    gold = goldens(model, faces, frames)
    tensors = [("faces", "F32", faces), ("frames", "F32", frames)]
    tensors += [(k, "F32", v) for k, v in gold.items()]
    write_safetensors(os.path.join(out_dir, name + ".io.safetensors"), tensors, {"fixture": name})
    return {
        "kind": "clip-caer", "checkpoint": name + ".pth", "weights": name + ".safetensors",
        "io": name + ".io.safetensors", "classes": classes_file,
        "convert_args": ["--classes", classes_file, "--temporal-heads", str(spec["temporal_heads"]),
                         "--dtype", spec["dtype"]],
        "checkpoint_dtype": "bfloat16" if spec.get("bf16") else "float32",
        "clip_frames": spec["clip_frames"],
        "config": file_config(cfg, model.prompt_learner.eot_positions.tolist()),
    }


@torch.no_grad()
def make_clip_fixture(spec, out_dir, tmp):
    """Plain CLIP: weights file and goldens; its checkpoint (a bare state dict
    with a `module.` prefix) stays out of git, the tests rebuild it from the
    weights file."""
    name, cfg = spec["name"], spec["cfg"]
    model = randomize_(CLIP(cfg), spec["seed"], vision_gain=GAINS["vision_gain"]).eval()
    pth = os.path.join(tmp, name + ".pth")
    torch.save({"module." + k: v for k, v in model.state_dict().items()}, pth)
    convert.convert(pth, os.path.join(out_dir, name + ".safetensors"))

    rng = np.random.default_rng(spec["seed"] + 2)
    images = smooth_clips(rng, 1, spec["images"], cfg.image_size)[0]
    token_ids = random_prompt_ids(Config(**{**cfg.__dict__, "n_ctx": 0}), spec["prompt_lengths"], spec["seed"] + 1)
    m64 = CLIP(cfg).double()
    m64.load_state_dict(model.state_dict())
    img = m64.encode_image(torch.from_numpy(images).double())
    txt = m64.encode_text(token_ids)
    logits = m64.logit_scale.exp() * (img / img.norm(dim=-1, keepdim=True)) @ (txt / txt.norm(dim=-1, keepdim=True)).t()
    tensors = [("images", "F32", images), ("token_ids", "I64", token_ids.numpy()),
               ("image_features", "F32", img.float().numpy()), ("text_features", "F32", txt.float().numpy()),
               ("logits_per_image", "F32", logits.float().numpy())]
    write_safetensors(os.path.join(out_dir, name + ".io.safetensors"), tensors,
                      {"fixture": name, "note": "image_features / text_features are raw (not normalised); "
                                                "images are [0, 1] pixels, CLIP mean/std applied by the model"})
    return {"kind": "clip", "checkpoint_in_git": False, "checkpoint": name + ".pth", "weights": name + ".safetensors",
            "io": name + ".io.safetensors", "convert_args": [],
            "config": {**file_config(cfg), "num_classes": 0,
                       "logit_scale": float(np.exp(np.float64(model.logit_scale.item()))),
                       "input_normalization": "clip"}}


def make_demo(spec, out_dir, demo_path, tmp):
    name, cfg = spec["name"], spec["cfg"]
    faces, frames = procedural_clips(2, spec["clip_frames"], cfg.image_size)
    model, optimizer = build_caer(spec, faces, frames)
    pth = os.path.join(tmp, "demo_model.pth")
    torch.save({"epoch": 1, "state_dict": model.state_dict(), "best_acc": 0.0, "optimizer": optimizer,
                "recorder": RecorderMeter(2, spec["seed"])}, pth)
    os.makedirs(os.path.dirname(demo_path), exist_ok=True)
    convert.convert(pth, demo_path, source=DEMO_SOURCE)
    gold = goldens(model, faces, frames)
    tensors = [("faces_corner", "F32", faces[..., :8, :8]), ("frames_corner", "F32", frames[..., :8, :8])]
    tensors += [(k, "F32", v) for k, v in gold.items()]
    write_safetensors(os.path.join(out_dir, name + ".io.safetensors"), tensors,
                      {"fixture": name, "inputs": "procedural: " + FORMULA,
                       "note": "faces_corner / frames_corner: [..., :8, :8] of the inputs, to check the formula"})
    return {"kind": "clip-caer", "checkpoint_in_git": False, "weights": os.path.relpath(demo_path, out_dir),
            "io": name + ".io.safetensors", "inputs": "procedural", "clips": 2,
            "clip_frames": spec["clip_frames"], "convert_args": [],
            "config": file_config(cfg, model.prompt_learner.eot_positions.tolist()),
            "class_names": [c["name"] for c in RAER_CLASSES]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures"))
    parser.add_argument("--demo", default=os.path.join(REPO, "examples", "data", "demo_model.safetensors"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for spec in FIXTURES:
            manifest[spec["name"]] = make_caer_fixture(spec, args.out)
        manifest[CLIP_FIXTURE["name"]] = make_clip_fixture(CLIP_FIXTURE, args.out, tmp)
        manifest[DEMO["name"]] = make_demo(DEMO, args.out, args.demo, tmp)
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"wrote {len(manifest)} fixtures to {args.out} ({total / 1e6:.2f} MB) and {args.demo} "
          f"({os.path.getsize(args.demo) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
