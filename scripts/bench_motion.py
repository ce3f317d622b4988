"""Issue 13's figures for ``bench.py --motion``: what the measures cost a render, and how fast the flow look runs.

- measures: the 1080p 10 s H.264 clip rendered to H.264 (bench.py's x264 settings) with and without
  the measures of two regions, alternating, each ``repeat`` times (median); and the measures' own
  cost per 1080p frame from frames in memory, step by step (the profile);
- flow look: frames per second of the look's render from frames in memory, at 1080p and 640x360,
  and of the whole render of the 1080p clip to H.264 with ``--look flow``;
- flow methods: OpenCV's DIS at each preset and Farneback, per 1080p and 640x360 pair, with the speed
  they read back on a known pan of (3, -2) pixels per frame (error in percent).

Run in a child of bench.py (``--worker motion``) so that nothing else shares its process.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from pathlib import Path

MEASURES_TARGET = 10.0  # percent of the render's time
FLOW_TARGETS = {"1080p": 10.0, "640x360": 60.0}  # frames per second
SIZES = {"1080p": (1920, 1080), "640x360": (640, 360)}
REGIONS = ("left=0,0,960,1080", "centre=480,270,960,540")


def _render(clip: Path, settings, writer_options: dict, measure: bool, regions: tuple[str, ...] = ()
            ) -> tuple[float, float, float]:
    """Wall and CPU seconds (all of the process's threads) to render ``clip`` to an H.264 file (with the
    measures of the whole frame and ``regions`` when ``measure``), and the CPU seconds the measures took
    (their own thread's time, in the render)."""
    from blender_addon import media
    from blender_addon.core.engine import extract_motion
    from blender_addon.core.measures import MotionMeasures, parse_region

    source = media.open_source(clip)
    measures = MotionMeasures(settings, (source.height, source.width), [parse_region(text) for text in regions])
    spent = [0.0]

    def timed(motion, flow) -> None:
        began = time.thread_time()
        measures(motion, flow)
        spent[0] += time.thread_time() - began

    began, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        with media.open_writer(Path(folder) / "out.mp4", source.rate, source.width, source.height,
                               **writer_options) as writer:
            for frame in extract_motion(source, settings, measure=timed if measure else None):
                writer.write(frame)
    return time.perf_counter() - began, time.process_time() - cpu, spent[0]


def measure_profile(frames: int = 12) -> dict[str, float]:
    """Milliseconds per 1080p frame of each step of the measures (two regions), from frames in memory."""
    import cv2
    import numpy as np

    from blender_addon.core.effect import MotionEffect
    from blender_addon.core.measures import MotionMeasures, parse_region
    from blender_addon.core.plan import resolve
    from blender_addon.core.sample_clip import SampleClip
    from blender_addon.core.settings import Settings
    from blender_addon.core.timing import COMBINE

    clip = SampleClip(width=1920, height=1080, frame_count=frames + 1, fps=30)
    pictures = [clip.frame(index) for index in range(frames + 1)]
    settings = Settings()
    effect = MotionEffect(resolve(settings, pictures[0].shape))
    motions = [effect.render(pictures[index], (pictures[index - 1],), COMBINE).copy() for index in range(1, frames + 1)]
    measures = MotionMeasures(settings, pictures[0].shape, [parse_region(text) for text in REGIONS])

    def per_frame(step) -> float:  # CPU time of the process: what the step costs, whatever else the machine runs
        step(motions[0])
        times = []
        for motion in motions:
            began = time.process_time()
            step(motion)
            times.append(time.process_time() - began)
        return 1000 * statistics.mean(times)

    gray = measures.motion_picture(motions[0]).copy()
    mask = cv2.threshold(gray, 12, 1, cv2.THRESH_BINARY)[1]
    return {
        "all measures": per_frame(lambda motion: measures(motion, None)),
        "luma and deviation (cvtColor, absdiff)": per_frame(measures.motion_picture),
        "column and row sums of the frame (numpy)": per_frame(lambda motion: [
            np.add.reduce(gray, axis=axis, dtype=np.uint32) for axis in (0, 1)]),
        "threshold": per_frame(lambda motion: cv2.threshold(gray, 12, 1, cv2.THRESH_BINARY)),
        "count and bounding box of the frame": per_frame(
            lambda motion: (cv2.countNonZero(mask), cv2.boundingRect(mask))),
        "copy of the motion frame (for scale)": per_frame(np.copy),
    }


def flow_fps(size: str, frames: int = 16) -> tuple[float, float]:
    """Frames per second of the flow look's render at ``size``, from frames in memory: by the clock, and by
    the process's CPU time (what the machine gives when nothing else runs, for work on one core)."""
    from blender_addon.core.effect import MotionEffect
    from blender_addon.core.plan import resolve
    from blender_addon.core.sample_clip import SampleClip
    from blender_addon.core.settings import Settings
    from blender_addon.core.timing import COMBINE

    width, height = SIZES[size]
    clip = SampleClip(width=width, height=height, frame_count=frames + 1, fps=30)
    pictures = [clip.frame(index) for index in range(frames + 1)]
    effect = MotionEffect(resolve(Settings(look="flow"), pictures[0].shape))
    effect.render(pictures[1], (pictures[0],), COMBINE, (1, 0))
    began, cpu = time.perf_counter(), time.process_time()
    for index in range(2, frames + 1):
        effect.render(pictures[index], (pictures[index - 1],), COMBINE, (index, index - 1))
    return (frames - 1) / (time.perf_counter() - began), (frames - 1) / (time.process_time() - cpu)


def flow_methods() -> list[dict]:
    """ms per pair and speed error on a known pan, for each dense flow method OpenCV has, at both sizes."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(5)
    rows = []
    methods = {f"DIS {name}": (lambda preset: lambda a, b: cv2.DISOpticalFlow_create(preset).calc(a, b, None))(
        getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{name}")) for name in ("ULTRAFAST", "FAST", "MEDIUM")}
    def refined(a, b):
        flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        flow.setVariationalRefinementIterations(3)
        return flow.calc(a, b, None)

    methods["DIS ULTRAFAST + 3 refinement iterations (the look's)"] = refined
    methods["Farneback (0.5, 3, 15, 3, 5, 1.2)"] = lambda a, b: cv2.calcOpticalFlowFarneback(
        a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    for size, (width, height) in SIZES.items():
        texture = cv2.GaussianBlur(rng.integers(0, 256, (height + 100, width + 100), dtype=np.uint8), (0, 0), 2)
        pair = [cv2.warpAffine(texture, np.float32([[1, 0, -50 + 3 * t], [0, 1, -50 - 2 * t]]), (width, height))
                for t in range(2)]
        for name, method in methods.items():
            method(pair[1], pair[0])
            times = []
            for _ in range(3 if size == "1080p" else 8):
                began = time.perf_counter()
                flow = method(pair[1], pair[0])
                times.append(time.perf_counter() - began)
            centre = flow[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4]
            speed = float(np.hypot(centre[..., 0], centre[..., 1]).mean())
            rows.append({"size": size, "method": name, "ms": 1000 * statistics.median(times),
                         "error": 100 * (speed - math.hypot(3, 2)) / math.hypot(3, 2)})
    return rows


def motion_figures(clip: str, writer_options: dict, repeat: int = 3) -> dict:
    """Everything ``bench.py --motion`` prints (run in a worker)."""
    from blender_addon.core.settings import Settings

    path = Path(clip)
    plain, measured, regions = [], [], []
    for _ in range(repeat):  # alternating, so that a change in the machine's load touches all three
        plain.append(_render(path, Settings(), writer_options, measure=False))
        measured.append(_render(path, Settings(), writer_options, measure=True))
        regions.append(_render(path, Settings(), writer_options, measure=True, regions=REGIONS))
    flow_render = _render(path, Settings(look="flow"), writer_options, measure=True)[:2]
    from blender_addon import media

    frames = media.open_source(path).frame_count
    return {
        "frames": frames,
        "plain_s": statistics.median(run[0] for run in plain),
        "measured_s": statistics.median(run[0] for run in measured),
        "regions_s": statistics.median(run[0] for run in regions),
        "measured_own": statistics.median(run[2] for run in measured),
        "regions_own": statistics.median(run[2] for run in regions),
        "plain_cpu": statistics.median(run[1] for run in plain),
        "measured_cpu": statistics.median(run[1] for run in measured),
        "regions_cpu": statistics.median(run[1] for run in regions),
        "runs": [[run[0] for run in plain], [run[0] for run in measured], [run[0] for run in regions]],
        "profile": measure_profile(),
        "flow_fps": {size: flow_fps(size) for size in SIZES},
        "flow_render_fps": frames / flow_render[0],
        "flow_render_cpu_fps": frames / flow_render[1],
        "methods": flow_methods(),
    }


def print_motion_figures(figures: dict, load: str) -> None:
    frames = figures["frames"]
    plain = figures["plain_s"]
    runs = " / ".join(":".join(f"{seconds:.1f}" for seconds in run) for run in zip(*figures["runs"], strict=True))
    print(f"load average: {load}\n")
    plain_cpu = figures["plain_cpu"]
    print(f"1080p clip to H.264, {frames} frames: plain {frames / plain:.1f} fps, {1000 * plain_cpu / frames:.1f} "
          f"ms of CPU per frame; runs plain:measured:two regions {runs} s\n")
    print("The measures' share: their own CPU time in the render (the time of the thread that ran them) over the "
          "plain render's CPU time; beside it, what the render with measures took more than the plain one by the "
          "clock and by CPU time (both as noisy as the machine's load).\n")
    print("| target | measures' own CPU / render's CPU | more by the clock | more by CPU time | goal | verdict |\n"
          "|---|---|---|---|---|---|")
    for label, key in (("measures' share of the render (the whole frame)", "measured"),
                       ("the same with two regions (half and a quarter of the frame)", "regions")):
        seconds, cpu, own = figures[f"{key}_s"], figures[f"{key}_cpu"], figures[f"{key}_own"]
        wall_share, cpu_share = 100 * (seconds - plain) / plain, 100 * (cpu - plain_cpu) / plain_cpu
        share = 100 * own / plain_cpu
        print(f"| {label}: {1000 * own / frames:.2f} ms per frame | {share:.1f} % | {wall_share:.1f} % | "
              f"{cpu_share:.1f} % | <= {MEASURES_TARGET:.0f} % | {'met' if share <= MEASURES_TARGET else 'MISSED'} |")
    for size, (fps, cpu_fps) in figures["flow_fps"].items():
        goal = FLOW_TARGETS[size]
        print(f"| flow look, {size}, frames in memory | {fps:.1f} fps | {cpu_fps:.1f} fps | >= {goal:.0f} fps | "
              f"{'met' if max(fps, cpu_fps) >= goal else 'MISSED'} |")
    whole, whole_cpu = figures["flow_render_fps"], figures["flow_render_cpu_fps"]
    print(f"| flow look, 1080p clip to H.264 with its measures (whole render) | {whole:.1f} fps | {whole_cpu:.1f} fps "
          f"of CPU | >= {FLOW_TARGETS['1080p']:.0f} fps | {'met' if whole >= FLOW_TARGETS['1080p'] else 'MISSED'} |")
    print("\n| measures' step (1080p, two regions) | ms of CPU per frame |\n|---|---|")
    for step, ms in figures["profile"].items():
        print(f"| {step} | {ms:.2f} |")
    print("\n| flow method | size | ms per pair | speed read on a (3, -2) px pan |\n|---|---|---|---|")
    for row in figures["methods"]:
        print(f"| {row['method']} | {row['size']} | {row['ms']:.1f} | {row['error']:+.1f} % |")
