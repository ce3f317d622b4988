"""Benchmark of the exact engine: frames per second and peak memory, printed as a markdown table.

    .venv/bin/python scripts/bench.py [--sizes 1080p] [--seconds 10 60] [--offsets 1 30]

Generates H.264 test clips of the sample scene with Blender's FFmpeg (cached in .cache/bench),
then runs every case in a fresh process so its peak RSS is its own:

- decode: an OpenCV read loop over the clip, the limit nothing can beat;
- null:   the exact engine with its output discarded;
- mjpg:   the exact engine writing an MJPG .avi.

Targets checked at the end: null-sink throughput at least 50% of decode, and the peak RSS of
the longest clip within 10% of the shortest, case by case.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

CACHE = REPO_ROOT / ".cache" / "bench"
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
FPS = 30


def clip_path(size: str, seconds: int) -> Path:
    return CACHE / f"sample_{size}_{seconds}s_h264.mp4"


def generate_clip(size: str, seconds: int) -> Path:
    """The sample scene as an H.264 MP4, encoded by Blender's FFmpeg through the sequencer."""
    path = clip_path(size, seconds)
    if path.exists():
        return path
    from blender_addon import video_io
    from blender_addon.core.sample_clip import SampleClip

    width, height = SIZES[size]
    clip = SampleClip(width, height, frame_count=FPS * seconds, fps=FPS)
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as folder:
        intermediate = Path(folder) / "frames.avi"
        with video_io.open_writer(intermediate, FPS, width, height) as writer:
            for frame in clip.read_from(0):
                writer.write(frame)
        script = (
            "import sys, bpy\n"
            "source, target, width, height, fps = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])\n"
            "bpy.ops.wm.read_factory_settings(use_empty=True)\n"
            "scene = bpy.data.scenes.new('encode')\n"
            "strip = scene.sequence_editor_create().strips.new_movie('clip', source, channel=1, frame_start=1)\n"
            "scene.frame_start, scene.frame_end = 1, strip.frame_final_duration\n"
            "render = scene.render\n"
            "render.resolution_x, render.resolution_y, render.resolution_percentage = width, height, 100\n"
            "render.fps, render.fps_base = fps, 1.0\n"
            "render.image_settings.media_type = 'VIDEO'\n"
            "render.image_settings.file_format = 'FFMPEG'\n"
            "render.ffmpeg.format, render.ffmpeg.codec = 'MPEG4', 'H264'\n"
            "render.ffmpeg.constant_rate_factor = 'HIGH'\n"
            "scene.view_settings.view_transform = 'Standard'\n"
            "render.filepath = target\n"
            "with bpy.context.temp_override(scene=scene):\n"
            "    bpy.ops.render.render(animation=True)\n"
        )
        partial = Path(folder) / "encoded.mp4"
        subprocess.run(
            [sys.executable, "-c", script, str(intermediate), str(partial), str(width), str(height), str(FPS)],
            check=True, stdout=subprocess.DEVNULL,
        )
        os.replace(partial, path)
    return path


def run_worker(case: str, clip: Path, offset: int) -> dict:
    """Runs one case in this process and returns frames and seconds."""
    from blender_addon import video_io
    from blender_addon.core.engine import extract_motion
    from blender_addon.core.settings import Settings

    started = time.perf_counter()
    frames = 0
    if case == "decode":
        import cv2

        capture = cv2.VideoCapture(str(clip))
        ok, image = capture.read()
        while ok:
            frames += 1
            ok, image = capture.read(image)
        capture.release()
    else:
        source = video_io.open_source(clip)
        motion = extract_motion(source, Settings(offset=offset))
        if case == "null":
            for _ in motion:
                frames += 1
        else:
            with tempfile.TemporaryDirectory() as folder:
                with video_io.open_writer(Path(folder) / "out.avi", source.fps, source.width, source.height) as writer:
                    for frame in motion:
                        writer.write(frame)
                        frames += 1
    return {"frames": frames, "seconds": time.perf_counter() - started}


def measure(case: str, clip: Path, offset: int) -> dict:
    """Runs a case in a child process; returns its result with the child's peak RSS in MB."""
    command = [sys.executable, __file__, "--worker", case, "--clip", str(clip), "--offset", str(offset)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"bench: case {case} failed with exit code {process.returncode}")
    result = json.loads(output)
    result["fps"] = result["frames"] / result["seconds"]
    result["rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["1080p"], choices=sorted(SIZES))
    parser.add_argument("--seconds", nargs="+", type=int, default=[10, 60])
    parser.add_argument("--offsets", nargs="+", type=int, default=[1, 30])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--clip", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.clip, args.offset)))
        return 0

    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}")
    rows, results = [], {}
    for size in args.sizes:
        for seconds in args.seconds:
            print(f"preparing {size} {seconds}s clip...", file=sys.stderr)
            clip = generate_clip(size, seconds)
            cases = [("decode", 0)] + [(case, n) for case in ("null", "mjpg") for n in args.offsets]
            for case, offset in cases:
                print(f"  {case} N={offset}...", file=sys.stderr)
                result = measure(case, clip, offset)
                results[size, seconds, case, offset] = result
                rows.append(
                    f"| {size} | {seconds} s | {case} | {offset or '-'} | {result['frames']} "
                    f"| {result['fps']:.1f} | {result['rss_mb']:.0f} |"
                )
    print("\n| clip | length | case | N | frames | fps | peak RSS (MB) |\n|---|---|---|---|---|---|---|")
    print("\n".join(rows))

    print("\ntargets:")
    for size in args.sizes:
        for seconds in args.seconds:
            decode = results[size, seconds, "decode", 0]["fps"]
            for offset in args.offsets:
                ratio = results[size, seconds, "null", offset]["fps"] / decode
                verdict = "ok" if ratio >= 0.5 else "MISSED"
                print(f"- {size} {seconds}s N={offset}: null sink at {ratio:.0%} of decode (target >= 50%): {verdict}")
        shortest, longest = min(args.seconds), max(args.seconds)
        if shortest != longest:
            for case, offset in [(c, n) for c in ("null", "mjpg") for n in args.offsets]:
                growth = (
                    results[size, longest, case, offset]["rss_mb"] / results[size, shortest, case, offset]["rss_mb"]
                )
                verdict = "ok" if growth <= 1.10 else "MISSED"
                print(
                    f"- {size} {case} N={offset}: peak RSS {longest}s / {shortest}s = {growth:.2f} "
                    f"(target <= 1.10): {verdict}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
