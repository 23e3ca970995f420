"""The clipcaer command-line tool end to end: classify, eval, info, exit
codes and error messages, against the Python API on generated clips."""
import csv
import io
import json
import os
import subprocess

import numpy as np
import pytest

from helpers import CLIPCAER_CLI as CLI
from helpers import FIXTURES
from helpers import run_clipcaer as run

clipcaer = pytest.importorskip("clipcaer")
PIL = pytest.importorskip("PIL.Image")

MODEL = FIXTURES / "caer_b.safetensors"
pytestmark = pytest.mark.skipif(not CLI.exists(), reason=f"{CLI} not built")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Six generated clips of PNG frames, a list file with labels, and box files."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(7)
    lines, faces, bodies = [], {}, {}
    for i in range(6):
        clip = root / f"clip{i}"
        clip.mkdir()
        n = int(rng.integers(3, 9))
        for f in range(n):
            PIL.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)).save(clip / f"{f:04d}.png")
        lines.append(f"clip{i} {n} {i % 3 + 1}")
        faces[f"clip{i}"] = {"0000.png": [5, 5, 30, 30]}
        bodies[f"clip{i}"] = [2, 2, 50, 38]
    (root / "list.txt").write_text("\n".join(lines) + "\n")
    (root / "faces.json").write_text(json.dumps(faces))
    (root / "bodies.json").write_text(json.dumps(bodies))
    return root


def test_help_version_and_usage_errors():
    r = run("--help")
    assert r.returncode == 0 and "classify" in r.stdout and "eval" in r.stdout
    assert run().returncode == 2
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("clipcaer ")
    sets = dict(line.split(": ", 1) for line in r.stdout.splitlines()[1:])
    usable = sets["kernel sets on this CPU, best first"].split(", ")
    assert usable and sets["kernel set used"] == usable[0]
    assert sets["CUDA"] == (f"built; {clipcaer.cuda_devices()} device(s) visible" if "built;" in sets["CUDA"]
                            else "not in this build (configure with -DCLIPCAER_CUDA=ON)")
    assert sets["JPEG decoder"] == clipcaer.jpeg_decoder()
    assert sets["Video decoder"] == (clipcaer.video_decoder() or
                                     "not in this build (configure with -DCLIPCAER_VIDEO=ON)")
    frontal = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml"
    assert sets["Face cascades"] == (frontal if os.path.isfile(frontal) else
                                     "not installed (apt-get install opencv-data, for --detect-faces)")
    # CLIPCAER_ISA picks another usable set; a bad one is named, not fatal here.
    forced = subprocess.run([str(CLI), "--version"], capture_output=True, text=True,
                            env=dict(os.environ, CLIPCAER_ISA="baseline")).stdout
    assert f"kernel set used: {usable[-1]}\n" in forced
    bad = subprocess.run([str(CLI), "--version"], capture_output=True, text=True,
                         env=dict(os.environ, CLIPCAER_ISA="no-such-isa"))
    assert bad.returncode == 0 and "kernel set used: none (" in bad.stdout and "no-such-isa" in bad.stdout
    assert run("frobnicate").returncode == 2
    r = run("classify", "--help")
    assert r.returncode == 0 and "--face-boxes" in r.stdout
    r = run("classify", "somewhere")
    assert r.returncode == 2 and "--model is required" in r.stderr
    r = run("classify", "--model", MODEL, "x", "--format", "xml")
    assert r.returncode == 2 and "--format" in r.stderr
    r = run("classify", "--model", MODEL, "x", "--bogus")
    assert r.returncode == 2 and "unknown option '--bogus'" in r.stderr
    assert run("eval", "--model", MODEL).returncode == 2
    assert run("info").returncode == 2


def test_classify_matches_python_api(dataset):
    m = clipcaer.Model(str(MODEL))
    clip = dataset / "clip0"
    faces, frames = clipcaer.load_clip(str(clip), face_boxes=str(dataset / "faces.json"),
                                       body_box=str(dataset / "bodies.json"),
                                       num_segments=m.num_frames, size=m.image_size)
    want = m.classify_clip(faces, frames)
    r = run("classify", "--model", MODEL, clip, "--face-boxes", dataset / "faces.json",
            "--body-boxes", dataset / "bodies.json", "--format", "json", "--threads", "1")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)[0]
    assert got["label"] == want.label and got["index"] == want.index
    assert np.allclose(got["logits"], want.logits, atol=1e-5)
    assert abs(sum(got["probs"].values()) - 1) < 1e-4


def test_classify_dtype(dataset):
    clip = dataset / "clip0"
    args = ("classify", "--model", MODEL, clip, "--face-boxes", dataset / "faces.json",
            "--body-boxes", dataset / "bodies.json", "--format", "json")
    want = json.loads(run(*args).stdout)[0]
    for dtype in ("bfloat16", "int8"):
        r = run(*args, "--dtype", dtype)
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout)[0]
        assert got["index"] == want["index"] and np.abs(np.subtract(got["logits"], want["logits"])).max() < 0.6
    r = run(*args, "--dtype", "float16")
    assert r.returncode == 1 and "dtype is 'float16'" in r.stderr
    assert json.loads(run("info", MODEL, "--json").stdout)["compute_dtype"] == "float32"


def test_classify_device(dataset):
    args = ("classify", "--model", MODEL, dataset / "clip0", "--format", "json")
    want = json.loads(run(*args).stdout)[0]
    r = run(*args, "--device", "emulated")  # the GPU code path, on the host
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)[0]
    assert got["index"] == want["index"] and np.abs(np.subtract(got["logits"], want["logits"])).max() < 1e-4
    r = run(*args, "--device", "gpu0")
    assert r.returncode == 1 and "unknown device 'gpu0'" in r.stderr
    if clipcaer.cuda_devices() == 0:
        r = run(*args, "--device", "cuda")
        assert r.returncode == 1 and "CUDA" in r.stderr


def test_classify_formats(dataset):
    clips = [dataset / "clip1", dataset / "clip2"]
    r = run("classify", "--model", MODEL, *clips, "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 2 and rows[0]["clip"] == str(clips[0])
    r = run("classify", "--model", MODEL, *clips)
    assert r.returncode == 0 and r.stdout.count("%") >= 2 * 3


def test_eval_report(dataset, tmp_path):
    out = tmp_path / "report"
    r = run("eval", "--model", MODEL, "--list", dataset / "list.txt", "--root", dataset,
            "--face-boxes", dataset / "faces.json", "--body-boxes", dataset / "bodies.json", "--out", out)
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "report.json").read_text())
    for key in ("war", "uar", "per_class_recall", "confusion", "clips"):
        assert key in report
    # Recompute the metrics from the per-clip predictions, by hand.
    C = len(report["classes"])
    cm = np.zeros((C, C), int)
    for c in report["clips"]:
        cm[c["truth_index"], c["index"]] += 1
        assert c["correct"] == (c["truth_index"] == c["index"])
    assert cm.tolist() == report["confusion"]
    assert report["war"] == pytest.approx(np.trace(cm) / cm.sum())
    recalls = [cm[i, i] / cm[i].sum() for i in range(C) if cm[i].sum()]
    assert report["uar"] == pytest.approx(np.mean(recalls))
    assert 0 <= report["uar"] <= 1 and 0 <= report["war"] <= 1
    svg = (out / "confusion.svg").read_text()
    assert svg.startswith("<svg") and "UAR" in svg
    assert len((out / "predictions.csv").read_text().splitlines()) == 7
    # The same clip through the Python API agrees with the report.
    m = clipcaer.Model(str(MODEL))
    first = report["clips"][0]
    r0 = m.classify_folder(str(dataset / first["clip"]), face_boxes=str(dataset / "faces.json"),
                           body_box=str(dataset / "bodies.json"))
    assert r0.label == first["label"]


def test_eval_errors(dataset, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("clip0 5 9\n")
    r = run("eval", "--model", MODEL, "--list", bad, "--root", dataset, "--out", tmp_path / "o")
    assert r.returncode == 1 and "label 9 is outside" in r.stderr and str(bad) in r.stderr
    missing = tmp_path / "missing.txt"
    missing.write_text("clip0 5 1\nnope 5 2\n")
    r = run("eval", "--model", MODEL, "--list", missing, "--root", dataset, "--out", tmp_path / "o")
    assert r.returncode == 1 and "line 2" in r.stderr and "nope" in r.stderr
    r = run("eval", "--model", MODEL, "--list", missing, "--root", dataset, "--out", tmp_path / "o2", "--keep-going")
    assert r.returncode == 1
    report = json.loads((tmp_path / "o2" / "report.json").read_text())
    assert len(report["clips"]) == 1 and len(report["failed"]) == 1


def test_info():
    r = run("info", MODEL)
    assert r.returncode == 0 and "parameters" in r.stdout and "classes" in r.stdout
    j = json.loads(run("info", MODEL, "--json").stdout)
    assert j["model_type"] == "clip-caer" and j["parameters"] > 0 and j["file_bytes"] == MODEL.stat().st_size
    r = run("info", "/nonexistent.safetensors")
    assert r.returncode == 1 and "/nonexistent.safetensors" in r.stderr


def test_classify_missing_and_broken_inputs(tmp_path):
    r = run("classify", "--model", tmp_path / "none.safetensors", tmp_path)
    assert r.returncode == 1 and "none.safetensors" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run("classify", "--model", MODEL, empty)
    assert r.returncode == 1 and "empty" in r.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "0001.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    r = run("classify", "--model", MODEL, broken)
    assert r.returncode == 1 and "0001.jpg" in r.stderr


def test_detect_faces_in_classify_timeline_and_eval(dataset, tmp_path):
    """--detect-faces / --face-cascade: the square test cascade finds the squares drawn in the frames."""
    cascade = FIXTURES / "square_cascade.xml"
    clip = tmp_path / "squares"
    clip.mkdir()
    rng = np.random.default_rng(3)
    for f in range(6):
        img = rng.integers(0, 40, (72, 96, 3), dtype=np.uint8)
        if f != 2:
            img[20:46, 10 + 5 * f:36 + 5 * f] = 230
        PIL.fromarray(img).save(clip / f"{f:04d}.png")
    r = run("classify", "--model", MODEL, clip, "--face-cascade", cascade, "--format", "json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)[0]
    assert 0 < got["faces_detected"] == got["face_boxes_used"]
    # The same logits as the Python API with the same detector (opencv-data's profile cascade after it).
    d = clipcaer.FaceDetector(cascades=[str(cascade)])
    m = clipcaer.Model(MODEL)
    np.testing.assert_allclose(got["logits"], m.classify_folder(clip, face_detector=d).logits, rtol=1e-6)
    plain = json.loads(run("classify", "--model", MODEL, clip, "--format", "json").stdout)[0]
    assert plain["face_boxes_used"] == 0 and "faces_detected" not in plain
    r = run("classify", "--model", MODEL, clip, "--face-cascade", cascade)
    assert r.returncode == 0 and f"faces: {got['face_boxes_used']} of " in r.stdout
    r = run("timeline", "--model", MODEL, clip, "--window-frames", "4", "--stride-frames", "2",
            "--face-cascade", cascade, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert sum(w["faces_detected"] for w in json.loads(r.stdout)[0]["windows"]) > 0
    out = tmp_path / "report"
    r = run("eval", "--model", MODEL, "--list", dataset / "list.txt", "--root", dataset, "--out", out,
            "--face-cascade", cascade)
    assert r.returncode == 0, r.stderr
    assert all("faces_detected" in c for c in json.loads((out / "report.json").read_text())["clips"])
    # Errors: a missing cascade file, a value given to the flag.
    r = run("classify", "--model", MODEL, clip, "--face-cascade", tmp_path / "none.xml")
    assert r.returncode == 1 and "none.xml" in r.stderr
    r = run("classify", "--model", MODEL, clip, "--detect-faces=yes")
    assert r.returncode == 2 and "takes no value" in r.stderr
    assert "--detect-faces" in run("classify", "--help").stdout
    assert "--face-cascade" in run("timeline", "--help").stdout
