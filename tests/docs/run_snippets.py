"""Runs the code blocks of docs/api-*.md (python, c, cpp) from the repository
root, so the documentation cannot drift from the code.

usage: run_snippets.py SOURCE_DIR BUILD_DIR PYTHON [VIDEO]

VIDEO: 1 when the library was built with FFmpeg (CLIPCAER_VIDEO): C++ blocks
are then compiled with it too, as clipcaer::runtime's users are.
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

BLOCK = re.compile(r"^```(python|c|cpp)\n(.*?)^```", re.S | re.M)


def ffmpeg_flags():
    r = subprocess.run(["pkg-config", "--cflags", "--libs", "libavformat", "libavcodec", "libswscale", "libavutil"],
                       check=True, capture_output=True, text=True)
    return ["-DCLIPCAER_HAVE_FFMPEG", *r.stdout.split()]


def main(src, build, python, video="0"):
    src, build = pathlib.Path(src), pathlib.Path(build)
    video_flags = ffmpeg_flags() if video == "1" else []
    env = dict(os.environ, PYTHONPATH=str(build / "python"), LD_LIBRARY_PATH=str(build / "lib"))
    failures, count = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for doc in sorted((src / "docs").glob("api-*.md")):
            for i, m in enumerate(BLOCK.finditer(doc.read_text())):
                lang, code = m.group(1), m.group(2)
                name = f"{doc.name} block {i + 1} ({lang})"
                exe = pathlib.Path(tmp) / f"snippet{count}"
                if lang == "python":
                    cmd = [python, "-c", code]
                elif lang == "c":
                    source = exe.with_suffix(".c")
                    source.write_text(code)
                    subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", str(source), "-I", str(src / "capi/include"),
                                    "-L", str(build / "lib"), "-lclipcaer", "-o", str(exe)], check=True)
                    cmd = [str(exe)]
                else:
                    source = exe.with_suffix(".cpp")
                    source.write_text(code)
                    subprocess.run(["c++", "-std=c++17", "-O1", "-Wall", "-Werror", "-DCLIPCAER_MULTIARCH",
                                    str(source), "-I", str(src / "include"), str(build / "lib/libclipcaer_runtime.a"),
                                    "-lz", "-pthread", *video_flags, "-o", str(exe)], check=True)
                    cmd = [str(exe)]
                count += 1
                r = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True)
                print(f"--- {name}: exit {r.returncode}\n{r.stdout}{r.stderr}")
                if r.returncode != 0:
                    failures.append(name)
    print(f"{count - len(failures)} passed, {len(failures)} failed")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
