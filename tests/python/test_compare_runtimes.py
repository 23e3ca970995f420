"""bench/compare_runtimes.py --smoke: runs end to end on the fixture caer_a,
its table and JSON parse, and clipcaer float32 gives PyTorch's logits.
ONNX Runtime is optional (CI does not install it): its row is then absent."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO

clipcaer = pytest.importorskip("clipcaer")
pytest.importorskip("torch")


def test_smoke_runs_and_float32_matches_pytorch(tmp_path):
    out = tmp_path / "report.json"
    build_dir = Path(clipcaer.__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "compare_runtimes.py"), "--smoke",
                           "--build-dir", str(build_dir), "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    table = {}
    for line in proc.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 9 and cells[0] not in ("", "---"):
            table[cells[0]] = cells
    assert {"PyTorch", "clipcaer float32", "clipcaer bfloat16", "clipcaer int8"} <= set(table)
    row = table["clipcaer float32"]
    float(row[1]), float(row[2]), float(row[5]), float(row[6])  # median, min, load, RSS
    assert row[3].endswith("x") and float(row[3][:-1]) > 0
    assert float(row[7]) <= 1e-4 and row[8] == "yes"

    report = json.loads(out.read_text())
    rows = {r["name"]: r for r in report["rows"]}
    torch_row, ours = rows["PyTorch"], rows["clipcaer float32"]
    assert ours["available"] and ours["check"] is True and ours["same_top_class"]
    np.testing.assert_allclose(ours["logits"], torch_row["logits"], atol=1e-4)
    assert len(ours["times_s"]) == report["repeats"] == 1 and ours["peak_rss_mb"] > 0
    for dtype in ("bfloat16", "int8"):  # either measured or said why not
        r = rows[f"clipcaer {dtype}"]
        assert r["available"] or r["message"]
    if "ONNX Runtime" in rows:
        assert rows["ONNX Runtime"]["check"] is True
    assert report["frames"] == 4 and report["loadavg"]["start"] and report["versions"]["clipcaer"]


def test_refuses_pytorch_on_the_reference_blas(capsys):
    sys.path.insert(0, str(REPO / "bench"))
    import compare_runtimes
    from runtime_workers import Worker

    class FakeWorker(Worker):
        def __init__(self, blas):
            self.ready = {"versions": {"torch": "x", "torch BLAS": blas}}
            self.closed = False

        def close(self):
            self.closed = True

    ok = FakeWorker("openblas-pthread/libblas.so.3, openblas-pthread/libopenblasp-r0.3.21.so")
    compare_runtimes.check_torch_blas([("PyTorch", ok)], smoke=False)  # passes
    ref = FakeWorker("blas/libblas.so.3.11.0, lapack/liblapack.so.3.11.0")
    compare_runtimes.check_torch_blas([("PyTorch", ref)], smoke=True)  # a note only
    assert "reference BLAS (blas/libblas.so.3.11.0" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="libopenblas0-pthread"):
        compare_runtimes.check_torch_blas([("PyTorch", ref)], smoke=False)
    assert ref.closed
