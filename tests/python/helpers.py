"""Paths and small helpers shared by the Python tests."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WEIGHTS = REPO / "weights"
FIXTURES = REPO / "tests" / "fixtures"
SHARED = REPO.parent / "shared"
VOCAB = SHARED / "clip" / "bpe_simple_vocab_16e6.txt.gz"
TOKENIZER_CASES = SHARED / "testdata" / "tokenizer_cases.json"

for p in (str(WEIGHTS), str(Path(__file__).resolve().parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

with open(FIXTURES / "manifest.json") as _f:
    MANIFEST = json.load(_f)

CAER_WITH_CHECKPOINT = [n for n, m in MANIFEST.items() if m["kind"] == "clip-caer" and m.get("checkpoint_in_git", True)]
CAER_ALL = [n for n, m in MANIFEST.items() if m["kind"] == "clip-caer"]

# Matrix weights that --dtype bfloat16 stores as BF16 (docs/weights.md), spelled out independently of model_spec.
BF16_SUFFIXES = ("attn.in_proj_weight", "attn.out_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight",
                 "fn.to_qkv.weight", "fn.to_out.0.weight", "fn.net.0.weight", "fn.net.3.weight")
BF16_NAMES = ("visual.conv1.weight", "visual.proj", "text_projection", "project_fc.weight")


def is_bf16_tensor(name):
    return name.endswith(BF16_SUFFIXES) or name in BF16_NAMES


def fixture(name, key):
    return FIXTURES / MANIFEST[name][key]


def checkpoint_key(file_name):
    """Where a file tensor lives in an official checkpoint (clip_model_.* holds the CLIP copy)."""
    if file_name.startswith(("prompt_learner.", "temporal_net", "project_fc.")):
        return file_name
    return "clip_model_." + file_name


def convert_args(name, tmp_dir):
    """The manifest's converter options with file arguments resolved."""
    args = list(MANIFEST[name]["convert_args"])
    for i, a in enumerate(args):
        if i > 0 and args[i - 1] == "--classes":
            args[i] = str(FIXTURES / a)
    return args


# The clipcaer command of the build whose Python package is first on PYTHONPATH.
CLIPCAER_CLI = Path(os.environ.get("PYTHONPATH", str(REPO / "build" / "python")).split(os.pathsep)[0]).parent / "bin" / "clipcaer"


def run_clipcaer(*args, **kwargs):
    """Runs the clipcaer command: a CompletedProcess with text stdout / stderr."""
    return subprocess.run([str(CLIPCAER_CLI), *map(str, args)], capture_output=True, text=True, **kwargs)


def run_cli(*args, cwd=None):
    """Runs weights/convert.py in a subprocess: (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, str(WEIGHTS / "convert.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


# The ffmpeg command, for the video tests (None when not installed).
FFMPEG = shutil.which("ffmpeg")


def ffmpeg(*args):
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *map(str, args)], check=True, timeout=120)


def make_video(path, seconds, size, encode, rate=25, extra=()):
    """A testsrc2 video of `seconds` at `size` ("WxH") and `rate`, encoded with the ffmpeg arguments `encode`."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}", "-t", seconds, *encode, *extra, path)
    return path


def video_test_marks(clipcaer):
    """pytestmark for tests that need clipcaer's video support and the ffmpeg command."""
    import pytest
    return [
        pytest.mark.skipif(clipcaer.video_decoder() is None, reason="clipcaer built without FFmpeg"),
        pytest.mark.skipif(FFMPEG is None, reason="the ffmpeg command is not installed (scripts/install-deps.sh --test)"),
    ]


# Photographs with faces (scripts/fetch-test-pictures.sh), and OpenCV's cascades (Debian's opencv-data).
TEST_PICTURES = Path(os.environ.get("CLIPCAER_TEST_PICTURES") or
                     Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clipcaer" / "test-pictures")
OPENCV_CASCADES = Path("/usr/share/opencv4")


def face_picture(name):
    """A test photograph's path; skips the test where it was not fetched (fails under CI, which must have it)."""
    import pytest
    path = TEST_PICTURES / name
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: run scripts/fetch-test-pictures.sh")
        pytest.skip(f"{path} is missing (scripts/fetch-test-pictures.sh)")
    return path
