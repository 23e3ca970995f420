"""Face detection against OpenCV 4.6 (Debian's python3-opencv): the grey
conversion, the bit-exact pyramid resize, cascade detection with OpenCV's own
trained cascades on real photographs (every candidate window, and the grouped
results), FaceDetector, and load_clip / Model.timeline with a detector."""

import numpy as np
import pytest

import clipcaer
from helpers import FIXTURES, OPENCV_CASCADES, face_picture, fixture

cv2 = pytest.importorskip("cv2")

SQUARE_CASCADE = FIXTURES / "square_cascade.xml"
FACE_CASCADES = ["haarcascades/haarcascade_frontalface_default.xml", "haarcascades/haarcascade_frontalface_alt2.xml",
                 "haarcascades/haarcascade_profileface.xml", "lbpcascades/lbpcascade_frontalface_improved.xml",
                 "lbpcascades/lbpcascade_frontalface.xml"]
PICTURES = ["astronaut.png", "camera.png", "coffee.png", "chelsea.png"]


def opencv_cascade(name):
    path = OPENCV_CASCADES / name
    if not path.is_file():
        pytest.skip(f"{path} is missing: apt-get install opencv-data")
    return path


def rgb_picture(name):
    return np.ascontiguousarray(cv2.imread(str(face_picture(name)))[..., ::-1])


def rects(a):
    return sorted(map(tuple, np.asarray(a, dtype=np.int64).reshape(-1, 4).tolist()))


def squares(h, w, boxes, seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 40, (h, w, 3)).astype(np.uint8)
    for x, y, s in boxes:
        img[y:y + s, x:x + s] = 230
    return img


def test_grey_and_pyramid_resize_match_opencv():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (37, 53, 3)).astype(np.uint8)
    np.testing.assert_array_equal(clipcaer.preprocess.to_gray(img), cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
    for _ in range(200):
        h, w = rng.integers(1, 50, 2)
        H, W = (int(v) for v in rng.integers(1, 80, 2))
        g = rng.integers(0, 256, (h, w)).astype(np.uint8)
        np.testing.assert_array_equal(clipcaer.preprocess.resize_gray_linear_exact(g, W, H),
                                      cv2.resize(g, (W, H), interpolation=cv2.INTER_LINEAR_EXACT))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        clipcaer.preprocess.resize_gray_linear_exact(img, 5, 5)


@pytest.mark.parametrize("params", [dict(), dict(minNeighbors=0), dict(scaleFactor=1.2, minNeighbors=1, minSize=(30, 30)),
                                    dict(scaleFactor=1.05, minNeighbors=5, maxSize=(100, 100))])
def test_square_cascade_matches_opencv(params):
    img = squares(240, 320, [(100, 80, 60), (250, 30, 20), (20, 150, 35)], 1)
    ours = clipcaer.Cascade(SQUARE_CASCADE)
    assert ours.window_size == (24, 24) and ours.num_stages == 2
    got = ours.detect(img, scale_factor=params.get("scaleFactor", 1.1), min_neighbors=params.get("minNeighbors", 3),
                      min_size=params.get("minSize", (0, 0)), max_size=params.get("maxSize", (0, 0)))
    assert got.dtype == np.int32
    want = cv2.CascadeClassifier(str(SQUARE_CASCADE)).detectMultiScale(np.ascontiguousarray(img[..., ::-1]), **params)
    assert rects(got) == rects(want)
    assert len(got) > 0


@pytest.mark.parametrize("cascade", FACE_CASCADES)
def test_opencv_face_cascades_match_opencv_on_photographs(cascade):
    path = opencv_cascade(cascade)
    ours, theirs = clipcaer.Cascade(path), cv2.CascadeClassifier(str(path))
    candidates = 0
    for name in PICTURES:
        rgb = rgb_picture(name)
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        for mn in (0, 3):
            got = rects(ours.detect(rgb, min_neighbors=mn))
            want = rects(theirs.detectMultiScale(bgr, minNeighbors=mn))
            assert got == want, (name, mn)
            candidates += len(got) if mn == 0 else 0
        # A grey picture is taken as it is.
        assert rects(ours.detect(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))) == rects(theirs.detectMultiScale(bgr))
    assert candidates > 20  # the comparison covered many accepted windows, not only empty lists


def test_face_detector_finds_the_astronaut_and_no_face_in_coffee():
    opencv_cascade("haarcascades/haarcascade_frontalface_alt2.xml")
    d = clipcaer.FaceDetector()
    assert d.cascades[0].endswith("haarcascade_frontalface_alt2.xml")
    assert d.profile_cascades[0].endswith("haarcascade_profileface.xml")
    astronaut = rgb_picture("astronaut.png")
    l, u, r, b = d.find_face(astronaut)
    # Eileen Collins' face: around (225, 115) in the 512 x 512 picture.
    assert 200 < (l + r) / 2 < 250 and 90 < (u + b) / 2 < 140 and 60 < r - l < 140
    assert d.find_faces(astronaut)[0] == (l, u, r, b)
    # OpenCV's frontal cascade with the detector's settings finds the same face.
    want = cv2.CascadeClassifier(d.cascades[0]).detectMultiScale(astronaut[..., ::-1].copy(), minSize=(42, 42))
    assert [(x, y, x + w, y + h) for x, y, w, h in rects(want)] == [(l, u, r, b)]
    assert d.find_face(rgb_picture("coffee.png")) is None
    # The cameraman looks aside: the profile cascade finds him; without profiles nothing is found.
    camera = rgb_picture("camera.png")
    assert d.find_face(camera) is not None
    assert clipcaer.FaceDetector(profiles=False).find_face(camera) is None
    assert "haarcascade_frontalface_alt2.xml" in repr(d)


def test_face_detector_errors():
    with pytest.raises(FileNotFoundError, match="/no/such.xml"):
        clipcaer.FaceDetector(cascades=["/no/such.xml"])
    with pytest.raises(FileNotFoundError, match="/no/such.xml"):
        clipcaer.Cascade("/no/such.xml")
    with pytest.raises(ValueError, match="scale factor"):
        clipcaer.FaceDetector(cascades=[str(SQUARE_CASCADE)], profiles=False, scale_factor=1.0)
    with pytest.raises(ValueError, match="min_face"):
        clipcaer.FaceDetector(cascades=[str(SQUARE_CASCADE)], profiles=False, min_face=-0.1)
    d = clipcaer.FaceDetector(cascades=[str(SQUARE_CASCADE)], profiles=False, min_face=0)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        d.find_face(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        d.find_face(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="min_neighbors"):
        clipcaer.Cascade(SQUARE_CASCADE).detect(np.zeros((30, 30), np.uint8), min_neighbors=-1)
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 3\)"):
        clipcaer.Cascade(SQUARE_CASCADE).detect(np.zeros((3, 30, 30, 1), np.uint8))
    bad = FIXTURES.parent / "fixtures" / "manifest.json"  # not XML
    with pytest.raises(RuntimeError, match="manifest.json"):
        clipcaer.Cascade(bad)


def test_load_clip_with_a_detector_uses_found_boxes_as_given_ones(tmp_path):
    d = clipcaer.FaceDetector(cascades=[str(SQUARE_CASCADE)], profiles=False, min_face=0)
    frames = [squares(72, 96, [] if i in (1, 4) else [(10 + 6 * i, 15, 26)], i) for i in range(6)]
    names = [f"{i:03d}.png" for i in range(6)]
    for f, n in zip(frames, names):
        cv2.imwrite(str(tmp_path / n), f[..., ::-1])
    found = {n: d.find_face(f) for n, f in zip(names, frames)}
    assert [n for n, b in found.items() if b is None] == ["001.png", "004.png"]
    given = {n: b for n, b in found.items() if b is not None}
    for got, want in zip(clipcaer.load_clip(tmp_path, num_segments=6, size=32, face_detector=d),
                         clipcaer.load_clip(tmp_path, given, num_segments=6, size=32)):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(clipcaer.preprocess.load_clip_arrays(frames, names, num_segments=6, size=32, face_detector=d),
                         clipcaer.preprocess.load_clip_arrays(frames, names, given, num_segments=6, size=32)):
        np.testing.assert_array_equal(got, want)
    # A box from the file wins over the detector's.
    mine = {"000.png": [0, 0, 50, 50]}
    a = clipcaer.load_clip(tmp_path, mine, num_segments=6, size=32, face_detector=d)[0]
    b = clipcaer.load_clip(tmp_path, {**given, **mine}, num_segments=6, size=32)[0]
    np.testing.assert_array_equal(a, b)

    model = clipcaer.Model(fixture("caer_a", "weights"))
    p = model.classify_folder(tmp_path, face_detector=d)
    faces, ctx = clipcaer.load_clip(tmp_path, given, num_segments=model.num_frames, size=model.image_size)
    np.testing.assert_array_equal(p.logits, model.classify_clip(faces, ctx).logits)
    t = model.timeline(tmp_path, window_frames=4, stride_frames=2, face_detector=d)
    assert t.faces_detected.dtype == np.int64 and t.faces_detected.sum() > 0
    assert (t.faces_detected <= t.face_boxes_used).all()
    assert model.timeline(tmp_path, window_frames=4, stride_frames=2).faces_detected.sum() == 0
