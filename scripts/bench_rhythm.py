"""The rhythm's figures for ``bench.py --rhythm``: what the live viewer's readout and Key Motion Data's rhythm keys
cost.

- displacement: the whole frame's displacement (``core.frequency.RegionDisplacement``: optical flow between
  consecutive frames at its working width) per frame, from frames in memory, at 640x480 and 1280x720;
- refit: one ``SlidingFrequency.current()`` over a full window of 5, 10, 30 and 60 s at 30 fps (the live
  readout and Key Motion Data refit four times a second of the source);
- keys: Key Motion Data's rhythm per frame at 1280x720 (``vse.motion_keys.FrameRhythm``, 10 s window, a 2 s
  loop of frames from memory, the frames once the window is full), refitted four times a second (now) and at
  every frame (as before);
- live: the display thread's CPU time per processed frame (``LivePipeline.step``, shift 1 gray; waiting for
  a frame costs none) with and without the readout (10 s), a camera stand-in serving a 2 s loop of frames
  (a part swinging at 1.5 Hz) from memory at 30 fps for ``LIVE_SECONDS``, and the readings the readout made.

Run in a child of bench.py (``--worker rhythm``) so that nothing else shares its process.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = {"640x480": (640, 480), "1280x720": (1280, 720)}
WINDOWS = (5.0, 10.0, 30.0, 60.0)
FPS = 30.0
LIVE_SECONDS = 8.0


def _frames(size: tuple[int, int], count: int) -> list:
    from tests.frequency_helpers import Swing, swinging_clip

    width, height = size
    swing = Swing(1.5, width // 3, height // 3, size=width // 5, amplitude=width / 80)  # 2 s: 3 whole swings
    return list(swinging_clip([swing], frames=count, size=(height, width), noise=3.0))


def displacement_ms(size: tuple[int, int], count: int = 60) -> float:
    """Median milliseconds per frame of the whole frame's displacement."""
    from blender_addon.core.frequency import RegionDisplacement

    frames = _frames(size, count)
    tracker = RegionDisplacement(frames[0].shape, [(0, 0, *size)])
    times = []
    for frame in frames:
        began = time.perf_counter()
        tracker.add(frame)
        times.append(time.perf_counter() - began)
    return 1000 * statistics.median(times[1:])


def refit_ms(seconds: float, repeat: int = 3) -> float:
    """Median milliseconds of one refit over a full window of ``seconds`` at :data:`FPS`."""
    import numpy as np

    from blender_addon.core.frequency import SlidingFrequency

    sliding = SlidingFrequency(FPS, seconds)
    rng = np.random.default_rng(0)
    for index in range(int(seconds * FPS)):
        sliding.add([3 * np.sin(2 * np.pi * 1.35 * index / FPS) + rng.normal(0, 0.3), 0.0])
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        sliding.current()
        times.append(time.perf_counter() - began)
    return 1000 * statistics.median(times)


class _Loop:
    """A frame source serving a loop of frames from memory (what ``FrameRhythm`` reads)."""

    def __init__(self, frames: list, count: int) -> None:
        self._frames, self.frame_count = frames, count
        self.height, self.width = frames[0].shape[:2]

    def read_from(self, first: int):
        return (self._frames[index % len(self._frames)] for index in range(first, self.frame_count))


def key_rhythm_ms(size: tuple[int, int], every_frame: bool, window: float = 10.0, timed: int = 60) -> float:
    """Mean milliseconds per frame of Key Motion Data's rhythm over ``timed`` frames once the window is full."""
    from blender_addon.vse.motion_keys import FrameRhythm

    full = int(window * FPS)
    rhythm = FrameRhythm(_Loop(_frames(size, 60), full + timed), FPS, 0, window)
    if every_frame:
        rhythm._every = 1
    try:
        for frame in range(full):
            rhythm.at(frame)
        began = time.perf_counter()
        for frame in range(full, full + timed):
            rhythm.at(frame)
        return 1000 * (time.perf_counter() - began) / timed
    finally:
        rhythm.close()


class _Camera:
    """Frames from memory at :data:`FPS`, in real time, for :data:`LIVE_SECONDS`."""

    def __init__(self, frames: list) -> None:
        self._frames, self._index, self._due = frames, 0, time.monotonic()

    def read(self):
        if self._index >= LIVE_SECONDS * FPS:
            return False, None
        self._due += 1 / FPS
        time.sleep(max(0.0, self._due - time.monotonic()))
        self._index += 1
        return True, self._frames[self._index % len(self._frames)]


def live_step_ms(size: tuple[int, int], window: float) -> dict:
    """The display thread's CPU milliseconds per processed frame (median and 99th percentile), the frames it
    dropped, and the readings the readout made (with ``window`` > 0)."""
    from blender_addon.core.settings import Settings
    from blender_addon.live.pipeline import LivePipeline

    pipeline = LivePipeline(_Camera(_frames(size, 60)), Settings(), source_fps=FPS, rhythm_window=window)
    times, readings, last = [], 0, None
    with pipeline:
        while not pipeline.finished:
            began = time.thread_time()
            frame = pipeline.step(timeout=0.5)
            if frame is not None:
                times.append(time.thread_time() - began)
            reading = pipeline.rhythm.reading if pipeline.rhythm is not None else None
            if reading is not None and reading is not last:
                readings, last = readings + 1, reading
        text = pipeline.rhythm.text() if pipeline.rhythm is not None else ""
    times.sort()
    return {"median": 1000 * statistics.median(times), "p99": 1000 * times[int(0.99 * (len(times) - 1))],
            "processed": pipeline.processed, "dropped": pipeline.dropped, "readings": readings, "text": text}


def rhythm_figures() -> dict:
    return {
        "displacement": {name: displacement_ms(size) for name, size in SIZES.items()},
        "refit": {seconds: refit_ms(seconds) for seconds in WINDOWS},
        "keys": {case: key_rhythm_ms(SIZES["1280x720"], case == "every frame")
                 for case in ("4 a second", "every frame")},
        "live": {name: {"without": live_step_ms(size, 0.0), "with": live_step_ms(size, 10.0)}
                 for name, size in SIZES.items()},
    }


def print_rhythm_figures(figures: dict, load: str) -> None:
    print(f"load average: {load}")
    print("\n| frame | displacement per frame (ms) |\n|---|---|")
    for name, value in figures["displacement"].items():
        print(f"| {name} | {value:.1f} |")
    print("\n| window at 30 fps | one refit (ms) |\n|---|---|")
    for seconds, value in figures["refit"].items():
        print(f"| {float(seconds):g} s | {value:.1f} |")
    print("\n| Key Motion Data's rhythm at 1280x720, 10 s window, refitted | per frame (ms) |\n|---|---|")
    for case, value in figures["keys"].items():
        print(f"| {case} | {value:.1f} |")
    print("\n| frame | readout | display thread's CPU per frame, median / 99th percentile (ms) | processed | dropped "
          "| readings | last reading (truth: 1.5 Hz) |\n|---|---|---|---|---|---|---|")
    for name, cases in figures["live"].items():
        for case, row in cases.items():
            print(f"| {name} | {case} | {row['median']:.1f} / {row['p99']:.1f} | {row['processed']} | "
                  f"{row['dropped']} | {row['readings']} | {row['text']} |")
