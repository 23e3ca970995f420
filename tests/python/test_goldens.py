"""The fixtures' goldens against an independent float64 numpy implementation
running on the converted files, and against the torch reference."""

import json

import numpy as np
import pytest

from helpers import CAER_ALL, CAER_WITH_CHECKPOINT, MANIFEST, fixture, convert_args
from convert import main
from fixture_inputs import procedural_clips
from np_model import NumpyModel
from st_format import read_safetensors

OUTPUTS = ("face_image_features", "context_image_features", "face_video_features", "context_video_features",
           "video_features", "text_features", "logits", "probs")


def load(name, weights=None):
    tensors, meta, _ = read_safetensors(str(weights or fixture(name, "weights")))
    io, io_meta, _ = read_safetensors(str(fixture(name, "io")))
    return NumpyModel(tensors, json.loads(meta["config"])), io


def clip_inputs(name, io):
    spec = MANIFEST[name]
    if spec.get("inputs") == "procedural":
        size = spec["config"]["vision"]["image_size"]
        faces, frames = procedural_clips(spec["clips"], spec["clip_frames"], size)
        np.testing.assert_array_equal(faces[..., :8, :8], io["faces_corner"])
        np.testing.assert_array_equal(frames[..., :8, :8], io["frames_corner"])
        return faces, frames
    return io["faces"], io["frames"]


def check_against_goldens(model, io, faces, frames):
    for n in range(faces.shape[0]):
        got = model.classify(faces[n], frames[n])
        for key in OUTPUTS:
            gold = io[key] if key == "text_features" else io[key][n]
            scale = max(1.0, float(np.abs(gold).max()))
            np.testing.assert_allclose(got[key], gold, rtol=0, atol=2e-5 * scale, err_msg=f"{key} clip {n}")
        assert int(np.argmax(got["logits"])) == int(np.argmax(io["logits"][n]))


@pytest.mark.parametrize("name", CAER_ALL)
def test_numpy_model_reproduces_goldens(name):
    model, io = load(name)
    faces, frames = clip_inputs(name, io)
    spec = MANIFEST[name]
    size = spec["config"]["vision"]["image_size"]
    assert faces.shape == frames.shape == (2, spec["clip_frames"], 3, size, size)
    assert 0.0 <= faces.min() and faces.max() <= 1.0
    check_against_goldens(model, io, faces, frames)


def test_bfloat16_fixture_goldens_hold_for_a_float32_conversion(tmp_path):
    # caer_b's weights are bf16 values: converting them to F32 changes nothing.
    out = tmp_path / "caer_b.safetensors"
    assert main([str(fixture("caer_b", "checkpoint")), "-o", str(out), *convert_args("caer_b", tmp_path),
                 "--dtype", "float32"]) == 0
    model, io = load("caer_b", out)
    check_against_goldens(model, io, io["faces"], io["frames"])


@pytest.mark.parametrize("name", CAER_ALL)
def test_goldens_are_informative(name):
    """Logits spread over a few units, no saturated softmax, features that
    depend on the input, normalised vectors."""
    io = read_safetensors(str(fixture(name, "io")))[0]
    logits = io["logits"]
    spread = (logits - logits.mean(-1, keepdims=True)).std()
    assert 1.0 < spread < 5.0 and io["probs"].max() < 0.999
    np.testing.assert_allclose(io["probs"].sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(io["video_features"], axis=-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(io["text_features"], axis=-1), 1.0, atol=1e-6)
    for key in ("face_image_features", "context_image_features", "video_features"):
        a, b = io[key][0].reshape(-1), io[key][1].reshape(-1)
        assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) < 0.995, key
    assert 0.1 < np.abs(io["face_image_features"]).mean() < 10


def test_plain_clip_goldens():
    tensors, meta, _ = read_safetensors(str(fixture("clip_a", "weights")))
    config = json.loads(meta["config"])
    model = NumpyModel(tensors, config)
    io = read_safetensors(str(fixture("clip_a", "io")))[0]
    images = np.stack([model.encode_clip_image(im) for im in io["images"].astype(np.float64)])
    texts = np.stack([model.encode_text(ids) for ids in io["token_ids"]])
    np.testing.assert_allclose(images, io["image_features"], atol=2e-5)
    np.testing.assert_allclose(texts, io["text_features"], atol=2e-5)
    norm = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)
    logits = config["logit_scale"] * norm(images) @ norm(texts).T
    np.testing.assert_allclose(logits, io["logits_per_image"], atol=1e-4)
    assert logits.std() > 0.3


@pytest.mark.parametrize("name", CAER_WITH_CHECKPOINT)
def test_reference_from_checkpoint_reproduces_goldens(name):
    torch = pytest.importorskip("torch")
    from reference import load_reference
    model = load_reference(str(fixture(name, "checkpoint")), MANIFEST[name]["config"]["temporal"]["heads"])
    io = read_safetensors(str(fixture(name, "io")))[0]
    with torch.no_grad():
        out = model.double().features(torch.from_numpy(io["faces"]).double(), torch.from_numpy(io["frames"]).double())
    for key in OUTPUTS:
        np.testing.assert_allclose(out[key].numpy(), io[key], rtol=0, atol=1e-6 * max(1, np.abs(io[key]).max()),
                                   err_msg=key)
