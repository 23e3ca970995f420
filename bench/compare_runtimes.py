#!/usr/bin/env python3
"""clipcaer in each weight dtype against PyTorch and ONNX Runtime, one clip, one run.

    /usr/bin/python3 bench/compare_runtimes.py --model-dir DIR [--threads 2] [--repeats 5]
        [--dtypes float32,bfloat16,int8] [--ort-python PATH] [--build-dir build/python]
        [--write-doc docs/performance.md] [--json OUT]
    /usr/bin/python3 bench/compare_runtimes.py --smoke [--json OUT]

DIR holds the full-size random model of tests/fullsize/check_parity.py
--keep DIR (model_best.pth, clip_caer.safetensors, inputs.npz). Every side
gets clip 0 of inputs.npz (16 face crops + 16 frames) and the same thread
count, in a process of its own (bench/runtime_workers.py: its own load time
and peak RSS), idle while the others run; one warm-up each, then --repeats
rounds, the order reversed every other round. Sides: PyTorch's video-only
forward (as bench_vs_torch.py), clipcaer.Model(dtype=...).classify_clip for
each dtype (a dtype the build cannot pack is reported, not fatal), and ONNX
Runtime on the same PyTorch video path exported once with torch.onnx.export
(cached in DIR). Logits are compared with PyTorch's: a float32 side off by
more than 1e-3, or with another top class, fails the run (exit code 1).

--smoke runs the small fixture caer_a with 1 repeat and skips ONNX Runtime
when --ort-python cannot import it (tests/python/test_compare_runtimes.py).
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

from doc_block import replace_block
from runtime_workers import REPO, Unavailable, Worker, cpu_name

LOGITS_ATOL = 1e-3  # float32 sides vs PyTorch float32 (check_parity.py's bar)
ONNX_FILE = "video_logits.onnx"
DOC_BEGIN, DOC_END = "<!-- compare_runtimes:begin -->", "<!-- compare_runtimes:end -->"
DOC_SECTION = "## Side by side: PyTorch, ONNX Runtime, clipcaer"
INSTALL_ORT = ("install it, e.g.:\n"
               "    /usr/bin/python3 -m venv --system-site-packages /tmp/ort-venv\n"
               "    /tmp/ort-venv/bin/pip install onnxruntime\n"
               "and pass --ort-python /tmp/ort-venv/bin/python "
               "(or: /usr/bin/python3 -m pip install --user --break-system-packages onnxruntime)")


def model_files(args, tmp):
    """Paths of the model, the inputs, the ONNX cache and the temporal head count."""
    if not args.smoke:
        d = os.path.abspath(args.model_dir)
        files = dict(checkpoint=os.path.join(d, "model_best.pth"), weights=os.path.join(d, "clip_caer.safetensors"),
                     inputs=os.path.join(d, "inputs.npz"), onnx=os.path.join(d, ONNX_FILE), temporal_heads=8)
        missing = [p for k, p in files.items() if k not in ("onnx", "temporal_heads") and not os.path.exists(p)]
        if missing:
            sys.exit(f"compare_runtimes.py: missing {', '.join(missing)}; make the model with "
                     f"/usr/bin/python3 tests/fullsize/check_parity.py --prepare-only --keep {args.model_dir}")
        return files
    # The fixture caer_a and its golden inputs, written as inputs.npz into a temp folder.
    import numpy as np
    sys.path.insert(0, os.path.join(REPO, "weights"))
    from st_format import read_safetensors
    fixtures = os.path.join(REPO, "tests", "fixtures")
    with open(os.path.join(fixtures, "manifest.json")) as f:
        spec = json.load(f)["caer_a"]
    io = read_safetensors(os.path.join(fixtures, spec["io"]))[0]
    inputs = os.path.join(tmp, "inputs.npz")
    np.savez(inputs, faces=io["faces"].astype(np.float32), frames=io["frames"].astype(np.float32))
    return dict(checkpoint=os.path.join(fixtures, spec["checkpoint"]), weights=os.path.join(fixtures, spec["weights"]),
                inputs=inputs, onnx=os.path.join(tmp, ONNX_FILE), temporal_heads=spec["config"]["temporal"]["heads"])


def ort_version(python):
    proc = subprocess.run([python, "-c", "import onnxruntime; print(onnxruntime.__version__)"],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure_onnx(files, args):
    """Exports the PyTorch video path once; reuses it while the checkpoint,
    the inputs' shape, torch and the opset are unchanged. Returns a note."""
    import numpy as np
    import torch  # only for its version; the export runs in a worker process
    st = os.stat(files["checkpoint"])
    with np.load(files["inputs"]) as z:
        shape = list(z["faces"].shape[1:])
    stamp = {"checkpoint_size": st.st_size, "checkpoint_mtime_ns": st.st_mtime_ns, "faces_shape": shape,
             "torch": torch.__version__, "opset": args.opset}
    stamp_path = files["onnx"] + ".json"
    try:
        with open(stamp_path) as f:
            if json.load(f) == stamp and os.path.exists(files["onnx"]):
                return f"cached {files['onnx']}"
    except (OSError, ValueError):
        pass
    t0 = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(REPO, "bench", "runtime_workers.py"), "--kind", "torch",
                    "--export-onnx", files["onnx"], "--opset", str(args.opset), "--checkpoint", files["checkpoint"],
                    "--inputs", files["inputs"], "--threads", str(args.threads),
                    "--temporal-heads", str(files["temporal_heads"])],
                   check=True, env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    with open(stamp_path, "w") as f:
        json.dump(stamp, f)
    return f"exported {files['onnx']} (opset {args.opset}) in {time.perf_counter() - t0:.0f} s"


def start_sides(args, files, ort_ok):
    """[(name, Worker or the reason it is unavailable)], PyTorch first."""
    common = dict(threads=args.threads, inputs=files["inputs"])
    plans = [("PyTorch", dict(kind="torch", checkpoint=files["checkpoint"], temporal_heads=files["temporal_heads"]))]
    if ort_ok:
        plans.append(("ONNX Runtime", dict(kind="onnxruntime", onnx=files["onnx"], python=args.ort_python)))
    for dtype in args.dtypes:
        plans.append((f"clipcaer {dtype}", dict(kind="clipcaer", weights=files["weights"],
                                                build_dir=args.build_dir, dtype=dtype)))
    sides = []
    for name, kw in plans:
        print(f"loading {name} ...", flush=True)
        try:
            sides.append((name, Worker(name=name, **kw, **common)))
        except Unavailable as e:
            if name == "PyTorch":  # the reference of every row
                sys.exit(f"compare_runtimes.py: PyTorch is unavailable: {e}")
            print(f"  unavailable: {e}", flush=True)
            sides.append((name, str(e)))
    return sides


def measure(sides, repeats):
    live = [(n, w) for n, w in sides if isinstance(w, Worker)]
    times = {n: [] for n, _ in live}
    logits = {n: w.run()["logits"] for n, w in live}  # warm-up
    for r in range(repeats):
        for n, w in (live if r % 2 == 0 else live[::-1]):
            times[n].append(w.run()["s"])
    peaks = {n: w.close()["peak_rss_mb"] for n, w in live}
    return times, logits, peaks


def summarize(sides, times, logits, peaks):
    import numpy as np
    ref = np.asarray(logits["PyTorch"])
    med = {n: statistics.median(t) for n, t in times.items()}
    rows = []
    for name, w in sides:
        if not isinstance(w, Worker):
            rows.append({"name": name, "available": False, "message": w})
            continue
        got = np.asarray(logits[name])
        diff = float(np.abs(got - ref).max())
        same = int(got.argmax()) == int(ref.argmax())
        float32 = name in ("ONNX Runtime", "clipcaer float32")
        rows.append({"name": name, "available": True, "times_s": times[name], "median_s": med[name],
                     "min_s": min(times[name]), "vs_torch": med[name] / med["PyTorch"],
                     "vs_ort": med[name] / med["ONNX Runtime"] if "ONNX Runtime" in med else None,
                     "load_s": w.ready["load_s"], "peak_rss_mb": peaks[name], "logits": logits[name],
                     "max_abs_diff": diff, "same_top_class": same,
                     "check": None if not float32 else bool(diff <= LOGITS_ATOL and same)})
    return rows


def secs(x):
    return f"{x:.3f}" if x >= 0.1 else f"{x:.3g}"


def ratio(x):
    # Two decimals as in the docs; tiny ratios (the --smoke fixture) keep two significant digits, not "0.00x".
    return f"{x:.2f}x" if x >= 0.1 else f"{x:.2g}x"


def table(rows):
    head = ("| | median s | min s | / PyTorch | / ORT | load s | peak RSS MB | logits max abs diff vs PyTorch "
            "| same top class |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        if not r["available"]:
            lines.append(f"| {r['name']} | unavailable: {r['message']} | | | | | | | |")
            continue
        ort = ratio(r["vs_ort"]) if r["vs_ort"] is not None else "-"
        diff = "(reference)" if r["name"] == "PyTorch" else f"{r['max_abs_diff']:.1e}"
        flag = "" if r["check"] is not False else " FAIL"
        lines.append(f"| {r['name']} | {secs(r['median_s'])} | {secs(r['min_s'])} | {ratio(r['vs_torch'])} | {ort} | "
                     f"{r['load_s']:.2f} | {r['peak_rss_mb']:.0f} | {diff}{flag} | "
                     f"{'yes' if r['same_top_class'] else 'no'}{flag} |")
    return "\n".join(lines)


def machine():
    info = {"model": cpu_name(), "cpus": os.cpu_count(), "flags": set()}
    hypervisor = None
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                info["model"] = value.strip()
            elif key.strip() == "CPU(s)":
                info["cpus"] = int(value)
            elif key.strip() == "Hypervisor vendor":
                hypervisor = value.strip()
            elif key.strip() == "Flags":
                info["flags"] = set(value.split())
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass
    if hypervisor:  # lscpu's model name is generic under one
        info["model"] += f" under {hypervisor}"
    wanted = ("avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16", "amx_int8")
    info["flags"] = {f: f in info["flags"] for f in wanted}
    return info


def check_torch_blas(sides, smoke):
    """Debian's torch calls whatever libblas.so.3 points to; the reference BLAS (blas/libblas.so.3*) runs
    GEMMs ~40x slower than OpenBLAS and would make PyTorch a straw man."""
    for name, w in sides:
        blas = w.ready["versions"].get("torch BLAS", "") if isinstance(w, Worker) else ""
        if any(part.startswith("blas/") for part in blas.split(", ")):
            msg = (f"PyTorch runs on the reference BLAS ({blas}); install an optimised one, e.g. "
                   "`apt-get install libopenblas0-pthread`, for a fair baseline")
            if not smoke:
                for _, other in sides:
                    if isinstance(other, Worker):
                        other.close()
                sys.exit(f"compare_runtimes.py: {msg}")
            print(f"note: {msg}", flush=True)


def wrap(text, indent=""):
    return textwrap.fill(text, 78, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def doc_block(report):
    m, v, la = report["machine"], report["versions"], report["loadavg"]
    flags = ", ".join(f"{k} {'yes' if ok else 'no'}" for k, ok in m["flags"].items())
    vers = ", ".join(f"{k} {v[k]}" for k in ("clipcaer", "torch", "torch BLAS", "onnxruntime", "numpy", "python")
                     if k in v)
    if "onnxruntime python" in v:
        vers += f" (ONNX Runtime's Python: {v['onnxruntime python']})"
    n = report["frames"]
    paragraphs = [
        wrap(f"Measured {report['date']} by `bench/compare_runtimes.py` (this block is rewritten by "
             "`--write-doc`). The machine is shared and its speed moves with the load: **ratios between the "
             "rows, not the absolute times, are what carry over** to another machine, and only when the load "
             "average stays low."),
        "\n".join([
            wrap(f"* Machine: {m['model']}, {m['cpus']} CPUs; {flags}.", "  "),
            wrap(f"* Versions: {vers}.", "  "),
            wrap(f"* Load average (1/5/15 min): {'/'.join(f'{x:.2f}' for x in la['start'])} at the "
                 f"start, {'/'.join(f'{x:.2f}' for x in la['end'])} at the end.", "  "),
            wrap(f"* {report['threads']} threads each; {report['repeats']} round{'s' * (report['repeats'] != 1)} "
                 "after one warm-up each; "
                 f"ONNX export: {report['onnx']}.", "  "),
            f"* Command: `{report['command']}`"]),
        table(report["rows"]),
        wrap(f"Seconds per clip ({n} face crops + {n} frames). `/ PyTorch`, `/ ORT`: this side's median over "
             "theirs (below 1 = faster). PyTorch and ONNX Runtime run the video path only (text features "
             "precomputed; the ONNX model is PyTorch's, exported, with ONNX Runtime's default settings beyond "
             "the threads, and idle workers blocking rather than spinning, as PyTorch's); clipcaer runs `classify_clip`. Load: process start to ready (imports, weights, "
             "packing, text features; not the export); peak RSS: the process's high-water mark."),
    ]
    return "\n\n".join(paragraphs)


def write_doc(path, block):
    with open(path) as f:
        text = f.read()
    replaced = replace_block(text, DOC_BEGIN, DOC_END, block)
    if replaced is not None:
        text = replaced
    else:
        intro = wrap("One model, one clip, one thread count, one run: PyTorch, ONNX Runtime (the same "
                     "PyTorch graph, exported) and clipcaer in each weight dtype. Reproduce with the command "
                     "below after `tests/fullsize/check_parity.py --prepare-only --keep DIR`; ONNX Runtime "
                     "comes from pip, outside the project's dependencies.")
        text = text.rstrip("\n") + f"\n\n{DOC_SECTION}\n\n{intro}\n\n{DOC_BEGIN}\n{block}\n{DOC_END}\n"
    with open(path, "w") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", help="folder from tests/fullsize/check_parity.py --keep DIR")
    parser.add_argument("--smoke", action="store_true", help="the small fixture caer_a, 1 repeat, ORT if installed")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, help="timed rounds after the warm-up (default 5, --smoke 1)")
    parser.add_argument("--dtypes", default="float32,bfloat16,int8", help="clipcaer weight dtypes, comma-separated")
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "python"),
                        help="folder holding the clipcaer Python package (default: build/python)")
    parser.add_argument("--ort-python", default=sys.executable,
                        help="Python that can import onnxruntime (default: this one)")
    parser.add_argument("--no-ort", action="store_true", help="leave ONNX Runtime out")
    parser.add_argument("--opset", type=int, default=14, help="ONNX opset of the export")
    parser.add_argument("--write-doc", metavar="MD", help=f"replace the {DOC_BEGIN} block of MD (added if absent)")
    parser.add_argument("--json", metavar="OUT", help="write everything measured as JSON")
    args = parser.parse_args()
    if bool(args.smoke) == bool(args.model_dir):
        parser.error("give exactly one of --model-dir DIR and --smoke")
    if args.smoke and args.write_doc:
        parser.error("--write-doc takes real numbers: not with --smoke")
    args.repeats = args.repeats if args.repeats is not None else (1 if args.smoke else 5)
    args.dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    for d in args.dtypes:
        if d not in ("float32", "bfloat16", "int8"):
            parser.error(f"--dtypes: unknown dtype {d!r} (float32, bfloat16, int8)")
    args.build_dir = os.path.abspath(args.build_dir)
    import numpy as np

    load_start = os.getloadavg()
    ort = None if args.no_ort else ort_version(args.ort_python)
    if not args.no_ort and ort is None:
        msg = f"onnxruntime cannot be imported by {args.ort_python}; {INSTALL_ORT}"
        if not args.smoke:
            sys.exit(f"compare_runtimes.py: {msg}\n(or pass --no-ort to leave it out)")
        print(f"skipping ONNX Runtime: {msg}", flush=True)
    with tempfile.TemporaryDirectory(prefix="clipcaer-compare-") as tmp:
        files = model_files(args, tmp)
        with np.load(files["inputs"]) as z:
            frames = int(z["faces"].shape[1])
        onnx_note = "not run"
        if ort:
            onnx_note = ensure_onnx(files, args)
            print(f"ONNX: {onnx_note}", flush=True)
        sides = start_sides(args, files, bool(ort))
        check_torch_blas(sides, args.smoke)
        times, logits, peaks = measure(sides, args.repeats)
    rows = summarize(sides, times, logits, peaks)

    versions = {"python": platform.python_version()}
    for name, w in sides:
        if isinstance(w, Worker):
            got = w.ready["versions"]
            versions.update({k: val for k, val in got.items() if k not in versions})
            if name == "ONNX Runtime" and (got["python"], got["numpy"]) != (versions["python"], versions["numpy"]):
                versions["onnxruntime python"] = f"python {got['python']}, numpy {got['numpy']}"
    report = {"date": datetime.date.today().isoformat(), "machine": machine(), "versions": versions,
              "loadavg": {"start": list(load_start), "end": list(os.getloadavg())}, "threads": args.threads,
              "repeats": args.repeats, "frames": frames, "onnx": onnx_note, "rows": rows,
              "command": shlex.join(["/usr/bin/python3", "bench/compare_runtimes.py", *sys.argv[1:]])}
    print()
    print(doc_block(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if args.write_doc:
        write_doc(args.write_doc, doc_block(report))
        print(f"\nwrote {args.write_doc}")
    failed = [r["name"] for r in rows if r.get("check") is False]
    if failed:
        print(f"\nFAIL: logits of {', '.join(failed)} differ from PyTorch's by more than {LOGITS_ATOL} "
              "or pick another class")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
