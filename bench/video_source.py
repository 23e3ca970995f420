"""The ffmpeg command for the video benchmarks (bench_video.py, bench_timeline.py)."""
import subprocess


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)], check=True)


def make_h264(path, seconds, size, rate=30):
    """A testsrc2 video of `seconds` at `size` ("WxH") and `rate` fps, H.264 yuv420p."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}", "-t", seconds, "-c:v", "libx264",
           "-pix_fmt", "yuv420p", path)
    return path
