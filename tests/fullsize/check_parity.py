#!/usr/bin/env python3
"""Full-size parity check of clipcaer against the PyTorch reference (not run
in CI; needs torch, ~4 GB of memory and 1.3 GB of disk in a temp folder).

    /usr/bin/python3 tests/fullsize/check_parity.py [--build-dir build/python] [--keep DIR]

Builds a random CLIP-CAER at the released size (ViT-B/32: width 768, 12
layers, patch 32, image 224; text 512 x 12, vocabulary 49408, context 77;
embed 512; 16 frames; 5 RAER classes with their real tokenised prompts;
8 context tokens; temporal depth 1), saves it as an official-style
model_best.pth, converts it with weights/convert.py (--vocab), then compares
the clipcaer Python module with the reference (float64): logits max abs diff
<= 1e-3, same top class, features cosine >= 0.99999. Exit code 0 when every
check passes.

--reference-only stops before clipcaer; --numpy-check also runs the
converted file through the float64 numpy model of the tests (2 frames);
--prepare-only --keep DIR only writes the files (used by bench/bench_vs_torch.py).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "weights"))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch starts its thread pool

import torch  # noqa: E402

from make_fixtures import GAINS, calibrate_, smooth_clips  # noqa: E402

LOGITS_ATOL = 1e-3
MIN_COSINE = 0.99999


class RecorderMeter:
    """Stands for the training script's __main__.RecorderMeter (pickled as such)."""

    def __init__(self, epochs):
        self.total_epoch, self.current_epoch = epochs, epochs
        self.epoch_losses = np.zeros((epochs, 2), np.float32)
        self.epoch_accuracy = np.zeros((epochs, 2), np.float32)


def build_model(seed, vocab):
    from bpe_tokenizer import Tokenizer
    from class_list import RAER_CLASSES
    from reference import CLIPCAER, Config, randomize_

    cfg = Config()  # the released model's sizes
    model = randomize_(CLIPCAER(cfg), seed, **GAINS).eval()
    tok = Tokenizer(vocab)
    prompt = " ".join(["X"] * cfg.n_ctx) + " "
    ids = torch.tensor([tok.tokenize(prompt + c["descriptor"], cfg.context_length) for c in RAER_CLASSES])
    model.set_prompts(ids)
    return model, cfg


def make_clips(seed, clips, frames, size):
    rng = np.random.default_rng(seed)
    return smooth_clips(rng, clips, frames, size), smooth_clips(rng, clips, frames, size)


def save_checkpoint(model, path):
    opt = torch.optim.SGD([{"params": model.project_fc.parameters()},
                           {"params": model.prompt_learner.parameters(), "lr": 1e-3}], lr=1e-5, momentum=0.9)
    torch.save({"epoch": 20, "state_dict": model.state_dict(), "best_acc": 68.0,
                "optimizer": opt.state_dict(), "recorder": RecorderMeter(20)}, path)


def cosines(a, b):
    a, b = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


class Report:
    def __init__(self):
        self.failed = 0

    def check(self, what, ok, detail):
        self.failed += not ok
        print(f"  {'ok  ' if ok else 'FAIL'} {what}: {detail}")

    def features(self, what, got, want):
        got = np.asarray(got)
        if got.shape != np.asarray(want).shape:
            return self.check(what, False, f"shape {got.shape}, expected {np.asarray(want).shape}")
        c = cosines(got, want).min()
        self.check(what, c >= MIN_COSINE,
                   f"min cosine {c:.7f}, max abs diff {np.abs(got - want).max():.2e}")

    def logits(self, what, got, want):
        got = np.asarray(got)
        if got.shape != np.asarray(want).shape:
            return self.check(what, False, f"shape {got.shape}, expected {np.asarray(want).shape}")
        d = float(np.abs(got - want).max())
        same = bool((np.argmax(got, -1) == np.argmax(want, -1)).all())
        self.check(what, d <= LOGITS_ATOL and same, f"max abs diff {d:.2e}, same top class: {same}")


def compare_clipcaer(args, weights, ref, faces, frames, class_names, report):
    sys.path.insert(0, os.path.abspath(args.build_dir))
    import clipcaer

    t0 = time.perf_counter()
    m = clipcaer.Model(weights, threads=args.threads, device=args.device)
    print(f"clipcaer: loaded in {time.perf_counter() - t0:.2f} s (image tower on {m.device})")
    report.check("class_names", list(m.class_names) == class_names, f"{list(m.class_names)}")
    report.features("text_features (C, E)", m.text_features, ref["text_features"])

    t0 = time.perf_counter()
    feats = m.features(faces[0], frames[0])
    print(f"clipcaer: features() of one clip in {time.perf_counter() - t0:.2f} s")
    for key, ref_key in (("face_image", "face_image_features"), ("context_image", "context_image_features"),
                         ("face_video", "face_video_features"), ("context_video", "context_video_features"),
                         ("video", "video_features")):
        report.features(f"features()['{key}']", feats[key], ref[ref_key][0])
    report.logits("features()['logits']", feats["logits"], ref["logits"][0])

    r = m.classify_clip(faces[0], frames[0])
    report.logits("classify_clip().logits", r.logits, ref["logits"][0])
    top = int(np.argmax(ref["logits"][0]))
    report.check("classify_clip().index / .label", r.index == top and r.label == class_names[top],
                  f"{r.index} {r.label!r}, expected {top} {class_names[top]!r}")
    report.check("classify_clip().probs", np.abs(np.asarray(r.probs) - ref["probs"][0]).max() <= 1e-4,
                 f"max abs diff {np.abs(np.asarray(r.probs) - ref['probs'][0]).max():.2e}")

    rs = m.classify_clips(faces, frames)
    report.logits("classify_clips().logits (N, C)", rs.logits, ref["logits"])
    report.check("classify_clips().probs (N, C)", np.abs(np.asarray(rs.probs) - ref["probs"]).max() <= 1e-4,
                 f"max abs diff {np.abs(np.asarray(rs.probs) - ref['probs']).max():.2e}")
    report.features("encode_images(faces[0][:4])", m.encode_images(faces[0][:4]), ref["face_image_features"][0][:4])


def numpy_check(weights, ref_model, faces, frames, report):
    """The converted file through the tests' float64 numpy model, 2 frames."""
    sys.path.insert(0, os.path.join(REPO, "tests", "python"))
    from np_model import NumpyModel
    from st_format import read_safetensors

    tensors, meta, _ = read_safetensors(weights)
    model = NumpyModel(tensors, json.loads(meta["config"]))
    got = model.classify(faces[0, :2], frames[0, :2])
    with torch.no_grad():
        want = ref_model.features(torch.from_numpy(faces[:1, :2]).double(), torch.from_numpy(frames[:1, :2]).double())
    report.features("numpy model: text_features", got["text_features"], want["text_features"].numpy())
    report.features("numpy model: video_features", got["video_features"], want["video_features"][0].numpy())
    report.logits("numpy model: logits (2 frames)", got["logits"], want["logits"][0].numpy())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "python"),
                        help="folder holding the clipcaer Python package (default: build/python)")
    parser.add_argument("--keep", metavar="DIR", help="write model_best.pth, the .safetensors and inputs here and keep them")
    parser.add_argument("--vocab", default=os.path.join(REPO, "..", "shared", "clip", "bpe_simple_vocab_16e6.txt.gz"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="",
                        help="where clipcaer runs the image tower: cpu (default), cuda, cuda:N, or emulated "
                             "(the CUDA backend's code path on the host: slow, minutes)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                        help="converter --dtype; bfloat16 results are printed, the thresholds are for float32")
    parser.add_argument("--reference-only", action="store_true", help="stop before loading clipcaer")
    parser.add_argument("--prepare-only", action="store_true",
                        help="only write model_best.pth, clip_caer.safetensors and inputs.npz into --keep DIR")
    parser.add_argument("--numpy-check", action="store_true", help="also run the numpy model on the converted file")
    args = parser.parse_args()
    if not os.path.exists(args.vocab):
        sys.exit(f"check_parity.py: error: {args.vocab}: CLIP vocabulary not found (--vocab)")

    torch.set_num_threads(args.threads)
    from class_list import RAER_CLASSES
    from reference import float64_copy

    if args.prepare_only and not args.keep:
        parser.error("--prepare-only needs --keep DIR")
    work = args.keep or tempfile.mkdtemp(prefix="clipcaer-parity-")
    os.makedirs(work, exist_ok=True)
    report = Report()
    try:
        model, weights, faces, frames = prepare(work, args.seed, args.vocab, args.dtype)
        if args.prepare_only:
            return 0
        t0 = time.perf_counter()
        ref64 = float64_copy(model)
        with torch.no_grad():
            out = ref64.features(torch.from_numpy(faces).double(), torch.from_numpy(frames).double())
            out32 = model.features(torch.from_numpy(faces), torch.from_numpy(frames))
        ref = {k: v.numpy() for k, v in out.items()}
        print(f"reference: float64 forward of 2 clips in {time.perf_counter() - t0:.1f} s; "
              f"logits {np.round(ref['logits'], 3).tolist()}")
        print(f"reference: torch float32 vs float64: logits max abs diff "
              f"{np.abs(out32['logits'].numpy() - ref['logits']).max():.2e}, video cosine "
              f"{cosines(out32['video_features'].numpy(), ref['video_features']).min():.8f}")
        if args.numpy_check:
            numpy_check(weights, ref64, faces, frames, report)
        if not args.reference_only:
            compare_clipcaer(args, weights, ref, faces, frames, [c["name"] for c in RAER_CLASSES], report)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("parity: " + ("all checks passed" if report.failed == 0 else f"{report.failed} check(s) FAILED"))
    return 1 if report.failed else 0


def prepare(work, seed, vocab, dtype):
    """Writes model_best.pth, clip_caer.safetensors (via convert.py) and
    inputs.npz (2 clips) into `work`; returns (model, weights path, faces, frames)."""
    t0 = time.perf_counter()
    model, cfg = build_model(seed, vocab)
    faces, frames = make_clips(seed + 1, 2, cfg.num_frames, cfg.image_size)
    calibrate_(model, torch.from_numpy(faces), torch.from_numpy(frames))
    pth = os.path.join(work, "model_best.pth")
    save_checkpoint(model, pth)
    np.savez(os.path.join(work, "inputs.npz"), faces=faces, frames=frames)
    print(f"reference: built and saved {pth} ({os.path.getsize(pth) / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    weights = os.path.join(work, "clip_caer.safetensors")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.join(REPO, "weights", "convert.py"), pth, "-o", weights,
                           "--vocab", vocab, "--dtype", dtype], capture_output=True, text=True)
    print(f"convert.py ({time.perf_counter() - t0:.1f} s): {proc.stdout.strip()} {proc.stderr.strip()}")
    if proc.returncode:
        raise SystemExit(f"check_parity.py: convert.py failed with exit code {proc.returncode}")
    return model, weights, faces, frames


if __name__ == "__main__":
    sys.exit(main())
