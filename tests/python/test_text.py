"""The text API from Python: encode_text / encode_texts against the PyTorch
reference, zero-shot images on the plain CLIP fixture, prompt-ensemble heads
(math against numpy, cache, JSON, combine), the learned head unchanged, and
every error path."""
import json
import threading

import numpy as np
import pytest
import torch

from helpers import FIXTURES, MANIFEST, REPO, VOCAB
from reference import CLIP, Config
from st_format import read_safetensors, write_safetensors

clipcaer = pytest.importorskip("clipcaer")

CLIP_A = FIXTURES / "clip_a.safetensors"
CAER_A = FIXTURES / "caer_a.safetensors"


def golden(name):
    return read_safetensors(FIXTURES / MANIFEST[name]["io"])[0]


def reference_clip(path):
    """The reference CLIP in float64 with a weights file's tensors."""
    tensors, meta, _ = read_safetensors(path)
    cfg = json.loads(meta["config"])
    model = CLIP(Config.from_file_config(cfg)).double().eval()
    state = {k: torch.from_numpy(np.array(v, np.float64)) for k, v in tensors.items() if k in model.state_dict()}
    missing = set(model.state_dict()) - set(state)
    assert missing <= {"logit_scale"}, missing
    model.load_state_dict(state, strict=False)
    return model


def rel_diff(a, b):
    return float(np.abs(np.asarray(a, np.float64) - b).max() / np.abs(b).max())


def normalize(x):
    x = np.asarray(x, np.float64)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def full_vocab(tmp_path_factory):
    """clip_a with a random 49408-token embedding, 77 positions and the merges
    file embedded, so real tokenizer ids are in range (written at test time)."""
    tensors, meta, _ = read_safetensors(CLIP_A)
    cfg = json.loads(meta["config"])
    cfg["text"].update(vocab_size=49408, context_length=77)
    width = cfg["text"]["width"]
    rng = np.random.default_rng(5)
    tensors = dict(tensors)
    tensors["token_embedding.weight"] = (0.1 * rng.standard_normal((49408, width))).astype(np.float32)
    tensors["positional_embedding"] = (0.01 * rng.standard_normal((77, width))).astype(np.float32)
    entries = [(k, "F32", v) for k, v in tensors.items()]
    entries.append(("tokenizer.bpe_vocab_gz", "U8", np.frombuffer(VOCAB.read_bytes(), np.uint8)))
    path = tmp_path_factory.mktemp("text") / "full_vocab.safetensors"
    write_safetensors(str(path), entries, {**meta, "config": json.dumps(cfg)})
    return path


@pytest.fixture(scope="module")
def full(full_vocab):
    return clipcaer.Model(str(full_vocab), threads=2)


# ---- encoders against the reference ----------------------------------------

def test_plain_clip_encode_text_images_and_zero_shot_logits_match_reference():
    g = golden("clip_a")
    m = clipcaer.Model(str(CLIP_A), threads=2)
    assert m.config["input_normalization"] == "clip"
    text = m.encode_text(g["token_ids"])  # int64 ids are accepted
    assert rel_diff(text, g["text_features"]) < 1e-5
    image = m.encode_images(g["images"])
    assert rel_diff(image, g["image_features"]) < 1e-5
    head = clipcaer.TextHead(m, [f"c{i}" for i in range(len(text))], text)
    out = m.classify_images(g["images"], head)
    assert np.abs(out.logits - g["logits_per_image"]).max() < 2e-4
    assert list(out.indices) == list(g["logits_per_image"].argmax(1))
    one = m.classify_image(g["images"][1], head)
    np.testing.assert_array_equal(one.logits, out.logits[1])
    assert one.label == head.names[one.index]


def test_encode_texts_match_the_reference_on_real_tokenizer_ids(full, full_vocab):
    texts = ["a photo of a confused student.", "Furrowed eyebrows, slightly open mouth.", "Ünïcödé ✓ 学生"]
    ids = clipcaer.Tokenizer(str(VOCAB)).tokenize(texts, truncate=False)
    from_text = full.encode_texts(texts)
    np.testing.assert_array_equal(from_text, full.encode_text(ids))  # the same ids, bitwise
    with torch.no_grad():
        want = reference_clip(full_vocab).encode_text(torch.from_numpy(ids.astype(np.int64))).numpy()
    assert rel_diff(from_text, want) < 1e-5


def test_encode_text_runs_only_to_the_last_eot():
    g = golden("clip_a")
    m = clipcaer.Model(str(CLIP_A))
    ids = g["token_ids"]
    full_rows = m.encode_text(ids)
    cut = int(ids.argmax(1).max()) + 1
    np.testing.assert_allclose(m.encode_text(ids[:, :cut]), full_rows, rtol=1e-5, atol=1e-6)


# ---- heads -------------------------------------------------------------------

CLASSES = [{"name": "Confusion", "prompts": ["a photo of a confused student.", "a student frowning."]},
           {"name": "Fatigue", "descriptor": "Mouth opens in a yawn, eyelids droop."},
           {"name": "Enjoyment", "descriptors": ["smiling", "nodding"], "prompts": ["a happy student."]}]


def test_make_head_is_the_normalised_mean_of_normalised_prompt_features(full):
    head = full.make_head(CLASSES)
    assert head.names == ["Confusion", "Fatigue", "Enjoyment"] and len(head) == 3
    groups = [CLASSES[0]["prompts"], [CLASSES[1]["descriptor"]], CLASSES[2]["prompts"] + CLASSES[2]["descriptors"]]
    want = np.stack([normalize(normalize(full.encode_texts(p)).mean(0)) for p in groups])
    assert np.abs(head.features - want).max() < 1e-6
    assert np.allclose(np.linalg.norm(head.features, axis=1), 1, atol=1e-6)


def test_templates_fill_descriptors_or_names(full):
    templated = full.make_head([{"name": "confused"}, {"name": "Fatigue", "descriptors": ["tired", "sleepy"]}],
                               templates=["a photo of a {} student.", "{}"])
    written = full.make_head([{"name": "confused", "prompts": ["a photo of a confused student.", "confused"]},
                              {"name": "Fatigue", "prompts": ["a photo of a tired student.",
                                                              "a photo of a sleepy student.", "tired", "sleepy"]}])
    assert templated.shares_features_with(written)


def test_head_cache(full_vocab):
    m = clipcaer.Model(str(full_vocab))
    a = m.make_head(CLASSES)
    assert m.cached_heads == 1
    assert m.make_head(CLASSES).shares_features_with(a)
    assert m.cached_heads == 1
    assert not m.make_head(CLASSES, truncate=True).shares_features_with(a)
    assert m.cached_heads == 2
    assert not clipcaer.Model(str(full_vocab)).make_head(CLASSES).shares_features_with(a)


def test_head_from_json_and_the_examples(full, tmp_path):
    path = tmp_path / "head.json"
    path.write_text(json.dumps({"classes": CLASSES, "templates": None}))
    assert full.head_from_json(str(path)).shares_features_with(full.make_head(CLASSES))
    for name, count in [("caer7.json", 7), ("raer5.json", 5)]:
        head = full.head_from_json(str(REPO / "examples" / "heads" / name))
        assert len(head) == count
        assert head.names == [c["name"] for c in json.loads((REPO / "examples" / "heads" / name).read_text())["classes"]]


def test_combine_heads(full):
    a = full.make_head([{"name": "A", "prompts": ["a calm face"]}, {"name": "B", "prompts": ["a yawn"]}])
    b = full.make_head([{"name": "A", "prompts": ["relaxed brows"]}, {"name": "B", "prompts": ["eyelids droop"]}])
    c = clipcaer.combine_heads(a, b, weight=0.3)
    want = normalize(0.7 * a.features.astype(np.float64) + 0.3 * b.features)
    assert np.abs(c.features - want).max() < 1e-6
    assert c.names == a.names


def test_learned_head_is_unchanged_and_the_default():
    m = clipcaer.Model(str(CAER_A), threads=2)
    np.testing.assert_array_equal(m.learned_head.features, m.text_features)
    g = golden("caer_a")
    default = m.classify_clips(g["faces"], g["frames"])
    np.testing.assert_array_equal(m.classify_clips(g["faces"], g["frames"], head=m.learned_head).logits,
                                  default.logits)
    np.testing.assert_allclose(default.logits, g["logits"], atol=1e-3)
    # Another head over new classes, and the learned one combined with it.
    ids = np.array([[30, 3, 31], [30, 9, 31]])
    other = clipcaer.TextHead(m, ["yes", "no"], m.encode_text(ids))
    p = m.classify_clip(g["faces"][0], g["frames"][0], head=other)
    video = m.features(g["faces"][0], g["frames"][0])["video"]
    np.testing.assert_allclose(p.logits, 100 * other.features @ video, rtol=1e-5, atol=1e-4)
    desc = clipcaer.TextHead(m, m.class_names, m.encode_text(np.tile([30, 3, 31], (m.num_classes, 1))))
    mixed = clipcaer.combine_heads(m.learned_head, desc, 0.5)
    assert m.classify_clips(g["faces"], g["frames"], head=mixed).logits.shape == default.logits.shape
    assert m.classify_image(g["faces"][0, 0], other).logits.shape == (2,)


def test_compute_releases_the_gil(full):
    results, texts = [], ["a photo of a student."] * 64
    threads = [threading.Thread(target=lambda: results.append(full.encode_texts(texts))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and all(np.array_equal(r, results[0]) for r in results)


# ---- errors -----------------------------------------------------------------

def test_text_errors(full, tmp_path):
    m = clipcaer.Model(str(CLIP_A))
    with pytest.raises(ValueError, match=r"token id 32 at text 1, position 2 is outside the vocabulary \[0, 32\)"):
        m.encode_text(np.array([[30, 1, 31], [30, 1, 32]]))
    with pytest.raises(ValueError, match="token id 4294967296 at text 0, position 1"):
        m.encode_text(np.array([[30, 2 ** 32, 31]]))
    with pytest.raises(ValueError, match="token id -1"):
        m.encode_text(np.array([30, -1, 31]))
    with pytest.raises(ValueError, match="17 ids"):
        m.encode_text(np.ones((1, 17), np.int32))
    with pytest.raises(ValueError, match=r"\(N, L\)"):
        m.encode_text(np.ones((1, 2, 3), np.int32))
    with pytest.raises(ValueError, match="vocab_path"):
        m.encode_texts(["hello"])
    with pytest.raises(FileNotFoundError):
        clipcaer.Model(str(CLIP_A), vocab_path="/nonexistent.gz").encode_texts(["x"])
    with pytest.raises(RuntimeError, match="vocabulary of 32"):
        clipcaer.Model(str(CLIP_A), vocab_path=str(VOCAB)).encode_texts(["x"])
    with pytest.raises(ValueError, match="at least one text"):
        full.encode_texts([])
    with pytest.raises(ValueError):  # a lone surrogate has no UTF-8 (UnicodeEncodeError)
        full.encode_texts(["bad \ud800"])
    with pytest.raises(ValueError, match="text 0"):
        full.encode_texts(["word " * 80])
    assert full.encode_texts(["word " * 80], truncate=True).shape == (1, full.embed_dim)
    with pytest.raises(RuntimeError, match="no learned prompts"):
        m.learned_head


def test_head_errors(full, full_vocab, tmp_path):
    with pytest.raises(ValueError, match="at least one class"):
        full.make_head([])
    with pytest.raises(ValueError, match="has no prompts"):
        full.make_head([{"name": "A", "prompts": []}])
    with pytest.raises(ValueError, match="string 'name'"):
        full.make_head([{"prompts": ["x"]}])
    with pytest.raises(ValueError, match="list of strings"):
        full.make_head([{"name": "A", "prompts": [1]}])
    with pytest.raises(ValueError, match="exactly one"):
        full.make_head([{"name": "A"}], templates=["no slot"])
    with pytest.raises(ValueError, match="tokens"):
        full.make_head([{"name": "A", "prompts": ["word " * 80]}])
    two = full.make_head([{"name": "A", "prompts": ["a"]}, {"name": "B", "prompts": ["b"]}])
    three = full.make_head([{"name": n, "prompts": [n]} for n in "ABC"])
    with pytest.raises(ValueError, match=r"class counts differ \(2 vs 3\)"):
        clipcaer.combine_heads(two, three)
    with pytest.raises(ValueError, match="outside"):
        clipcaer.combine_heads(two, two, weight=-0.1)
    foreign = clipcaer.Model(str(full_vocab)).make_head([{"name": "A", "prompts": ["a"]}, {"name": "B", "prompts": ["b"]}])
    with pytest.raises(ValueError, match="different models"):
        clipcaer.combine_heads(two, foreign)
    with pytest.raises(ValueError, match="another Model"):
        full.classify_image(np.zeros((3, 32, 32), np.float32), foreign)
    caer = clipcaer.Model(str(CAER_A))
    g = golden("caer_a")
    with pytest.raises(ValueError, match="another Model"):
        caer.classify_clip(g["faces"][0], g["frames"][0], head=two)
    with pytest.raises(ValueError, match=r"shape \(C, 32\)"):
        clipcaer.TextHead(caer, ["a"], np.ones((1, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(3, S, S\)"):
        full.classify_image(np.zeros((1, 3, 32, 32), np.float32), two)
    with pytest.raises(FileNotFoundError):
        full.head_from_json(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(RuntimeError, match="not valid JSON"):
        full.head_from_json(str(bad))
    bad.write_text('{"classes": []}')
    with pytest.raises(ValueError, match="at least one class"):
        full.head_from_json(str(bad))
