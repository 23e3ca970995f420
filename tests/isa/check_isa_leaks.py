#!/usr/bin/env python3
"""Checks that AVX-512 (and AVX) code stays inside the functions that only
run after the dispatcher has checked the CPU.

Each kernel table is compiled in its own translation unit with its ISA's
flags. Any inline function or template instantiation that such a TU shares
with the rest of the program (std::, xsimd::kernel::<lower arch>, clipcaer::
helpers) exists once after linking, and the linker may keep the copy compiled
with AVX-512 flags: that copy then crashes an AVX2-only CPU. This script
disassembles the given binaries or object files and reports every global or
weak function (one the linker may share between translation units; local
functions are private copies) that
  * contains AVX-512 code (an EVEX prefix, a zmm register, an opmask register,
    xmm16-31) but is not AVX-512-only code (our isa_avx512 namespaces, xsimd
    instantiations for an avx512 arch, the AVX-512 table factory), or
  * contains VEX (AVX/AVX2) code outside AVX2/AVX-512-only code, which would
    crash a CPU that only runs the baseline table, or
  * contains AVX-VNNI code (VEX vpdpbusd & co.) outside the avx2_vnni and
    AVX-512 code, which would crash an AVX2 CPU without it (Haswell to
    Comet Lake, Zen 1-4).
Run on the kernel objects it finds latent leaks, whichever copy the linker
happens to keep; run on programs it checks what was actually kept.

usage: check_isa_leaks.py [--objdump PATH] [--nm PATH] [--avx512-only] [--expect-avx512] FILE...
"""
import argparse
import re
import subprocess
import sys

LEGACY_PREFIXES = {0x66, 0x67, 0xF2, 0xF3, 0x2E, 0x3E, 0x26, 0x36, 0x64, 0x65, 0xF0}

# Code that only ever runs once the dispatcher has seen the ISA on this CPU.
AVX512_ONLY = re.compile(r"isa_avx512|xsimd::avx512|clipcaer::kernels::table_avx512(_bf16|_amx|_vnni)?\(\)")
AVX_ONLY = re.compile(
    r"isa_avx512|isa_avx2|xsimd::avx512|xsimd::avx2?\b|xsimd::fma3<xsimd::avx2?>|"
    r"clipcaer::kernels::table_avx(512(_bf16|_amx|_vnni)?|2(_vnni)?)\(\)")

# AVX-VNNI (VEX vpdpbusd & co.) runs on fewer CPUs than AVX2: only its own table may hold it.
AVX_VNNI_ONLY = re.compile(r"isa_avx2_vnni|isa_avx512|xsimd::avx512|clipcaer::kernels::table_avx(2_vnni|512(_bf16|_amx|_vnni)?)\(\)")
VNNI_MNEMONIC = re.compile(r"\bvpdp(bu|ws)sds?\b")

FUNCTION = re.compile(r"^([0-9a-f]+) <(.+)>:$")
INSN = re.compile(r"^\s*[0-9a-f]+:\t([0-9a-f ]+?)\s*\t(.*)$")
OPMASK = re.compile(r"%k[0-7]\b")
EVEX_ONLY_REGS = re.compile(r"%[xy]mm(1[6-9]|2[0-9]|3[01])\b")


def classify(raw_bytes, text):
    """Returns 'avx512', 'avx_vnni', 'avx' or None for one instruction."""
    b = [int(x, 16) for x in raw_bytes.split()]
    i = 0
    while i < len(b) and b[i] in LEGACY_PREFIXES:
        i += 1
    first = b[i] if i < len(b) else None
    # In 64-bit mode 0x62 (BOUND) is invalid, so it always starts an EVEX
    # prefix; likewise 0xC4 / 0xC5 (LES / LDS) always start a VEX prefix.
    if first == 0x62 or "%zmm" in text or OPMASK.search(text) or EVEX_ONLY_REGS.search(text):
        return "avx512"
    if first in (0xC4, 0xC5):
        return "avx_vnni" if VNNI_MNEMONIC.search(text) else "avx"
    return None


def local_functions(path, nm):
    """(address, demangled name) of every local function symbol."""
    out = subprocess.run([nm, "-C", "--defined-only", path], check=True, capture_output=True, text=True)
    local = set()
    for line in out.stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] == "t":
            local.add((int(parts[0], 16), parts[2]))
    return local


def scan(path, objdump, nm):
    local = local_functions(path, nm)
    out = subprocess.run([objdump, "-d", "-C", "--insn-width=16", path], check=True, capture_output=True, text=True)
    leaks = {}        # function -> (kind, count, sample)
    allowed_evex = 0  # AVX-512 instructions seen where allowed (detector self-check)
    avx512_funcs = 0  # functions of our AVX-512 kernel namespace
    func, private = None, False
    for line in out.stdout.splitlines():
        m = FUNCTION.match(line)
        if m:
            func = m.group(2)
            private = (int(m.group(1), 16), func) in local
            avx512_funcs += "isa_avx512" in func
            continue
        m = INSN.match(line)
        if not m or func is None:
            continue
        kind = classify(m.group(1), m.group(2))
        if kind is None:
            continue
        if kind == "avx512":
            if AVX512_ONLY.search(func) or private:
                allowed_evex += 1
                continue
        elif kind == "avx_vnni":
            if AVX_VNNI_ONLY.search(func) or private:
                continue
        elif AVX_ONLY.search(func) or private:
            continue
        k, n, sample = leaks.get(func, (kind, 0, m.group(2).strip()))
        if kind == "avx512" and k != "avx512":
            k, sample = kind, m.group(2).strip()
        leaks[func] = (k, n + 1, sample)
    return leaks, allowed_evex, avx512_funcs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objdump", default="objdump")
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--avx512-only", action="store_true",
                    help="report AVX-512 leaks only, not AVX (VEX) code shared with the baseline")
    ap.add_argument("--expect-avx512", action="store_true",
                    help="fail if a binary has isa_avx512 functions but no AVX-512 code was seen (detector self-check)")
    ap.add_argument("binaries", nargs="+")
    args = ap.parse_args()
    failed = False
    for path in args.binaries:
        leaks, allowed, avx512_funcs = scan(path, args.objdump, args.nm)
        print(f"{path}: {avx512_funcs} isa_avx512 functions, {allowed} AVX-512 instructions where allowed, "
              f"{len(leaks)} leaking functions")
        if args.expect_avx512 and avx512_funcs and allowed == 0:
            print("  error: the AVX-512 kernels contain no AVX-512 code: is the detector broken?")
            failed = True
        for func, (kind, count, sample) in sorted(leaks.items()):
            if args.avx512_only and kind != "avx512":
                print(f"  note: AVX code in a shared function (only matters on CPUs without AVX): {func}")
                continue
            print(f"  LEAK ({kind}, {count} instructions, e.g. '{sample}'): {func}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
