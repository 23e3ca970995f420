"""clipcaer.Model from Python: parity with the reference goldens, the result
objects, batching, threads and every error path."""
import concurrent.futures
import os

import numpy as np
import pytest

import st_format
from fixture_inputs import procedural_clips
from helpers import FIXTURES, MANIFEST

clipcaer = pytest.importorskip("clipcaer")

def caer_fixtures():
    """(name, weights path, io path) of every CLIP-CAER fixture in manifest.json."""
    return [(name, FIXTURES / e["weights"], FIXTURES / e["io"])
            for name, e in sorted(MANIFEST.items()) if e["kind"] == "clip-caer"]


def load_io(name, io, image_size):
    g = st_format.read_safetensors(io)[0]
    e = MANIFEST[name]
    if e.get("inputs") == "procedural":
        g["faces"], g["frames"] = procedural_clips(e["clips"], e["clip_frames"], image_size)
        assert np.array_equal(g["faces"][..., :8, :8], g["faces_corner"])
    return g


def cosine_min(a, b):
    a = a.reshape(-1, a.shape[-1]).astype(np.float64)
    b = b.reshape(-1, b.shape[-1]).astype(np.float64)
    return float(np.min(np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)))


@pytest.fixture(scope="module", params=caer_fixtures(), ids=lambda f: f[0])
def case(request):
    name, weights, io = request.param
    m = clipcaer.Model(str(weights), threads=2)
    return m, load_io(name, io, m.image_size)


@pytest.fixture(scope="module")
def small():
    name, weights, io = caer_fixtures()[0]
    m = clipcaer.Model(str(weights))
    return m, load_io(name, io, m.image_size)


def test_parity_with_reference(case):
    m, g = case
    r = m.classify_clips(g["faces"], g["frames"])
    assert r.logits.shape == g["logits"].shape
    assert np.abs(r.logits - g["logits"]).max() <= 1e-3
    assert np.abs(r.probs - g["probs"]).max() <= 1e-4
    assert list(r.indices) == list(np.argmax(g["logits"], -1))
    assert r.labels == [m.class_names[i] for i in r.indices]
    assert cosine_min(m.text_features, g["text_features"]) >= 0.99999
    f = m.features(g["faces"], g["frames"])
    for key, ref in [("face_image", "face_image_features"), ("context_image", "context_image_features"),
                     ("face_video", "face_video_features"), ("context_video", "context_video_features"),
                     ("video", "video_features")]:
        assert f[key].shape == g[ref].shape, key
        assert cosine_min(f[key], g[ref]) >= 0.99999, key
    images = g["faces"].reshape(-1, *g["faces"].shape[2:])
    feats = m.encode_images(images)
    assert cosine_min(feats, g["face_image_features"].reshape(feats.shape)) >= 0.99999


def test_single_clip_result(small):
    m, g = small
    r = m.classify_clip(g["faces"][0], g["frames"][0])
    assert r.logits.shape == (m.num_classes,) and r.logits.dtype == np.float32
    assert abs(float(r.probs.sum()) - 1.0) < 1e-5
    assert r.index == int(np.argmax(r.logits)) and r.label == m.class_names[r.index]
    assert "Prediction" in repr(r)
    f = m.features(g["faces"][0], g["frames"][0])
    assert f["logits"].shape == (m.num_classes,)
    assert np.array_equal(f["logits"], r.logits)


def test_properties(small):
    m, _ = small
    c = m.config
    assert c["model_type"] == "clip-caer"
    assert m.num_frames == c["temporal"]["num_frames"]
    assert m.image_size == c["vision"]["image_size"]
    assert len(m.class_names) == m.num_classes == len(c["classes"])
    assert m.text_features.shape == (m.num_classes, m.embed_dim)
    assert m.kernel_set in ("avx512_amx", "avx512_bf16", "avx512_vnni", "avx512", "avx2_vnni", "avx2", "sse2", "neon64", "neon")
    assert m.dtype == "float32"
    assert m.path.endswith(".safetensors")


def test_kernel_sets_name_what_isa_accepts(small):
    m, g = small
    sets = clipcaer.kernel_sets()
    assert sets and len(set(sets)) == len(sets)
    if not os.environ.get("CLIPCAER_ISA"):
        assert m.kernel_set == sets[0]  # the best one by default
    ref = m.classify_clip(g["faces"][0], g["frames"][0]).logits
    for name in sets:
        forced = clipcaer.Model(m.path, isa=name)
        assert forced.kernel_set == name
        # Same answer on every table, to float32 accumulation error.
        np.testing.assert_allclose(forced.classify_clip(g["faces"][0], g["frames"][0]).logits, ref, atol=1e-4)


def test_float64_and_noncontiguous_inputs_are_accepted(small):
    m, g = small
    ref = m.classify_clip(g["faces"][0], g["frames"][0]).logits
    r64 = m.classify_clip(g["faces"][0].astype(np.float64), g["frames"][0].astype(np.float64)).logits
    assert np.array_equal(ref, r64)
    faces_nc = np.asfortranarray(g["faces"][0])
    assert np.array_equal(ref, m.classify_clip(faces_nc, g["frames"][0]).logits)


def test_threads_share_one_model(small):
    m, g = small
    serial = m.classify_clips(g["faces"], g["frames"]).logits
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: m.classify_clips(g["faces"], g["frames"]).logits, range(8)))
    for o in outs:
        assert np.array_equal(o, serial)


def test_thread_count_does_not_change_results(small):
    m, g = small
    one = clipcaer.Model(str(caer_fixtures()[0][1]), threads=1)
    assert one.threads == 1
    assert np.array_equal(one.classify_clips(g["faces"], g["frames"]).logits,
                          m.classify_clips(g["faces"], g["frames"]).logits)


def test_bad_inputs(small):
    m, g = small
    T, S = m.num_frames, m.image_size
    good = np.full((T, 3, S, S), 0.5, np.float32)
    with pytest.raises(ValueError, match="this model takes"):
        m.classify_clip(np.zeros((T, 3, S + 2, S + 2), np.float32), np.zeros((T, 3, S + 2, S + 2), np.float32))
    with pytest.raises(ValueError, match="at most"):
        big = np.full((T + 1, 3, S, S), 0.5, np.float32)
        m.classify_clip(big, big)
    with pytest.raises(ValueError, match="same shape"):
        m.classify_clip(good, good[:1] if T > 1 else np.full((2, 3, S, S), 0.5, np.float32))
    with pytest.raises(ValueError, match="NaN"):
        bad = good.copy()
        bad[0, 0, 0, 0] = np.nan
        m.classify_clip(good, bad)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m.classify_clip(good * 255, good)
    with pytest.raises(ValueError, match=r"\(T, 3, S, S\)"):
        m.classify_clip(good[0], good[0])
    with pytest.raises(ValueError, match=r"\(N, T, 3, S, S\)"):
        m.classify_clips(good, good)
    with pytest.raises(ValueError, match=r"\(N, 3, S, S\)"):
        m.encode_images(good[0])
    with pytest.raises(TypeError):
        m.classify_clip("faces", good)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        clipcaer.Model(str(tmp_path / "nope.safetensors"))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model at all, just some text")
    with pytest.raises(RuntimeError, match="not a safetensors file"):
        clipcaer.Model(str(junk))
    weights = caer_fixtures()[0][1]
    raw = weights.read_bytes()
    trunc = tmp_path / "trunc.safetensors"
    trunc.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(RuntimeError, match="truncated"):
        clipcaer.Model(str(trunc))
    with pytest.raises(RuntimeError, match="no-such-isa"):
        clipcaer.Model(str(weights), isa="no-such-isa")
    with pytest.raises(ValueError, match="dtype is 'float16'; expected float32, bfloat16 or int8"):
        clipcaer.Model(str(weights), dtype="float16")


@pytest.mark.parametrize("dtype,bound", [("bfloat16", 0.08), ("int8", 0.8)])
def test_reduced_precision_weights(small, dtype, bound):
    # Loose bounds: these fixtures have 32-64 feature dimensions (docs/performance.md "Reduced precision");
    # int8 on AVX512_BF16 tables runs attention in bf16 too (0.65 on caer_a).
    m, g = small
    low = clipcaer.Model(m.path, threads=2, dtype=dtype)
    assert low.dtype == dtype
    ref = m.classify_clips(g["faces"], g["frames"]).logits
    got = low.classify_clips(g["faces"], g["frames"]).logits
    assert 0 < np.abs(got - ref).max() <= bound
    assert (got.argmax(1) == ref.argmax(1)).all()


def test_device_option_runs_the_image_tower_elsewhere_with_the_same_answer(small):
    m, g = small
    assert m.device == "cpu"
    assert clipcaer.cuda_devices() >= 0
    # "emulated": the CUDA backend's code (op bodies, cuBLAS arguments) run on the host.
    e = clipcaer.Model(m.path, device="emulated")
    assert e.device == "emulated"
    ref = m.classify_clip(g["faces"][0], g["frames"][0]).logits
    np.testing.assert_allclose(e.classify_clip(g["faces"][0], g["frames"][0]).logits, ref, atol=1e-4)
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        clipcaer.Model(m.path, device="gpu")
    with pytest.raises(RuntimeError, match="float32 only"):
        clipcaer.Model(m.path, device="emulated", dtype="int8")
    if clipcaer.cuda_devices() == 0:
        with pytest.raises(RuntimeError, match="CUDA"):
            clipcaer.Model(m.path, device="cuda")
