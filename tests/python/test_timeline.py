"""Timelines of long videos (Model.timeline, `clipcaer timeline`): each window
must get exactly what the official loader and the model give on that window's
frames, extracted with the ffmpeg command into a folder of their own."""
import json
from xml.etree import ElementTree
import shutil

import numpy as np
import pytest

from helpers import CLIPCAER_CLI as CLI
from helpers import FIXTURES, ffmpeg, make_video, video_test_marks
from helpers import run_clipcaer as run
from official_pipeline import ref_clip

clipcaer = pytest.importorskip("clipcaer")

pytestmark = video_test_marks(clipcaer)
MODEL = FIXTURES / "caer_b.safetensors"


@pytest.fixture(scope="module")
def lesson(tmp_path_factory):
    """A 4.2 s H.264 video at 10 fps (42 frames) and its frames as PNG files."""
    d = tmp_path_factory.mktemp("lesson")
    video = make_video(d / "lesson.mp4", 4.2, "160x120", ["-c:v", "libx264", "-pix_fmt", "yuv420p"], rate=10)
    (d / "frames").mkdir()
    ffmpeg("-i", video, "-pix_fmt", "rgb24", d / "frames" / "%05d.png")
    pngs = sorted(p.name for p in (d / "frames").iterdir())
    assert len(pngs) == 42
    return video, d / "frames", pngs


def test_each_window_is_the_official_pipeline_on_its_frames(lesson, tmp_path):
    video, frames, pngs = lesson
    m = clipcaer.Model(str(MODEL))
    faces_by_index = {str(i): [30 + i % 5, 10, 120, 100 - i % 3] for i in range(0, 42, 3)}
    body = [5, 4, 150, 118]
    seen = []
    t = m.timeline(video, window=2, stride=1, face_boxes=faces_by_index, body_box=body,
                   progress=lambda done, total: seen.append((done, total)))
    assert (t.num_frames, t.window_frames, t.stride_frames, len(t)) == (42, 20, 10, 4)
    assert t.frame_rate == pytest.approx(10)
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert t.first_frames.tolist() == [0, 10, 20, 22]  # the last window ends at the last frame
    assert t.end_frames.tolist() == [20, 30, 40, 42]
    np.testing.assert_allclose(t.starts, [0, 1, 2, 2.2])
    np.testing.assert_allclose(t.ends, [2, 3, 4, 4.2])
    assert t.frames.shape == (4, m.num_frames) and t.logits.shape == (4, m.num_classes)
    for k in range(len(t)):
        first, end = int(t.first_frames[k]), int(t.end_frames[k])
        window_dir = tmp_path / f"w{k}"
        window_dir.mkdir()
        for name in pngs[first:end]:
            shutil.copy(frames / name, window_dir / name)
        faces_by_name = {pngs[int(i)]: b for i, b in faces_by_index.items() if first <= int(i) < end}
        rf, rc = ref_clip(str(window_dir), faces_by_name, body, num_segments=m.num_frames, size=m.image_size)
        p = m.classify_clip(rf, rc)
        assert np.array_equal(t.logits[k], p.logits), k
        assert np.array_equal(t.probs[k], p.probs) and t.labels[k] == p.label and t.indices[k] == p.index
        assert t.face_boxes_used[k] == sum(str(f) in faces_by_index for f in t.frames[k])
        assert all(first <= f < end for f in t.frames[k])
    # Frames shared by overlapping windows went through the image tower once.
    assert t.images_encoded == 2 * len(set(t.frames.ravel().tolist())) < 2 * t.frames.size
    # The picture: one line per class through the windows, one band cell per window.
    svg = ElementTree.fromstring(t.svg(title="lesson <1>"))
    ns = "{http://www.w3.org/2000/svg}"
    lines = svg.findall(f"{ns}polyline")
    assert [ln.find(f"{ns}title").text for ln in lines] == m.class_names
    assert all(len(ln.get("points").split()) == len(t) for ln in lines)
    band = [r for r in svg.findall(f"{ns}rect") if r.find(f"{ns}title") is not None]
    assert [r.find(f"{ns}title").text.rsplit(" ", 2)[0] for r in band] == t.labels
    assert any(e.text == "lesson <1>" for e in svg.iter(f"{ns}text"))


def test_classify_encoded_is_classify_clip_after_the_tower(lesson):
    video, _, _ = lesson
    m = clipcaer.Model(str(MODEL))
    faces, frames = clipcaer.load_clip(video, num_segments=m.num_frames, size=m.image_size)
    enc = m.encode_images(np.concatenate([faces, frames]))
    T = m.num_frames
    p = m.classify_encoded(enc[:T], enc[T:])
    assert np.array_equal(p.logits, m.classify_clip(faces, frames).logits)
    with pytest.raises(ValueError, match="differ in shape"):
        m.classify_encoded(enc[:T], enc[:T - 1])
    with pytest.raises(ValueError, match=r"face features must have shape \(T, "):
        m.classify_encoded(faces, frames)


def test_window_in_frames_and_the_command_line(lesson, tmp_path):
    video, _, _ = lesson
    m = clipcaer.Model(str(MODEL))
    t = m.timeline(str(video), window_frames=16, stride_frames=16)
    assert t.first_frames.tolist() == [0, 16, 26]
    if not CLI.exists():
        return
    r = run("timeline", "--model", MODEL, "--window-frames", 16, "--stride-frames", 16, "--format", "json", video)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)[0]
    assert out["video"] == str(video) and out["num_frames"] == 42 and len(out["windows"]) == 3
    for k, w in enumerate(out["windows"]):
        assert (w["first_frame"], w["end_frame"], w["label"]) == (t.first_frames[k], t.end_frames[k], t.labels[k])
        np.testing.assert_allclose(w["logits"], t.logits[k], rtol=0, atol=1e-6)
        assert w["frames"] == t.frames[k].tolist()
    assert sum(out["class_shares"].values()) == pytest.approx(1)
    r = run("timeline", "--model", MODEL, "--format", "csv", "--window", 2, "--stride", 1, video)
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()
    assert rows[0].startswith("video,first_frame,end_frame,start,end,label,index,p_") and len(rows) == 5
    assert rows[4].startswith(f'"{video}",22,42,2.200,4.200,')
    r = run("timeline", "--model", MODEL, "--svg", tmp_path / "t.svg", video)
    assert r.returncode == 0, r.stderr
    assert ElementTree.parse(tmp_path / "t.svg").getroot().tag.endswith("svg")
    r = run("timeline", "--model", MODEL, "--window", 2.5, "--stride", 2.5, video)
    assert r.returncode == 0, r.stderr
    assert "42 frames at 10 fps, 2 windows of 25 frames every 25" in r.stdout
    assert "00:00.00-00:02.50" in r.stdout and "00:01.70-00:04.20" in r.stdout
    assert "windows per class:" in r.stdout


def test_a_folder_of_frames_is_a_video_too(lesson):
    video, frames, pngs = lesson
    m = clipcaer.Model(str(MODEL))
    faces_by_index = {"7": [30, 10, 120, 100], "31": [20, 12, 110, 90]}
    faces_by_name = {pngs[int(i)]: b for i, b in faces_by_index.items()}
    a = m.timeline(video, 2, 1, face_boxes=faces_by_index)
    b = m.timeline(frames, 2, 1, face_boxes=faces_by_name, frame_rate=10)
    assert np.array_equal(a.logits, b.logits)  # the PNGs are the video's frames, exactly
    assert np.array_equal(a.face_boxes_used, b.face_boxes_used) and a.face_boxes_used.sum() > 0
    np.testing.assert_allclose(a.ends, b.ends)
    if CLI.exists():
        r = run("timeline", "--model", MODEL, "--fps", 10, "--window", 2, "--stride", 1, "--format", "json", frames)
        assert r.returncode == 0, r.stderr
        plain = m.timeline(frames, 2, 1, frame_rate=10)
        np.testing.assert_allclose([w["logits"] for w in json.loads(r.stdout)[0]["windows"]], plain.logits, atol=1e-6)


def test_timeline_errors(lesson, tmp_path):
    video, frames, _ = lesson
    m = clipcaer.Model(str(MODEL))
    with pytest.raises(ValueError, match="window must be a positive number of seconds"):
        m.timeline(video, window=0)
    with pytest.raises(ValueError, match="stride must be a positive number of seconds"):
        m.timeline(video, stride=float("nan"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        m.timeline(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="the frame rate is unknown"):  # a folder states none
        m.timeline(frames)
    with pytest.raises(ValueError, match="frame_rate must be a positive"):
        m.timeline(video, frame_rate=-2)
    with pytest.raises(ValueError, match="lies wholly outside"):
        m.timeline(video, body_box=[500, 500, 600, 600])

    def stop(done, total):
        raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):  # a progress callback can stop a long run
        m.timeline(video, progress=stop)
    if not CLI.exists():
        return
    for args in (["--window", "0"], ["--stride", "abc"], ["--window", "2", "--window-frames", "20"],
                 ["--stride-frames", "0"], ["--format", "xml"], ["--svg", tmp_path / "x.svg", video]):
        r = run("timeline", "--model", MODEL, *args, video)
        assert r.returncode == 2, (args, r.stderr)
    r = run("timeline", "--model", MODEL, frames)
    assert r.returncode == 1 and "the frame rate is unknown" in r.stderr
    r = run("timeline", "--model", MODEL, "--svg", tmp_path / "no" / "such" / "dir.svg", video)
    assert r.returncode == 1 and "cannot write" in r.stderr
    r = run("timeline", "--model", MODEL, "--fps", "-3", video)
    assert r.returncode == 2 and "--fps needs a positive number of frames per second" in r.stderr
