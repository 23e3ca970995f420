#!/usr/bin/env python3
"""Turns bench_kernels / bench_model JSON output into Markdown tables of
medians over repetitions.

Default: one row per benchmark: time, G(FL)OP/s, peak_frac, cpu_frac and the
peak measured alongside (see bench/kernels/peak_probe.hpp), and mix_frac (f32
GEMMs against their tile's instruction-mix ceiling) when a run has it;
benchmarks that skipped (SkipWithError) show their message.

    build/bin/bench_kernels --benchmark_filter=f32_gemm --benchmark_repetitions=5 \\
        --benchmark_out=gemm.json --benchmark_out_format=json
    python3 bench/kernels/summarize.py gemm.json

--shares: bench_model output as the share of a clip each stage takes and the
1-thread / 2-thread ratio, per dtype (per-clip table, then one ViT layer part
by part). --normalize first rescales each repetition's time by the peak
measured alongside it over the highest median such peak (same peak loop and
thread count): an estimate of the time on an unloaded machine, for runs under
varying load. Rows that are differences of medians are left out then.

    CLIPCAER_BENCH_MODEL=clip_caer.safetensors build/bin/bench_model --benchmark_repetitions=5 \\
        --benchmark_out=model.json --benchmark_out_format=json
    python3 bench/kernels/summarize.py --shares model.json
"""
import argparse
import json
import re
import statistics
from collections import defaultdict

TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def clean(name):
    return name.replace("/manual_time", "").replace("/real_time", "")


def load(paths):
    """(context of the first file, {name: [iteration runs]}, {name: error message}), in file order."""
    ctx, runs, errors = {}, defaultdict(list), {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        ctx = ctx or data.get("context", {})
        for b in data["benchmarks"]:
            if b.get("run_type") != "iteration":
                continue
            name = clean(b["run_name"])
            if b.get("error_occurred"):
                errors[name] = b.get("error_message", "skipped")
                runs.setdefault(name, [])
            else:
                runs[name].append(b)
    return ctx, runs, errors


def median(reps, key):
    vals = [r[key] for r in reps if key in r]
    return statistics.median(vals) if vals else None


def print_peaks(ctx):
    peaks = []
    for k, v in sorted(ctx.items()):
        m = re.match(r"peak_g(flops|ops)_(.+)", k)
        if m:
            peaks.append(f"{m.group(2)} {float(v):.1f} {'GFLOP/s' if m.group(1) == 'flops' else 'GOP/s'}")
    if peaks:
        print("single-core peaks measured at start: " + ", ".join(peaks))
    if "load_avg" in ctx:
        print("load average at start: " + ", ".join(f"{x:.2f}" for x in ctx["load_avg"]))
    print()


def plain_table(runs, errors):
    mix = any("mix_frac" in r for reps in runs.values() for r in reps)
    print("| benchmark | reps | median time | median G(FL)OP/s | median peak_frac | (min-max) | median cpu_frac "
          "| peak alongside G(FL)OP/s |" + (" median mix_frac |" if mix else ""))
    print("|---|---|---|---|---|---|---|---|" + ("---|" if mix else ""))
    for name, reps in runs.items():
        if not reps:
            print(f"| {name} | skipped: {errors.get(name, '?')} | | | | | | |" + (" |" if mix else ""))
            continue
        t = statistics.median(r["real_time"] for r in reps)
        unit = reps[0].get("time_unit", "ns")
        rate = median(reps, "FLOPS")
        if rate is None:
            rate = median(reps, "OPS")
        fr = [r["peak_frac"] for r in reps if "peak_frac" in r]
        pk = median(reps, "peak_GFLOPS")
        if pk is None:
            pk = median(reps, "peak_GOPS")
        cf = median(reps, "cpu_frac")
        gf = f"{rate * 1e-9:.1f}" if rate is not None else "-"
        frs = f"{statistics.median(fr):.3f}" if fr else "-"
        rng = f"{min(fr):.3f}-{max(fr):.3f}" if fr else "-"
        cfs = f"{cf:.3f}" if cf is not None else "-"
        pks = f"{pk:.0f}" if pk is not None else "-"
        mf = median(reps, "mix_frac")
        mfs = (f" {mf:.3f} |" if mf is not None else " - |") if mix else ""
        print(f"| {name} | {len(reps)} | {t:.3g} {unit} | {gf} | {frs} | {rng} | {cfs} | {pks} |{mfs}")


# ---- --shares (bench_model) ---------------------------------------------------------

LAYER_PARTS = ["ln_1", "in_proj", "attention", "out_proj_residual", "ln_2", "c_fc_quickgelu", "c_proj_residual"]
# float32 whatever the dtype (Model reduces only the image tower's residual-block GEMMs): run once, as float32
F32_ONLY = {"ln_1", "ln_2", "attention", "patch_embed", "temporal_fusion"}
# ... except where bench_model also measured them as int8 runs them (bfloat16)
INT8_OWN = {"patch_embed": " (bfloat16)", "attention": " (bf16 products)"}
GEMMS = ["in_proj", "out_proj_residual", "c_fc_quickgelu", "c_proj_residual"]


def model_times(runs, normalize):
    """{(stage, dtype, threads): median ms} for clip/... and vit_layer/... benchmarks."""
    entries = {}
    for name, reps in runs.items():
        parts = name.split("/")
        th = re.search(r"threads:(\d+)", name)
        if not reps or parts[0] not in ("clip", "vit_layer") or len(parts) < 3 or not th:
            continue
        scale = TO_MS[reps[0].get("time_unit", "ns")]
        m = re.search(r"peak:(\S+)", reps[0].get("label", ""))
        # (ms, peak alongside) per repetition
        entries[(parts[1], parts[2], int(th.group(1)))] = (
            [(r["real_time"] * scale, r.get("peak_GFLOPS") or r.get("peak_GOPS")) for r in reps],
            m.group(1) if m else "?")
    if not normalize:
        return {k: statistics.median(ms for ms, _ in reps) for k, (reps, _) in entries.items()}
    # Reference: the highest median peak seen for the same peak loop and thread count.
    ref = defaultdict(float)
    for (_, _, th), (reps, isa) in entries.items():
        peaks = [p for _, p in reps if p]
        if peaks:
            ref[(isa, th)] = max(ref[(isa, th)], statistics.median(peaks))
    out = {}
    for k, (reps, isa) in entries.items():
        r = ref[(isa, k[2])]
        out[k] = statistics.median(ms * p / r if p and r else ms for ms, p in reps)
    return out


def fmt_ms(x):
    if x is None:
        return "-"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def fmt_share(x, whole):
    return f"{100 * x / whole:.1f} %" if x is not None and whole else "-"


def fmt_ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "-"


def shares_tables(ctx, runs, errors, normalize):
    t = model_times(runs, normalize)
    layers = int(ctx.get("vision_layers", "12"))
    dtypes = []
    for (_, dtype, _) in t:
        if dtype not in dtypes:
            dtypes.append(dtype)
    skipped = sorted({(n.split("/")[2], msg) for n, msg in errors.items() if n.startswith(("clip/", "vit_layer/"))})
    for dtype, msg in skipped:
        if dtype not in dtypes:
            print(f"{dtype}: skipped ({msg})\n")
    what = "peak-normalised median ms" if normalize else "median ms"
    for dtype in dtypes:
        def get(stage, th):
            if stage in INT8_OWN and (stage, dtype, th) in t:  # int8 runs these in bfloat16
                return t[(stage, dtype, th)]
            d = "float32" if stage in F32_ONLY else dtype
            return t.get((stage, d, th))

        def layer_sum(th, stages):
            vals = [get(s, th) for s in stages]
            return sum(vals) if all(v is not None for v in vals) else None

        def note(stage):
            if dtype != "float32" and stage in INT8_OWN and any((stage, dtype, th) in t for th in (1, 2)):
                return INT8_OWN[stage]
            return " (float32)" if stage in F32_ONLY and dtype != "float32" else ""

        print(f"**{dtype}: one clip** ({what}; share of classify_clip; 1 thread / 2 threads)\n")
        print("| stage | 1 thr ms | share | 2 thr ms | share | 1 thr / 2 thr |")
        print("|---|---|---|---|---|---|")
        whole = {th: get("classify_clip", th) for th in (1, 2)}
        f32_note = " (float32)" if dtype != "float32" else ""
        rows = [("classify_clip (whole clip)", {th: get("classify_clip", th) for th in (1, 2)}),
                ("encode_images, 32 images", {th: get("encode_images", th) for th in (1, 2)}),
                ("temporal encoders + fusion head" + f32_note, {th: get("temporal_fusion", th) for th in (1, 2)})]
        rest = {}
        for th in (1, 2):
            a, b, c = whole[th], get("encode_images", th), get("temporal_fusion", th)
            rest[th] = a - b - c if None not in (a, b, c) else None
        if not normalize:  # a difference of separately rescaled times would mostly be noise
            rows.append(("rest: input checks, softmax (difference)", rest))
        rows.append(("from the parts: patch_embed" + note("patch_embed"), {th: get("patch_embed", th) for th in (1, 2)}))
        if not normalize:
            tower_rest = {}
            for th in (1, 2):
                a, b, c, e = (get("encode_images", th), get("patch_embed", th), get("block", th),
                              get("last_block", th))
                tower_rest[th] = a - b - (layers - 1) * c - e if None not in (a, b, c, e) else None
            rows.append(("rest of encode_images: im2col, ln_pre, ln_post, proj (difference)", tower_rest))
        # The tower's last block computes only the class token's row past its
        # attention (last_block); the others are whole blocks.
        full = layers - 1
        rows.append(("last block (class token only)", {th: get("last_block", th) for th in (1, 2)}))
        for label, stages in ((f"{full} x block (as one)", ["block"]),
                              (f"{full} x GEMMs (4 per block)", GEMMS),
                              (f"{full} x attention" + note("attention"), ["attention"]),
                              (f"{full} x LayerNorm (2 per block)" + f32_note, ["ln_1", "ln_2"])):
            rows.append((label, {th: (lambda s: s * full if s is not None else None)(layer_sum(th, stages))
                                 for th in (1, 2)}))
        for label, v in rows:
            print(f"| {label} | {fmt_ms(v[1])} | {fmt_share(v[1], whole[1])} | {fmt_ms(v[2])} | "
                  f"{fmt_share(v[2], whole[2])} | {fmt_ratio(v[1], v[2])} |")
        print()

        print(f"**{dtype}: one ViT layer, M = 1600** ({what}; share of the whole block)\n")
        print("| part | 1 thr ms | share | 2 thr ms | share | 1 thr / 2 thr |")
        print("|---|---|---|---|---|---|")
        block = {th: get("block", th) for th in (1, 2)}
        for stage in LAYER_PARTS + ["sum of the parts", "block_by_op", "block"]:
            if stage == "sum of the parts":
                v = {th: layer_sum(th, LAYER_PARTS) for th in (1, 2)}
            else:
                v = {th: get(stage, th) for th in (1, 2)}
            label = stage + note(stage)
            print(f"| {label} | {fmt_ms(v[1])} | {fmt_share(v[1], block[1])} | {fmt_ms(v[2])} | "
                  f"{fmt_share(v[2], block[2])} | {fmt_ratio(v[1], v[2])} |")
        print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="+", help="--benchmark_out files (JSON); several are merged")
    ap.add_argument("--shares", action="store_true", help="bench_model: shares of a clip and of a ViT layer")
    ap.add_argument("--normalize", action="store_true", help="with --shares: rescale times by the peak alongside")
    args = ap.parse_args()
    ctx, runs, errors = load(args.json)
    print_peaks(ctx)
    if args.shares:
        shares_tables(ctx, runs, errors, args.normalize)
    else:
        plain_table(runs, errors)


if __name__ == "__main__":
    main()
