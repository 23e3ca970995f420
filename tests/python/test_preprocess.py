"""Parity of clipcaer's preprocessing with the official CLIP-CAER test loader.

The reference below is our own transcription of the official pipeline
(dataloader/video_dataloader.py, test mode), run live on Pillow and OpenCV.
PNG frames must match exactly (uint8 and float); JPEG frames too when this
build decodes JPEG with the libjpeg-turbo Pillow uses (CLIPCAER_LIBJPEG=ON,
the default), and within a few levels with stb_image otherwise.
"""

import glob
import io
import json
import os

import cv2
import numpy as np
import pytest
from PIL import Image

import clipcaer
from official_pipeline import MARGIN, S, ref_clip, ref_context, ref_face, ref_face_crop, ref_indices, ref_letterbox

P = clipcaer.preprocess


def pillow_libjpeg_turbo():
    from PIL import features
    return features.version("libjpeg_turbo") if features.check_feature("libjpeg_turbo") else None


# Bit-exact JPEG needs the same libjpeg-turbo on both sides.
JPEG_EXACT = clipcaer.jpeg_decoder() == "libjpeg-turbo %s" % pillow_libjpeg_turbo()


# --- helpers -------------------------------------------------------------------

def rand_image(rng, h, w):
    # Smooth structure plus noise: realistic for JPEG, still stresses rounding.
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 7) % 256], axis=-1)
    noise = rng.integers(-40, 41, (h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def rand_face_box(rng, w, h):
    """A face box that may cross the border; None when the official crop would be empty."""
    bw = rng.uniform(1, max(2.0, w * 0.8))
    bh = rng.uniform(1, max(2.0, h * 0.8))
    left = rng.uniform(-0.3 * w, w * 0.9)
    upper = rng.uniform(-0.3 * h, h * 0.9)
    box = [left, upper, left + bw, upper + bh]
    if rng.random() < 0.3:
        box = [float(round(v)) for v in box]
        if box[2] <= box[0] or box[3] <= box[1]:
            return None
    return box


def official_face_crop_is_empty(box, w, h):
    left, upper, right, lower = (int(v) for v in box)
    return min(w, right + MARGIN) <= max(0, left - MARGIN) or min(h, lower + MARGIN) <= max(0, upper - MARGIN)


def rand_body_box(rng, w, h):
    left = rng.uniform(-0.2 * w, 0.7 * w)
    upper = rng.uniform(-0.2 * h, 0.7 * h)
    box = [left, upper, left + rng.uniform(0.6, 2 + 1.2 * w), upper + rng.uniform(0.6, 2 + 1.2 * h)]
    if rng.random() < 0.3:  # exact .5 ties exercise Python's round-half-even in Pillow's crop
        box = [np.floor(v) + 0.5 for v in box]
    return [float(v) for v in box]


def write_frames(folder, images, ext="png", names=None, **save_kw):
    os.makedirs(folder, exist_ok=True)
    names = names or ["%05d.%s" % (i, ext) for i in range(len(images))]
    for name, im in zip(names, images):
        Image.fromarray(im).save(os.path.join(folder, name), **save_kw)
    return names


# --- frame sampling --------------------------------------------------------------

def test_sample_indices_match_official_rule():
    for n in range(1, 260):
        for t in list(range(1, 40)) + [64, 100, 257]:
            assert P.sample_indices(n, t) == ref_indices(n, t), (n, t)
    for n, t in [(10**6 + 7, 16), (123457, 999), (2**31 + 5, 16)]:
        assert P.sample_indices(n, t) == ref_indices(n, t)


def test_sample_indices_errors():
    with pytest.raises(ValueError, match="no frames"):
        P.sample_indices(0, 16)
    with pytest.raises(ValueError, match="segments"):
        P.sample_indices(5, 0)


def test_frame_order_is_python_sorted(tmp_path):
    names = ["b.png", "B.png", "a10.png", "a9.png", "_x.png", "é.png", "z.PNG", "0.jpeg", "1.BMP"]
    write_frames(str(tmp_path), [np.zeros((2, 2, 3), np.uint8)] * len(names), names=names)
    (tmp_path / "notes.txt").write_text("not a frame")
    (tmp_path / ".hidden.png").write_bytes(b"")
    (tmp_path / "sub.jpg").mkdir()
    expected = sorted(n for n in names)
    assert P.list_frames(str(tmp_path)) == expected
    assert [os.path.basename(p) for p in sorted(glob.glob(os.path.join(str(tmp_path), "*.*")))
            if p.lower().endswith((".png", ".jpg", ".jpeg", ".bmp")) and os.path.isfile(p)] == expected


# --- Pillow bilinear resize --------------------------------------------------------

def resize_cases(rng, count):
    cases = [((1, 1), (224, 224)), ((224, 224), (224, 224)), ((3000, 2000), (224, 224)), ((1, 700), (224, 224)),
             ((700, 1), (224, 224)), ((225, 223), (224, 224)), ((224, 500), (224, 224)), ((500, 224), (224, 224)),
             ((448, 448), (224, 224)), ((97, 31), (5, 3)), ((2, 2), (1, 1)), ((1280, 720), (224, 224))]
    for _ in range(count):
        kind = rng.integers(0, 3)
        if kind == 0:    # tiny to normal
            src = tuple(int(v) for v in rng.integers(1, 40, 2))
        elif kind == 1:  # around the target
            src = tuple(int(v) for v in rng.integers(100, 400, 2))
        else:            # large
            src = tuple(int(v) for v in rng.integers(400, 1500, 2))
        dst = (224, 224) if rng.random() < 0.5 else tuple(int(v) for v in rng.integers(1, 300, 2))
        cases.append((src, dst))
    return cases


def test_resize_bilinear_pil_is_exact():
    rng = np.random.default_rng(1)
    for (w, h), (dw, dh) in resize_cases(rng, 250):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        ref = np.asarray(Image.fromarray(img).resize((dw, dh), Image.BILINEAR))
        out = P.resize_bilinear_pil(img, (dw, dh))
        assert out.shape == ref.shape
        assert np.array_equal(out, ref), ((w, h), (dw, dh), int(np.abs(out.astype(int) - ref).max()))
    img = rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)
    assert np.array_equal(P.resize_bilinear_pil(img, 224),
                          np.asarray(Image.fromarray(img).resize((224, 224), Image.BILINEAR)))


def test_resize_bilinear_pil_on_a_crop_view():
    # The face path resizes a crop in place (a strided view); Pillow crops first.
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    box = [37.9, 45.2, 180.7, 201.1]
    ref = np.asarray(ref_face(Image.fromarray(img), box))
    assert np.array_equal(P.face_image(img, box, S), ref)


# --- OpenCV linear resize and letterbox ------------------------------------------------

def test_resize_linear_cv2_is_exact():
    rng = np.random.default_rng(3)
    cases = resize_cases(rng, 250)
    cases += [((2 * w, 2 * h), (w, h)) for w, h in [(1, 1), (3, 5), (112, 63), (224, 126), (17, 224)]]  # INTER_AREA switch
    cases += [((2 * 100 + 1, 200), (100, 100)), ((5, 5), (5, 7)), ((1, 9), (224, 3))]
    for (w, h), (dw, dh) in cases:
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        ref = cv2.resize(img, (dw, dh), interpolation=cv2.INTER_LINEAR)
        out = P.resize_linear_cv2(img, (dw, dh))
        assert np.array_equal(out, ref), ((w, h), (dw, dh), int(np.abs(out.astype(int) - ref).max()))


def test_letterbox_is_exact_including_one_short_sizes():
    rng = np.random.default_rng(4)
    one_short = [w for w in range(1, 2000) if int(w * (S / w)) < S]
    assert one_short[:3] == [55, 71, 83]  # int(w * r) = 223: parity needs the same pixel lost
    sizes = [(w, 40) for w in one_short[:6]] + [(40, h) for h in one_short[6:12]]
    sizes += [(1280, 720), (720, 1280), (224, 224), (448, 300), (300, 448), (1, 1), (1, 224), (224, 1), (5, 3), (999, 998)]
    sizes += [tuple(int(v) for v in rng.integers(1, 1300, 2)) for _ in range(150)]
    for w, h in sizes:
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        ref = ref_letterbox(img, S)
        r = min(S / w, S / h)
        if int(w * r) == 0 or int(h * r) == 0:
            with pytest.raises(ValueError, match="too elongated"):
                P.letterbox_cv2(img, S)
            continue
        out = P.letterbox_cv2(img, S)
        assert np.array_equal(out, ref), (w, h)
        nw, nh, left, top = P.letterbox_geometry(w, h, S)
        assert (nw, nh) == (int(w * r), int(h * r))
        assert (left, top) == ((S - nw) // 2, (S - nh) // 2)


def test_letterbox_other_sizes():
    rng = np.random.default_rng(5)
    for size in (1, 7, 32, 225, 336):
        for w, h in [(1280, 720), (31, 77), (size, size)]:
            img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            r = min(size / w, size / h)
            if int(w * r) == 0 or int(h * r) == 0:
                continue
            assert np.array_equal(P.letterbox_cv2(img, size), ref_letterbox(img, size)), (size, w, h)


# --- crops -------------------------------------------------------------------------------

def test_face_crop_matches_official():
    rng = np.random.default_rng(6)
    checked = errors = 0
    for _ in range(400):
        w, h = (int(v) for v in rng.integers(1, 400, 2))
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        box = rand_face_box(rng, w, h)
        if box is None:
            continue
        if official_face_crop_is_empty(box, w, h):
            with pytest.raises(ValueError, match="lies outside"):
                P.face_crop(img, box)
            errors += 1
            continue
        ref = np.asarray(ref_face_crop(Image.fromarray(img), box))
        assert np.array_equal(P.face_crop(img, box), ref), (w, h, box)
        checked += 1
    assert checked > 300
    # Negative values truncate toward zero like Python's int(): int(-0.7) == 0.
    img = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    for box in ([-0.7, -25.9, 10.2, 10.9], [-30.5, 5, -0.5, 50], [90.5, 90.5, 130.1, 99.9]):
        if official_face_crop_is_empty(box, 100, 100):
            continue
        assert np.array_equal(P.face_crop(img, box), np.asarray(ref_face_crop(Image.fromarray(img), box)))


def test_face_box_outside_frame_is_an_error():
    img = np.zeros((100, 120, 3), np.uint8)
    for box in ([140.0, 10, 150, 20], [10, -60, 20, -21], [10, 121, 20, 130]):
        with pytest.raises(ValueError, match=r"face box .* lies outside the 120x100 frame"):
            P.face_crop(img, box)
    with pytest.raises(ValueError, match="inverted"):
        P.face_crop(img, [10, 10, 5, 20])
    with pytest.raises(ValueError, match="4 numbers"):
        P.face_crop(img, [1, 2, 3])
    with pytest.raises(ValueError, match="not finite"):
        P.face_crop(img, [0, 0, float("nan"), 5])
    with pytest.raises(ValueError, match="4 numbers"):
        P.face_crop(img, "0 0 5 5")


def test_body_crop_matches_pillow():
    rng = np.random.default_rng(7)
    for _ in range(300):
        w, h = (int(v) for v in rng.integers(1, 300, 2))
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        box = rand_body_box(rng, w, h)
        rounded = [round(v) for v in box]
        if rounded[2] <= rounded[0] or rounded[3] <= rounded[1]:
            with pytest.raises(ValueError, match="rounds to an empty crop"):
                P.body_crop(img, box)
            continue
        ref = np.asarray(Image.fromarray(img).crop(tuple(box)))
        assert np.array_equal(P.body_crop(img, box), ref), (w, h, box)
    # ties: 2.5 -> 2, 3.5 -> 4 (Python round)
    img = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    assert P.body_crop(img, [2.5, 3.5, 6.5, 7.5]).shape == np.asarray(Image.fromarray(img).crop((2.5, 3.5, 6.5, 7.5))).shape


# --- whole streams per frame ------------------------------------------------------------

def test_streams_per_frame_are_exact():
    rng = np.random.default_rng(8)
    n = 0
    for _ in range(120):
        w, h = (int(v) for v in rng.integers(8, 900, 2))
        img = rand_image(rng, h, w)
        pil = Image.fromarray(img)
        face = rand_face_box(rng, w, h) if rng.random() < 0.8 else None
        if face is not None and official_face_crop_is_empty(face, w, h):
            face = None
        body = rand_body_box(rng, w, h) if rng.random() < 0.7 else None
        assert np.array_equal(P.face_image(img, face, S), np.asarray(ref_face(pil, face))), (w, h, face)
        rb = None if body is None else [round(v) for v in body]
        if rb is not None and (rb[0] >= w or rb[2] <= 0 or rb[1] >= h or rb[3] <= 0):
            with pytest.raises(ValueError, match="wholly outside"):
                P.context_image(img, body, S)
            continue
        ref = np.asarray(ref_context(pil, body))
        assert np.array_equal(P.context_image(img, body, S), ref), (w, h, body)
        n += 1
    assert n > 80


def test_to_chw_matches_torch_division():
    torch = pytest.importorskip("torch")
    img = np.arange(256 * 3, dtype=np.uint8).reshape(16, 16, 3)
    ref = torch.from_numpy(img).permute(2, 0, 1).contiguous().to(torch.float32).div(255).numpy()
    out = P.to_chw(img)
    assert out.dtype == np.float32 and out.shape == (3, 16, 16)
    assert np.array_equal(out, ref)


# --- whole clips ---------------------------------------------------------------------------

def make_clip(rng, folder, n, w, h, ext="png", **save_kw):
    images = [rand_image(rng, h, w) for _ in range(n)]
    names = write_frames(folder, images, ext=ext, **save_kw)
    return images, names


@pytest.mark.parametrize("n", [1, 5, 16, 17, 40, 101])
def test_load_clip_png_is_exact(tmp_path, n):
    rng = np.random.default_rng(100 + n)
    w, h = (int(v) for v in rng.integers(40, 500, 2))
    folder = str(tmp_path / "clip")
    _, names = make_clip(rng, folder, n, w, h)
    faces = {}
    for name in names:
        box = rand_face_box(rng, w, h)
        if box is not None and not official_face_crop_is_empty(box, w, h) and rng.random() < 0.8:
            faces[name] = box
    body = [0.2 * w + 0.5, 0.1 * h, 0.9 * w + 3.5, 1.1 * h]  # crosses the bottom border
    for fb, bb in [(faces, body), (None, None), (faces, None), (None, body)]:
        rf, rc = ref_clip(folder, fb, bb)
        of, oc = clipcaer.load_clip(folder, fb, bb)
        assert of.dtype == np.float32 and of.shape == (16, 3, S, S) and oc.shape == (16, 3, S, S)
        assert np.array_equal(of, rf)
        assert np.array_equal(oc, rc)


def test_load_clip_other_sizes_and_threads(tmp_path):
    rng = np.random.default_rng(11)
    folder = str(tmp_path / "clip")
    make_clip(rng, folder, 9, 150, 97)
    for t, size in [(1, 224), (8, 32), (20, 336)]:
        rf, rc = ref_clip(folder, None, [10, 5, 120, 90], num_segments=t, size=size)
        for threads in (1, 2, 0):
            of, oc = clipcaer.load_clip(folder, None, [10, 5, 120, 90], t, size, threads=threads)
            assert np.array_equal(of, rf) and np.array_equal(oc, rc), (t, size, threads)


def test_load_clip_jpeg_as_pillow(tmp_path):
    rng = np.random.default_rng(12)
    worst_mean, worst_max = 0.0, 0.0
    for k, (w, h, q) in enumerate([(1280, 720, 90), (320, 240, 75), (640, 480, 95), (333, 517, 85)]):
        folder = str(tmp_path / ("clip%d" % k))
        _, names = make_clip(rng, folder, 20, w, h, ext="jpg", quality=q)
        faces = {name: [0.3 * w, 0.2 * h, 0.55 * w, 0.6 * h] for name in names[::2]}
        body = [0.1 * w, 0.05 * h, 0.8 * w, 0.95 * h]
        rf, rc = ref_clip(folder, faces, body)
        of, oc = clipcaer.load_clip(folder, faces, body)
        for out, ref in ((of, rf), (oc, rc)):
            d = np.abs(out.astype(np.float64) - ref)
            worst_mean = max(worst_mean, d.mean())
            worst_max = max(worst_max, d.max())
    print("JPEG (%s) vs Pillow: worst mean abs diff %.3f/255, worst max %.0f/255"
          % (clipcaer.jpeg_decoder(), worst_mean * 255, worst_max * 255))
    if JPEG_EXACT:
        assert worst_max == 0
    assert worst_mean <= 1.5 / 255


def test_load_clip_bmp_and_gray_and_alpha_frames(tmp_path):
    rng = np.random.default_rng(13)
    folder = tmp_path / "mixed"
    folder.mkdir()
    rgb = rand_image(rng, 60, 80)
    Image.fromarray(rgb).save(folder / "0.bmp")
    Image.fromarray(rgb[..., 0]).save(folder / "1.png")                           # L
    Image.fromarray(np.dstack([rgb, rgb[..., :1]])).save(folder / "2.png")        # RGBA
    Image.fromarray(np.dstack([rgb[..., 1], rgb[..., 2]]), "LA").save(folder / "3.png")
    Image.fromarray(rgb).convert("P").save(folder / "4.png")                      # palette
    for name in ["0.bmp", "1.png", "2.png", "3.png", "4.png"]:
        ours = P.read_image(str(folder / name))
        ref = np.asarray(Image.open(folder / name).convert("RGB"))
        assert np.array_equal(ours, ref), name
    faces, frames = clipcaer.load_clip(str(folder), num_segments=5, size=64)
    assert faces.shape == (5, 3, 64, 64)


def test_load_clip_from_arrays_matches_folder(tmp_path):
    rng = np.random.default_rng(14)
    folder = str(tmp_path / "clip")
    images, names = make_clip(rng, folder, 23, 200, 150)
    faces = {names[3]: [50, 40, 120, 110], names[10]: [0, 0, 30, 30]}
    a = clipcaer.load_clip(folder, faces, [5, 5, 190, 140])
    b = P.load_clip_arrays(images, names, faces, [5, 5, 190, 140])
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="frame names"):
        P.load_clip_arrays(images, [], faces)
    with pytest.raises(ValueError, match="23 frames but 2 frame names"):
        P.load_clip_arrays(images, names[:2])
    with pytest.raises(ValueError, match="no frames"):
        P.load_clip_arrays([], [])


# --- official box files -------------------------------------------------------------------

def test_official_box_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(15)
    clip = tmp_path / "data" / "clip_a"
    _, names = make_clip(rng, str(clip), 18, 160, 120)
    faces = {names[0]: [20, 10, 80, 70], names[5]: [30.7, 20.2, 90.9, 100.1], names[7]: None}
    body = [10.5, 2.5, 150.5, 118]
    monkeypatch.chdir(tmp_path)
    rel = os.path.join("data", "clip_a")
    # keyed by the folder as written in the list file (relative) ...
    (tmp_path / "faces.json").write_text(json.dumps({rel: faces, "other": {"x.png": [1, 2, 3]}}))
    (tmp_path / "bodies.json").write_text(json.dumps({rel: body, "other": "junk"}))
    ref = ref_clip(rel, {k: v for k, v in faces.items() if v}, body)
    for d in (rel, rel + "/"):
        out = clipcaer.load_clip(d, str(tmp_path / "faces.json"), str(tmp_path / "bodies.json"))
        assert np.array_equal(out[0], ref[0]) and np.array_equal(out[1], ref[1])
    # ... or by its absolute path
    (tmp_path / "faces_abs.json").write_text(json.dumps({str(clip): faces}))
    (tmp_path / "bodies_abs.json").write_text(json.dumps({str(clip): body}))
    out = clipcaer.load_clip(rel, tmp_path / "faces_abs.json", tmp_path / "bodies_abs.json")
    assert np.array_equal(out[0], ref[0]) and np.array_equal(out[1], ref[1])
    assert P.read_body_box(str(tmp_path / "bodies_abs.json"), rel) == tuple(body)
    assert P.read_face_boxes(str(tmp_path / "faces.json"), rel)[names[5]] == tuple(faces[names[5]])
    # a clip missing from the files: whole frames, as the official loader does
    assert P.read_body_box(str(tmp_path / "bodies.json"), "nope") is None
    assert P.read_face_boxes(str(tmp_path / "faces.json"), "nope") == {}


def test_box_file_errors(tmp_path):
    clip = str(tmp_path / "c")
    make_clip(np.random.default_rng(16), clip, 3, 40, 30)
    f = tmp_path / "boxes.json"
    with pytest.raises(FileNotFoundError, match="missing.json"):
        clipcaer.load_clip(clip, str(tmp_path / "missing.json"))
    bad = [
        ("{not json", "not valid JSON"),
        (json.dumps([1, 2]), "must hold a JSON object"),
        (json.dumps({clip: [1, 2, 3, 4]}), "must be an object"),
        (json.dumps({clip: {"00000.png": [1, 2, 3]}}), r"frame '00000.png'.*4 numbers"),
        (json.dumps({clip: {"00000.png": [1, "2", 3, 4]}}), "4 numbers"),
        (json.dumps({clip: {"00000.png": [5, 2, 3, 4]}}), "inverted"),
        (json.dumps({clip: {"00000.png": [1, 2, 3, 2]}}), "inverted"),
        (json.dumps({clip: {"00000.png": [1, 2, 3, 1e300]}}), "not finite or beyond"),
    ]
    for text, msg in bad:
        f.write_text(text)
        with pytest.raises(RuntimeError, match=msg):
            clipcaer.load_clip(clip, str(f))
    for text, msg in [(json.dumps({clip: [1, 2, 3]}), "4 numbers"), (json.dumps({clip: [3, 2, 1, 4]}), "inverted"),
                      (json.dumps({clip: {"a": 1}}), "4 numbers")]:
        f.write_text(text)
        with pytest.raises(RuntimeError, match=msg):
            clipcaer.load_clip(clip, None, str(f))
    with pytest.raises(ValueError, match="face_boxes must be"):
        clipcaer.load_clip(clip, [1, 2, 3, 4])
    with pytest.raises(ValueError, match="face box of frame 'x.png'"):
        clipcaer.load_clip(clip, {"x.png": [1, 2]})
    with pytest.raises(ValueError, match="body box"):
        clipcaer.load_clip(clip, None, [1, 2, 0, 4])


# --- decoding and folder errors -----------------------------------------------------------------

def test_decode_matches_pillow_on_png_and_bmp():
    rng = np.random.default_rng(17)
    for fmt in ("PNG", "BMP"):
        for h, w in [(1, 1), (7, 13), (120, 97)]:
            img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, fmt)
            assert np.array_equal(P.decode_image(buf.getvalue()), img)


def jpeg_variants(rng):
    """(name, bytes) of JPEGs Pillow writes: sizes down to 1 x 1 and past a
    multiple of the MCU, every chroma subsampling, progressive, optimised
    Huffman tables, grey and CMYK."""
    for h, w in [(1, 1), (5, 7), (17, 33), (240, 320), (203, 101)]:
        img = rand_image(rng, h, w)
        for kw in [dict(quality=90), dict(quality=50, subsampling=0), dict(quality=75, subsampling=1),
                   dict(quality=95, subsampling=2, progressive=True), dict(quality=80, optimize=True)]:
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, "JPEG", **kw)
            yield "%dx%d %s" % (w, h, kw), buf.getvalue()
        for mode in ("L", "CMYK"):
            buf = io.BytesIO()
            Image.fromarray(img).convert(mode).save(buf, "JPEG", quality=85)
            yield "%dx%d %s" % (w, h, mode), buf.getvalue()


def test_decode_jpeg_as_pillow():
    rng = np.random.default_rng(18)
    worst = 0.0
    for name, data in jpeg_variants(rng):
        ours = P.decode_image(data)
        ref = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        assert ours.shape == ref.shape, name
        if name.endswith(" L"):  # grey: the one channel replicated
            assert np.array_equal(ours[..., 0], ours[..., 1]) and np.array_equal(ours[..., 0], ours[..., 2]), name
        if JPEG_EXACT:
            assert np.array_equal(ours, ref), name
        worst = max(worst, np.abs(ours.astype(float) - ref).mean())
    print("JPEG (%s) vs Pillow: worst mean abs diff %.3f" % (clipcaer.jpeg_decoder(), worst))
    assert worst <= (0 if JPEG_EXACT else 3.0)  # stb_image: ~1.5 levels on a 5 x 7 picture, ~0.1 on large ones


def test_decode_errors(tmp_path):
    rng = np.random.default_rng(19)
    img = rand_image(rng, 64, 80)
    encoded = {}
    for fmt in ("JPEG", "PNG", "BMP"):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, fmt)
        encoded[fmt] = buf.getvalue()
    for fmt, data in encoded.items():
        for cut in (len(data) // 3, len(data) - 5):
            with pytest.raises(RuntimeError, match="corrupt|truncated"):
                P.decode_image(data[:cut])
    png = bytearray(encoded["PNG"])
    png[len(png) // 2] ^= 0x10
    with pytest.raises(RuntimeError, match="checksum mismatch in PNG chunk 'IDAT'"):
        P.decode_image(bytes(png))
    with pytest.raises(RuntimeError, match="not a readable JPEG, PNG or BMP"):
        P.decode_image(b"GIF89a" + b"\0" * 100)
    with pytest.raises(RuntimeError, match="empty"):
        P.decode_image(b"")
    with pytest.raises(FileNotFoundError, match="nope.jpg"):
        P.read_image(str(tmp_path / "nope.jpg"))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(RuntimeError, match="bad.png"):
        P.read_image(str(bad))


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        clipcaer.load_clip(str(tmp_path / "nope"))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("hello")
    with pytest.raises(ValueError, match="has no JPEG, PNG or BMP files"):
        clipcaer.load_clip(str(empty))
    with pytest.raises(RuntimeError, match="readme.txt"):  # a file is read as a video (test_video.py)
        clipcaer.load_clip(str(empty / "readme.txt"))
    clip = tmp_path / "clip"
    make_clip(np.random.default_rng(20), str(clip), 4, 30, 20)
    (clip / "00002.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with pytest.raises(RuntimeError, match="00002.png"):
        clipcaer.load_clip(str(clip))
    with pytest.raises(ValueError, match="num_segments 0"):
        clipcaer.load_clip(str(clip), num_segments=0)
    with pytest.raises(ValueError, match="image size 0"):
        clipcaer.load_clip(str(clip), size=0)


def test_box_errors_name_the_frame(tmp_path):
    clip = tmp_path / "clip"
    make_clip(np.random.default_rng(21), str(clip), 3, 30, 20)
    with pytest.raises(ValueError, match=r"frame '00001.png'.*face box .* lies outside"):
        clipcaer.load_clip(str(clip), {"00001.png": [100, 100, 120, 130]}, num_segments=3)
    with pytest.raises(ValueError, match=r"body box .* lies wholly outside the 30x20 frame"):
        clipcaer.load_clip(str(clip), None, [40, 0, 60, 10], num_segments=3)
    with pytest.raises(ValueError, match="rounds to an empty crop"):
        clipcaer.load_clip(str(clip), None, [10.6, 0, 10.9, 10], num_segments=3)
    with pytest.raises(ValueError, match="too elongated"):
        clipcaer.load_clip(str(clip), None, [0, 0, 30, 0.6], num_segments=3, size=16)


def test_step_errors():
    img = np.zeros((10, 12, 3), np.uint8)
    with pytest.raises(ValueError, match=r"shape \(H, W, 3\)"):
        P.resize_bilinear_pil(np.zeros((10, 12), np.uint8), 4)
    with pytest.raises(ValueError, match="is empty"):
        P.resize_bilinear_pil(np.zeros((0, 12, 3), np.uint8), 4)
    with pytest.raises(ValueError, match="target size 0x4 is empty"):
        P.resize_bilinear_pil(img, (0, 4))
    with pytest.raises(ValueError, match="target size 4x0 is empty"):
        P.resize_linear_cv2(img, (4, 0))
    with pytest.raises(ValueError, match="target size 0"):
        P.letterbox_cv2(img, 0)
    with pytest.raises(ValueError, match="shape"):
        P.to_chw(np.zeros((3, 3, 4), np.uint8))
    with pytest.raises(ValueError, match="size 0"):
        P.face_image(img, None, 0)
    with pytest.raises(ValueError, match="size 0"):
        P.context_image(img, None, 0)
    with pytest.raises(ValueError, match="empty"):
        P.body_crop(img, [1.2, 1, 1.4, 5])
    with pytest.raises(ValueError, match="is empty"):
        P.letterbox_geometry(0, 5, 224)


# --- the bundled sample clip -----------------------------------------------------------------------

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_sample_clip_with_its_box_files(monkeypatch):
    monkeypatch.chdir(REPO)  # the box files are keyed by the clip folder as seen from the repository root
    clip = "examples/data/sample_clip"
    faces_json, bodies_json = clip + "/face_boxes.json", clip + "/body_boxes.json"
    assert len(P.list_frames(clip)) == 24  # the .json files beside the frames are not frames
    face_boxes = P.read_face_boxes(faces_json, clip)
    body_box = P.read_body_box(bodies_json, clip)
    assert len(face_boxes) == 22 and body_box is not None
    ours = clipcaer.load_clip(clip, faces_json, bodies_json)
    ref = ref_clip(clip, {k: list(v) for k, v in face_boxes.items()}, list(body_box), pattern="*.jpg")
    for out, want in zip(ours, ref):
        assert out.shape == (16, 3, S, S)
        assert np.array_equal(out, want) if JPEG_EXACT else np.abs(out - want).mean() <= 1.5 / 255
    # Without boxes the streams change: the boxes were found and used.
    plain = clipcaer.load_clip(clip)
    assert not np.array_equal(plain[0], ours[0]) and not np.array_equal(plain[1], ours[1])


def _load_in_child(folder, queue):
    faces, _ = clipcaer.load_clip(folder, num_segments=4, size=32)
    queue.put(faces.shape)


def test_load_clip_works_after_fork(tmp_path):
    # A DataLoader worker forked after the parent used the shared thread pool must not hang.
    import multiprocessing
    folder = str(tmp_path / "clip")
    make_clip(np.random.default_rng(22), folder, 6, 40, 30)
    clipcaer.load_clip(folder, num_segments=4, size=32)  # starts the pool in the parent
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_load_in_child, args=(folder, queue))
    child.start()
    child.join(20)
    if child.is_alive():
        child.kill()
        pytest.fail("load_clip hung in a forked child")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == (4, 3, 32, 32)
