"""Video files as clips, against the ffmpeg command: a video given to
load_clip (and to classify_folder, the command line) must give exactly what
its frames give once extracted with `ffmpeg -i video -pix_fmt rgb24 %05d.png`,
and so what the official loader gives on those frames, for common codecs,
pixel formats, colour matrices, ranges and display rotations."""
import json

import numpy as np
import pytest

from helpers import CLIPCAER_CLI as CLI
from helpers import FIXTURES, ffmpeg, make_video, video_test_marks
from helpers import run_clipcaer as run
from official_pipeline import ref_clip, ref_indices

clipcaer = pytest.importorskip("clipcaer")

pytestmark = video_test_marks(clipcaer)
MODEL = FIXTURES / "caer_b.safetensors"


def extract_png(video, folder):
    folder.mkdir()
    ffmpeg("-i", video, "-pix_fmt", "rgb24", folder / "%05d.png")
    return sorted(p.name for p in folder.iterdir())


CASES = {
    # name: (file, seconds, size, ffmpeg encoding arguments)
    "h264_bframes_odd_size": ("a.mp4", 1.64, "322x242", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "3"]),
    "h264_bt709": ("b.mp4", 1, "320x240", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-colorspace", "bt709",
                                           "-color_primaries", "bt709", "-color_trc", "bt709"]),
    "h264_10bit_mkv": ("c.mkv", 1, "160x120", ["-c:v", "libx264", "-pix_fmt", "yuv420p10le"]),
    "mjpeg_full_range_avi": ("d.avi", 1, "200x150", ["-c:v", "mjpeg", "-q:v", "4"]),
    "vp9_webm": ("e.webm", 1, "176x144", ["-c:v", "libvpx-vp9", "-b:v", "300k", "-deadline", "realtime"]),
    "mpeg4_few_frames": ("f.avi", 0.28, "130x98", ["-c:v", "mpeg4", "-q:v", "5"]),
    "hevc_444": ("g.mkv", 1, "96x80", ["-c:v", "libx265", "-pix_fmt", "yuv444p", "-x265-params", "log-level=error"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_video_equals_its_extracted_frames(tmp_path, case):
    name, seconds, size, encode = CASES[case]
    video = make_video(tmp_path / name, seconds, size, encode)
    pngs = extract_png(video, tmp_path / "frames")
    w, h = (int(v) for v in size.split("x"))
    # Face boxes by frame index for the video, by file name for the folder.
    faces_by_index = {str(i): [w * 0.2 + i, h * 0.1, w * 0.7, h * 0.9 - i % 3] for i in range(0, len(pngs), 2)}
    faces_by_name = {pngs[int(k)]: v for k, v in faces_by_index.items()}
    body = [3.5, 2, w - 10, h - 1.5]
    for fv, fn, b in [(None, None, None), (faces_by_index, faces_by_name, body)]:
        vf, vc = clipcaer.load_clip(str(video), fv, b)
        pf, pc = clipcaer.load_clip(str(tmp_path / "frames"), fn, b)
        assert np.array_equal(vf, pf) and np.array_equal(vc, pc)
    rf, rc = ref_clip(str(tmp_path / "frames"), faces_by_name, body)
    assert np.array_equal(vf, rf) and np.array_equal(vc, rc)
    # Other segment counts and sizes, with threads.
    vf, vc = clipcaer.load_clip(video, num_segments=7, size=64, threads=2)
    pf, pc = clipcaer.load_clip(tmp_path / "frames", num_segments=7, size=64, threads=2)
    assert np.array_equal(vf, pf) and np.array_equal(vc, pc)


def test_display_rotation_as_the_ffmpeg_command(tmp_path):
    plain = make_video(tmp_path / "plain.mp4", 1, "160x90", ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    for degrees in (90, 180, 270):
        turned = tmp_path / f"turned{degrees}.mp4"
        ffmpeg("-i", plain, "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}", turned)
        pngs = tmp_path / f"frames{degrees}"
        extract_png(turned, pngs)
        vf, vc = clipcaer.load_clip(turned, size=96)
        pf, pc = clipcaer.load_clip(pngs, size=96)
        assert np.array_equal(vf, pf) and np.array_equal(vc, pc), degrees
        upright = clipcaer.preprocess.read_image(str(pngs / "00001.png"))
        assert upright.shape == ((160, 90, 3) if degrees != 180 else (90, 160, 3))


def test_classify_a_video(tmp_path):
    video = make_video(tmp_path / "v.mp4", 1.2, "200x120", ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    extract_png(video, tmp_path / "frames")
    m = clipcaer.Model(str(MODEL))
    faces = {"3": [20, 10, 120, 100]}
    (tmp_path / "faces.json").write_text(json.dumps({str(video): faces}))
    a = m.classify_folder(str(video), face_boxes=faces)
    b = m.classify_folder(str(tmp_path / "frames"), face_boxes={"00004.png": faces["3"]})
    assert np.array_equal(a.logits, b.logits)
    if CLI.exists():
        r = run("classify", "--model", MODEL, "--format", "json", "--face-boxes", tmp_path / "faces.json", video)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out[0]["clip"] == str(video) and out[0]["label"] == a.label
        np.testing.assert_allclose(out[0]["logits"], a.logits, rtol=0, atol=1e-6)
        # eval: a list may name videos and folders alike
        (tmp_path / "list.txt").write_text("v.mp4 36 1\nframes 36 2\n")
        r = run("eval", "--model", MODEL, "--list", tmp_path / "list.txt", "--root", tmp_path,
                "--out", tmp_path / "report")
        assert r.returncode == 0, r.stderr
        rows = (tmp_path / "report" / "predictions.csv").read_text().splitlines()
        assert len(rows) == 3 and rows[1].startswith('"v.mp4",') and rows[2].startswith('"frames",')
        video_row, folder_row = rows[1].split(","), rows[2].split(",")
        assert video_row[2] == folder_row[2] and video_row[4:] == folder_row[4:]  # predicted class, probabilities


def test_frame_choice_follows_the_decoded_count(tmp_path):
    # 41 frames: the official rule on 41, not on the container's duration.
    video = make_video(tmp_path / "v.mkv", 1.64, "64x48", ["-c:v", "ffv1"])
    names = extract_png(video, tmp_path / "frames")
    assert len(names) == 41
    idx = ref_indices(41, 16)
    vf, _ = clipcaer.load_clip(video, size=32)
    ref = clipcaer.preprocess.load_clip_arrays([clipcaer.preprocess.read_image(str(tmp_path / "frames" / names[i]))
                                     for i in idx], num_segments=16, size=32)
    assert np.array_equal(vf, ref[0])


def test_video_errors(tmp_path):
    audio = tmp_path / "sound.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440", "-t", 0.5, audio)
    with pytest.raises(RuntimeError, match="has no video stream"):
        clipcaer.load_clip(audio)
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    with pytest.raises(RuntimeError, match="cannot open video .*notes.txt"):
        clipcaer.load_clip(text)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        clipcaer.load_clip(tmp_path / "missing.mp4")
    still = tmp_path / "still.png"
    still.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="is an image, not a folder of frames or a video"):
        clipcaer.load_clip(still)
    if CLI.exists():
        r = run("classify", "--model", MODEL, text)
        assert r.returncode != 0 and "notes.txt" in r.stderr
