#!/usr/bin/env python3
"""Turns bench_kernels JSON output into a Markdown table of medians over
repetitions: time, GFLOP/s, peak_frac, cpu_frac and the peak measured
alongside (see run_against_peak in bench_kernels.cpp).

    build/bin/bench_kernels --benchmark_filter=f32_gemm --benchmark_repetitions=5 \\
        --benchmark_out=gemm.json --benchmark_out_format=json
    python3 bench/kernels/summarize.py gemm.json
"""
import json
import statistics
import sys
from collections import defaultdict


def main(path):
    with open(path) as f:
        data = json.load(f)
    runs = defaultdict(list)
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        runs[b["run_name"]].append(b)
    ctx = data.get("context", {})
    peaks = {k[len("peak_gflops_"):]: float(v) for k, v in ctx.items() if k.startswith("peak_gflops_")}
    if peaks:
        print("single-core peak measured at start: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in sorted(peaks.items())))
        print()
    print("| benchmark | reps | median time | median GFLOP/s | median peak_frac | (min-max) | median cpu_frac "
          "| peak alongside GFLOP/s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, reps in runs.items():
        name = name.replace("/manual_time", "").replace("/real_time", "")
        t = statistics.median(r["real_time"] for r in reps)
        unit = reps[0].get("time_unit", "ns")
        gf = statistics.median(r.get("FLOPS", 0) for r in reps) * 1e-9
        fr = [r["peak_frac"] for r in reps if "peak_frac" in r]
        pk = [r["peak_GFLOPS"] for r in reps if "peak_GFLOPS" in r]
        cf = [r["cpu_frac"] for r in reps if "cpu_frac" in r]
        cfs = f"{statistics.median(cf):.3f}" if cf else "-"
        frs = f"{statistics.median(fr):.3f}" if fr else "-"
        rng = f"{min(fr):.3f}-{max(fr):.3f}" if fr else "-"
        pks = f"{statistics.median(pk):.0f}" if pk else "-"
        print(f"| {name} | {len(reps)} | {t:.3g} {unit} | {gf:.1f} | {frs} | {rng} | {cfs} | {pks} |")


if __name__ == "__main__":
    main(sys.argv[1])
