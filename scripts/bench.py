"""Benchmark: the exact engine, the VSE engine and the alternatives users have, on the same clips in one run.

    .venv/bin/python scripts/bench.py [--quick] [--competitor DIR] [--repeat R] [--chart docs/benchmarks.png]

Generates H.264 test clips of the sample scene with Blender's FFmpeg (cached in .cache/bench),
then runs every case in a fresh process, so that its peak RSS is its own, and prints a markdown
table of frames per second and peak RSS, then the targets, then writes a PNG chart (matplotlib,
a benchmark-only dependency: requirements-bench.txt). Cases:

- decode alone: an OpenCV read loop (the limit nothing can beat), and ``ffmpeg -f null``;
- the exact engine: null sink, MJPG, FFV1 and mp4v writers, N=1 and N=30; mp4v also with
  ``max_memory=0`` (two read heads, two frames held: the lean end of the memory trade);
- the competitor (``--competitor DIR``, a checkout of Gabriel-Kahen/motion-extraction: its
  ``process_video``, mp4v, threaded writer and in-place OpenCV math; it is never copied here);
- the VSE engine to H.264 (``render_with_vse``), sequencer cache off (as it renders) and on,
  and a plain source strip through the same output (the sequencer's floor);
- ffmpeg ``tmix=frames=N+1`` and the ``split/tpad/negate/blend`` graph, to a null sink and to
  x264 at the VSE engine's settings (preset medium, CRF 20, GOP 18, no B-frames);
- naive OpenCV loops: one that seeks for each frame's partner, one that keeps every output frame
  in a list (10 s clips only: the list needs about 2 GB per 10 s at 1080p).

Engine and OpenCV rows time the processing inside the process (imports excluded); ffmpeg rows
use ffmpeg's own ``-benchmark`` real time; the VSE rows time ``render_with_vse`` (scene set-up
included). Slow rows (VSE, FFV1, ffmpeg to x264, tmix N=30) run on the shortest clip only unless
``--all-lengths``. ``--quick`` runs the 1080p 10 s clip with fewer rows, for iteration.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

CACHE = REPO_ROOT / ".cache" / "bench"
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
FPS = 30
LEAN_MEMORY = 0  # max_memory that makes the engine read partners with a second head
X264 = ["-c:v", "libx264", "-preset", "medium", "-crf", "20", "-g", "18", "-bf", "0", "-pix_fmt", "yuv420p"]


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    offsets: bool  # runs once per N (else once per clip, N shown as -)
    slow: bool = False  # shortest clip only, unless --all-lengths
    short_only: bool = False  # shortest clip only, always
    quick: bool = True  # part of --quick


CASES = [
    Case("decode-opencv", "decode alone, OpenCV loop", False),
    Case("decode-ffmpeg", "decode alone, ffmpeg -f null", False),
    Case("engine-null", "exact engine, null sink", True),
    Case("engine-mp4v", "exact engine, mp4v writer", True),
    Case("engine-mp4v-lean", "exact engine, mp4v, max_memory=0 (two heads)", True, quick=False),
    Case("engine-mjpg", "exact engine, MJPG writer", True, quick=False),
    Case("engine-ffv1", "exact engine, FFV1 writer", True, slow=True, quick=False),
    Case("competitor", "Gabriel-Kahen/motion-extraction (mp4v)", True),
    Case("vse-off", "VSE engine to H.264, cache off", False, slow=True),
    Case("vse-on", "VSE engine to H.264, cache on", False, slow=True, quick=False),
    Case("vse-plain", "VSE, source strip only to H.264 (floor)", False, slow=True, quick=False),
    Case("tmix-null", "ffmpeg tmix=frames=N+1, null", True, slow=True),
    Case("tmix-x264", "ffmpeg tmix=frames=N+1, x264", True, slow=True, quick=False),
    Case("blend-null", "ffmpeg tpad/negate/blend, null", True),
    Case("blend-x264", "ffmpeg tpad/negate/blend, x264", True, slow=True),
    Case("opencv-seek", "OpenCV loop, seeks per frame, null", True, short_only=True, quick=False),
    Case("opencv-list", "OpenCV loop, keeps every output frame", True, short_only=True, quick=False),
]
CASE_BY_NAME = {case.name: case for case in CASES}


# --- clips -------------------------------------------------------------------------------------


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


# --- workers (run in a child process each) ------------------------------------------------------


def _timed(function) -> dict:
    started = time.perf_counter()
    frames = function()
    return {"frames": frames, "seconds": time.perf_counter() - started}


def _decode_opencv(clip: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    frames = 0
    ok, image = capture.read()
    while ok:
        frames += 1
        ok, image = capture.read(image)
    capture.release()
    return frames


def _engine(clip: Path, offset: int, output: str | None, max_memory: int | None) -> int:
    from blender_addon import video_io
    from blender_addon.core.engine import DEFAULT_MAX_MEMORY, extract_motion
    from blender_addon.core.settings import Settings

    source = video_io.open_source(clip)
    memory = DEFAULT_MAX_MEMORY if max_memory is None else max_memory
    frames = 0
    motion = extract_motion(source, Settings(offset=offset), max_memory=memory)
    if output is None:
        for _ in motion:
            frames += 1
        return frames
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"out{output}"
        with video_io.open_writer(path, source.fps, source.width, source.height) as writer:
            for frame in motion:
                writer.write(frame)
                frames += 1
    return frames


def _competitor(clip: Path, offset: int, folder: Path) -> int:
    sys.path.insert(0, str(folder))
    import motion_extraction  # the competitor's module, from --competitor DIR

    with tempfile.TemporaryDirectory() as out:
        args = motion_extraction.parse_args([str(clip), str(Path(out) / "out.mp4"), "--frame-offset", str(offset)])
        return motion_extraction.process_video(args)


def _naive_pair_math(current, partner, out):
    import cv2

    return cv2.addWeighted(current, 0.5, partner, -0.5, 127.75, dst=out)


def _opencv_seek(clip: Path, offset: int) -> int:
    """A loop that seeks to each frame's partner (what simple scripts do): correct, slow."""
    import cv2
    import numpy as np

    capture = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    out = None
    for index in range(count):
        capture.set(cv2.CAP_PROP_POS_FRAMES, max(0, index - offset))
        _, partner = capture.read()
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        _, current = capture.read()
        out = np.empty_like(current) if out is None else out
        _naive_pair_math(current, partner, out)
    capture.release()
    return count


def _opencv_list(clip: Path, offset: int) -> int:
    """A loop that keeps every decoded and output frame in lists, writing at the end."""
    import cv2

    capture = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    frames, outputs = [], []
    ok, frame = capture.read()
    while ok:
        frames.append(frame)
        outputs.append(_naive_pair_math(frame, frames[max(0, len(frames) - 1 - offset)], None))
        ok, frame = capture.read()
    capture.release()
    return len(outputs)


def _vse(clip: Path, cache: bool) -> int:
    import bpy  # noqa: F401 - fails here when the bpy module is not installed

    from blender_addon.core.settings import Settings
    from blender_addon.vse import batch

    if cache:
        def caches_on(scene) -> None:
            editor = scene.sequence_editor
            editor.use_cache_raw = editor.use_cache_final = editor.use_prefetch = True

        batch._quiet_caches = caches_on
    with tempfile.TemporaryDirectory() as folder:
        return batch.render_with_vse(clip, Path(folder) / "out.mp4", Settings()).frame_count


def _vse_plain(clip: Path) -> int:
    """The source strip alone through the VSE engine's output settings: what the sequencer costs without the rig."""
    import bpy

    scene = bpy.data.scenes.new("plain")
    strip = scene.sequence_editor_create().strips.new_movie("clip", str(clip), channel=1, frame_start=1)
    scene.frame_start, scene.frame_end = 1, strip.frame_final_duration
    editor = scene.sequence_editor
    editor.use_cache_raw = editor.use_cache_final = editor.use_prefetch = False
    render = scene.render
    render.resolution_x, render.resolution_y = strip.elements[0].orig_width, strip.elements[0].orig_height
    render.resolution_percentage = 100
    render.fps, render.fps_base = FPS, 1.0
    scene.view_settings.view_transform = "Standard"
    render.image_settings.media_type = "VIDEO"
    render.image_settings.file_format = "FFMPEG"
    render.ffmpeg.format, render.ffmpeg.codec = "MPEG4", "H264"
    render.ffmpeg.constant_rate_factor, render.ffmpeg.ffmpeg_preset = "HIGH", "GOOD"
    with tempfile.TemporaryDirectory() as folder:
        render.filepath = str(Path(folder) / "plain.mp4")
        bpy.ops.render.render(animation=True, scene=scene.name)
    return strip.frame_final_duration


def run_worker(case: str, clip: Path, offset: int, competitor: Path | None) -> dict:
    if case == "decode-opencv":
        return _timed(lambda: _decode_opencv(clip))
    if case.startswith("engine-"):
        kind = case.removeprefix("engine-")
        output = {"null": None, "mp4v": ".mp4", "mp4v-lean": ".mp4", "mjpg": ".avi", "ffv1": ".mkv"}[kind]
        max_memory = LEAN_MEMORY if kind == "mp4v-lean" else None
        return _timed(lambda: _engine(clip, offset, output, max_memory))
    if case == "competitor":
        return _timed(lambda: _competitor(clip, offset, competitor))
    if case == "opencv-seek":
        return _timed(lambda: _opencv_seek(clip, offset))
    if case == "opencv-list":
        return _timed(lambda: _opencv_list(clip, offset))
    if case in ("vse-off", "vse-on"):
        return _timed(lambda: _vse(clip, case == "vse-on"))
    if case == "vse-plain":
        return _timed(lambda: _vse_plain(clip))
    raise SystemExit(f"bench: unknown worker case {case}")


# --- measuring ---------------------------------------------------------------------------------


def ffmpeg_command(case: str, clip: Path, offset: int, output: Path) -> list[str]:
    graph = {
        "decode": None,
        "tmix": f"tmix=frames={offset + 1}",
        "blend": (
            f"[0:v]split[a][b];[b]tpad=start={offset}:start_mode=clone,negate[c];"
            "[a][c]blend=all_mode=average:shortest=1"
        ),
    }[case.split("-")[0]]
    command = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-benchmark", "-y"]
    command += ["-i", str(clip)]
    if graph is not None:
        command += ["-filter_complex", graph]
    if case.endswith("x264"):
        return command + X264 + [str(output)]
    return command + ["-f", "null", "-"]


def run_child(command: list[str]) -> tuple[str, int, float]:
    """Runs ``command``; returns its stdout+stderr, exit code and peak RSS in MB."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    return output, os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024  # Linux reports KiB


def measure(case: str, clip: Path, offset: int, frame_count: int, competitor: Path | None) -> dict | str:
    """One run of a case in a child process: frames, seconds, fps, peak RSS; or why it was skipped."""
    if case.startswith(("decode-ffmpeg", "tmix", "blend")):
        if shutil.which("ffmpeg") is None:
            return "ffmpeg is not installed (--install-ffmpeg installs Debian's)"
        with tempfile.TemporaryDirectory() as folder:
            name = "decode" if case == "decode-ffmpeg" else case
            output, code, rss = run_child(ffmpeg_command(name, clip, offset, Path(folder) / "out.mp4"))
        match = re.search(r"rtime=([\d.]+)s", output)
        if code != 0 or match is None:
            raise SystemExit(f"bench: ffmpeg case {case} failed:\n{output}")
        result = {"frames": frame_count, "seconds": float(match.group(1))}
    else:
        if case == "competitor" and competitor is None:
            return "no --competitor DIR given"
        command = [sys.executable, __file__, "--worker", case, "--clip", str(clip), "--offset", str(offset)]
        if competitor is not None:
            command += ["--competitor", str(competitor)]
        output, code, rss = run_child(command)
        if code != 0:
            if case.startswith("vse") and "No module named 'bpy'" in output:
                return "the bpy module is not installed"
            raise SystemExit(f"bench: case {case} failed with exit code {code}:\n{output[-3000:]}")
        result = json.loads(output.strip().splitlines()[-1])
    result["fps"] = result["frames"] / result["seconds"]
    result["rss_mb"] = rss
    return result


def median_of(runs: list[dict]) -> dict:
    return {
        "frames": runs[0]["frames"],
        "fps": statistics.median(run["fps"] for run in runs),
        "fps_all": [round(run["fps"], 1) for run in runs],
        "rss_mb": statistics.median(run["rss_mb"] for run in runs),
    }


# --- reporting ---------------------------------------------------------------------------------


def machine_description() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as info:
            kib = int(next(line.split()[1] for line in info if line.startswith("MemTotal")))
        memory = f", {kib / 2**20:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    import cv2
    import numpy

    versions = f"Python {platform.python_version()}, numpy {numpy.__version__}, OpenCV {cv2.__version__}"
    if shutil.which("ffmpeg"):
        first = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
        versions += ", " + " ".join(first.split()[:3])
    return f"{model}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}; {versions}"


def load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def table(rows: list[tuple], results: dict) -> str:
    lines = [
        "| clip | case | N | frames | fps (median) | runs | x decode | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, seconds, case, offset in rows:
        result = results[size, seconds, case, offset]
        where = f"{size} {seconds} s"
        label = CASE_BY_NAME[case].label
        shown_n = offset if CASE_BY_NAME[case].offsets else "-"
        if isinstance(result, str):
            lines.append(f"| {where} | {label} | {shown_n} | - | skipped: {result} | | | |")
            continue
        decode = results.get((size, seconds, "decode-opencv", 0))
        ratio = f"{result['fps'] / decode['fps']:.2f}" if isinstance(decode, dict) else "-"
        runs = " / ".join(str(fps) for fps in result["fps_all"])
        lines.append(
            f"| {where} | {label} | {shown_n} | {result['frames']} | {result['fps']:.1f} | {runs} | {ratio} "
            f"| {result['rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def targets(results: dict, sizes: list[str], lengths: list[int], offsets: list[int]) -> list[str]:
    def get(size, seconds, case, offset=0):
        result = results.get((size, seconds, case, offset))
        return result if isinstance(result, dict) else None

    lines = []

    def check(text: str, value: float, goal: float, at_least: bool = True) -> None:
        met = value >= goal if at_least else value <= goal
        sign = ">=" if at_least else "<="
        lines.append(f"- {text}: {value:.2f} (target {sign} {goal:g}): {'met' if met else 'MISSED'}")

    size = "1080p" if "1080p" in sizes else sizes[-1]
    for seconds in lengths:
        where = f"{size} {seconds} s"
        decode = get(size, seconds, "decode-opencv")
        for offset in offsets:
            ours, rival = get(size, seconds, "engine-mp4v", offset), get(size, seconds, "competitor", offset)
            null = get(size, seconds, "engine-null", offset)
            if ours and rival:
                check(f"{where} N={offset}: mp4v fps / competitor fps", ours["fps"] / rival["fps"], 1.3)
                if offset == max(offsets):
                    check(f"{where} N={offset}: mp4v peak RSS / competitor's", ours["rss_mb"] / rival["rss_mb"], 0.75,
                          at_least=False)
                    lean = get(size, seconds, "engine-mp4v-lean", offset)
                    if lean:
                        check(f"{where} N={offset}: mp4v with two heads, peak RSS / competitor's",
                              lean["rss_mb"] / rival["rss_mb"], 0.75, at_least=False)
            if null and decode:
                check(f"{where} N={offset}: null sink fps / OpenCV decode fps", null["fps"] / decode["fps"], 0.6)
            tmix = get(size, seconds, "tmix-null", offset)
            if null and tmix:
                check(f"{where} N={offset}: null sink fps / ffmpeg tmix null fps", null["fps"] / tmix["fps"],
                      3 if offset == 1 else 10)
            tmix_file = get(size, seconds, "tmix-x264", offset)
            if ours and tmix_file:
                lines.append(f"  - same, writing a file: mp4v / tmix to x264 = {ours['fps'] / tmix_file['fps']:.2f}")
            for case in ("engine-null", "engine-mp4v"):
                result = get(size, seconds, case, offset)
                if result and offset == max(offsets):
                    check(f"{where} N={offset}: {case} peak RSS in MB", result["rss_mb"], 400, at_least=False)
        vse, graph = get(size, seconds, "vse-off"), get(size, seconds, "blend-x264", 1)
        if vse and graph:
            check(f"{where}: VSE to H.264 fps / ffmpeg blend graph to x264 fps", vse["fps"] / graph["fps"], 1.0)
    if len(lengths) > 1:
        shortest, longest = min(lengths), max(lengths)
        for size in sizes:
            for case in ("engine-null", "engine-mp4v", "engine-mjpg"):
                for offset in offsets:
                    short, long = get(size, shortest, case, offset), get(size, longest, case, offset)
                    if short and long:
                        check(f"{size} {case} N={offset}: peak RSS {longest} s / {shortest} s",
                              long["rss_mb"] / short["rss_mb"], 1.10, at_least=False)
    return lines


def draw_chart(path: Path, rows: list[tuple], results: dict, title: str) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no chart: matplotlib is not installed (pip install -c requirements.txt -r requirements-bench.txt)"
    shown = [(row, results[row]) for row in rows if isinstance(results[row], dict)]
    labels = [
        f"{CASE_BY_NAME[case].label}" + (f", N={offset}" if CASE_BY_NAME[case].offsets else "")
        for (_, _, case, offset), _ in shown
    ]
    colours = [
        "#2a7ab9" if case.startswith("engine") else "#8c8c8c" if case.startswith("decode") else
        "#e08a1e" if case.startswith("vse") else "#b04a4a"
        for (_, _, case, _), _ in shown
    ]
    figure, (fps_axis, rss_axis) = plt.subplots(1, 2, figsize=(13, 0.32 * len(shown) + 1.6), sharey=True)
    positions = range(len(shown))
    fps_axis.barh(positions, [result["fps"] for _, result in shown], color=colours)
    fps_axis.set_xscale("log")
    fps_axis.set_xlabel("frames per second (log scale, higher is better)")
    rss_axis.barh(positions, [result["rss_mb"] for _, result in shown], color=colours)
    rss_axis.set_xlabel("peak RSS, MB (lower is better)")
    fps_axis.set_yticks(list(positions), labels, fontsize=8)
    fps_axis.invert_yaxis()
    for axis, key, fmt in ((fps_axis, "fps", "{:.0f}"), (rss_axis, "rss_mb", "{:.0f}")):
        for position, (_, result) in zip(positions, shown, strict=True):
            axis.text(result[key], position, " " + fmt.format(result[key]), va="center", fontsize=7)
        axis.grid(axis="x", alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return f"chart: {path}"


def plan(args: argparse.Namespace) -> list[tuple]:
    rows = []
    shortest = min(args.seconds)
    for size in args.sizes:
        for seconds in args.seconds:
            for case in CASES:
                if args.quick and not case.quick:
                    continue
                if args.cases and case.name not in args.cases:
                    continue
                if seconds != shortest and (case.short_only or (case.slow and not args.all_lengths)):
                    continue
                for offset in (args.offsets if case.offsets else [0]):
                    rows.append((size, seconds, case.name, offset))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["720p", "1080p"], choices=sorted(SIZES))
    parser.add_argument("--seconds", nargs="+", type=int, default=[10, 60])
    parser.add_argument("--offsets", nargs="+", type=int, default=[1, 30])
    parser.add_argument("--cases", nargs="+", choices=[case.name for case in CASES], help="run only these cases")
    parser.add_argument("--quick", action="store_true", help="1080p 10 s only, fewer rows")
    parser.add_argument("--all-lengths", action="store_true", help="run the slow rows on every clip length too")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the table shows the median")
    parser.add_argument("--competitor", type=Path, help="a checkout of Gabriel-Kahen/motion-extraction")
    parser.add_argument("--chart", type=Path, default=REPO_ROOT / "docs" / "benchmarks.png")
    parser.add_argument("--install-ffmpeg", action="store_true", help="apt-get install Debian's ffmpeg if missing")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--clip", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.clip, args.offset, args.competitor)))
        return 0
    if args.quick:
        args.sizes, args.seconds = ["1080p"], [10]
    if args.competitor is not None and not (args.competitor / "motion_extraction.py").is_file():
        print(f"bench: {args.competitor} has no motion_extraction.py; the competitor rows are skipped", file=sys.stderr)
        args.competitor = None
    if args.install_ffmpeg and shutil.which("ffmpeg") is None:
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "ffmpeg"], check=False)

    import cv2

    rows = plan(args)
    results: dict = {}
    print(f"machine: {machine_description()}")
    print(f"load average at start: {load()}")
    began = time.monotonic()
    for size, seconds in dict.fromkeys((row[0], row[1]) for row in rows):
        print(f"preparing {size} {seconds} s clip...", file=sys.stderr)
        clip = generate_clip(size, seconds)
        capture = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
        frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        capture.release()
        for row in [row for row in rows if row[:2] == (size, seconds)]:
            case, offset = row[2], row[3]
            runs = []
            for attempt in range(args.repeat):
                print(f"  {size} {seconds}s {case} N={offset} run {attempt + 1}...", file=sys.stderr)
                result = measure(case, clip, offset, frame_count, args.competitor)
                if isinstance(result, str):
                    print(f"    skipped: {result}", file=sys.stderr)
                    runs = result
                    break
                runs.append(result)
            results[row] = runs if isinstance(runs, str) else median_of(runs)
    print(f"load average at end: {load()}; {time.monotonic() - began:.0f} s in all; {args.repeat} run(s) per row")
    print()
    print(table(rows, results))
    print("\ntargets:")
    print("\n".join(targets(results, args.sizes, sorted(set(args.seconds)), args.offsets)) or "- (no pair measured)")
    chart_rows = [row for row in rows if row[:2] == ("1080p" if "1080p" in args.sizes else args.sizes[-1],
                                                        min(args.seconds))]
    title = f"{chart_rows[0][0]} {chart_rows[0][1]} s H.264 clip, {os.cpu_count()} cores" if chart_rows else ""
    if args.chart and chart_rows:
        print(draw_chart(args.chart, chart_rows, results, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
