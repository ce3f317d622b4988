"""The live viewer's rhythm readout: the dominant frequency of the whole frame, or of a region dragged out with
the mouse, over the last seconds, in Hz and per minute.

:class:`RhythmReadout` reads each processed frame on a thread of its own (the optical flow and the refits of
the window take longer than a frame may), so the display never waits for it. A frame it had no time for, or
one the capture dropped, is filled in by a straight line between the frames on either side, so the window's
samples stay evenly spaced in the source's time. The window is refitted a few times a second of the source.
:class:`RegionDrag` turns a drag in the window into a rectangle of the frame.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.frequency import (
    FIRST_READING,
    MAX_SEGMENT_SECONDS,
    MIN_SEGMENT_FRAMES,
    Peak,
    RegionDisplacement,
    SlidingFrequency,
    refit_interval,
)
from ..core.rates import frames_from_seconds
from .capture import Captured, LatestFrame

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = 10.0  # seconds of the source the readout covers
MIN_WINDOW = 1.0
MAX_WINDOW = MAX_SEGMENT_SECONDS  # a refit's cost grows with the square of the window
MIN_REGION = 8  # pixels: a smaller drag is a click, not a region

Region = tuple[int, int, int, int]  # x, y, width, height in the frame's pixels


@dataclass(frozen=True)
class Reading:
    """What the readout shows: the region read (None: the whole frame), seconds of samples held, the latest peak."""

    region: Region | None
    held: float
    peak: Peak | None


def region_text(region: Region | None) -> str:
    return "whole frame" if region is None else f"region {region[2]}x{region[3]} at {region[0]},{region[1]}"


def reading_text(reading: Reading | None, seconds: float) -> str:
    """The overlay's line, such as ``rhythm (whole frame, last 10 s): 1.35 Hz = 81.0 /min``."""
    if reading is None:
        return f"rhythm (last {seconds:g} s): waiting for frames and the frame rate"
    head = f"rhythm ({region_text(reading.region)}, last {seconds:g} s): "
    peak = reading.peak
    if peak is None:
        return head + f"measuring ({reading.held:.0f} of {min(FIRST_READING, seconds):g} s)"
    if not peak.confident:
        return head + f"no clear rhythm (strength {peak.strength:.0f})"
    return head + f"{peak.hz:.3g} Hz = {peak.per_minute:.1f} /min (strength {peak.strength:.0f})"


class RhythmReadout:
    """The dominant frequency of a region over the last ``seconds`` of a live source, read on a thread.

    :meth:`push` hands it each processed frame (it waits for the thread only with ``keep_all``, as a file's
    frames are all processed); :meth:`set_region` picks the region (None: the whole frame), which starts the
    window afresh; :meth:`text` is the overlay's line. ``rate`` gives the source's frames per second (None
    while unknown). Use it as a context manager, or :meth:`start` and :meth:`close`.
    """

    def __init__(self, seconds: float, rate: Callable[[], float | None], keep_all: bool = False) -> None:
        self.seconds = seconds
        self._rate = rate
        self._slot = LatestFrame(keep_all)
        self._lock = threading.Lock()
        self._region: Region | None = None
        self._reading: Reading | None = None
        self._thread = threading.Thread(target=self._run, name="live-rhythm", daemon=True)
        self.error: Exception | None = None
        # The thread's own state.
        self._key: tuple | None = None  # frame shape, region and rate of the current window
        self._displacement: RegionDisplacement | None = None
        self._sliding: SlidingFrequency | None = None
        self._last: tuple[int, np.ndarray] | None = None  # index and displacement of the latest frame read
        self._length = 0  # samples the window holds at most
        self._held = 0  # samples it holds
        self._since_fit = 0  # samples since the last refit
        self._every = 1  # samples between refits
        self._seconds_per_frame = 0.0

    def __enter__(self) -> RhythmReadout:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Read the frames pushed so far, refit the window once more, and stop the thread."""
        self._slot.close()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def push(self, captured: Captured) -> None:
        self._slot.put(captured)

    @property
    def region(self) -> Region | None:
        with self._lock:
            return self._region

    def set_region(self, region: Region | None) -> None:
        with self._lock:
            self._region = region
            self._reading = None

    @property
    def reading(self) -> Reading | None:
        with self._lock:
            return self._reading

    def text(self) -> str:
        if self.error is not None:
            return f"rhythm: stopped ({self.error})"
        return reading_text(self.reading, self.seconds)

    def _run(self) -> None:
        try:
            while (captured := self._slot.take()) is not None:
                self._read(captured)
            if self._since_fit:
                self._fit()
        except Exception as error:  # the readout stops; the viewer goes on and shows why
            logger.debug("the rhythm readout stopped", exc_info=True)
            self.error = error

    def _read(self, captured: Captured) -> None:
        region = self.region
        key = (captured.frame.shape[:2], region)
        gap = 0 if self._last is None else captured.index - self._last[0]
        if key != self._key or not 0 < gap <= self._length:  # a new window (a long gap breaks the flow's chain)
            rate = self._rate()  # kept for the window: a measured rate wanders
            if rate is None:
                return
            self._start_window(key, captured.frame.shape, region, rate)
        position = self._displacement.add(captured.frame)[0]
        if self._last is None:
            self._sliding.add(position)
            gap = 1
        else:
            before = self._last[1]
            for step in range(1, gap + 1):  # frames not read: on a straight line between the two read
                self._sliding.add(before + (position - before) * step / gap)
        self._last = (captured.index, position)
        self._held = min(self._held + gap, self._length)
        self._since_fit += gap
        if self._since_fit >= self._every:
            self._fit()

    def _start_window(self, key: tuple, shape: tuple[int, ...], region: Region | None, rate: float) -> None:
        height, width = shape[:2]
        self._key, self._seconds_per_frame = key, 1 / rate
        self._displacement = RegionDisplacement(shape, [region or (0, 0, width, height)])
        self._sliding = SlidingFrequency(rate, self.seconds, min(FIRST_READING, self.seconds))
        self._length = max(MIN_SEGMENT_FRAMES, frames_from_seconds(self.seconds, rate))
        self._every = refit_interval(rate)
        self._last, self._since_fit, self._held = None, 0, 0

    def _fit(self) -> None:
        self._since_fit = 0
        peak = self._sliding.current()
        region = self._key[1]
        with self._lock:
            if self._region == region:  # not a reading of a region given up meanwhile
                self._reading = Reading(region, self._held * self._seconds_per_frame, peak)


# --- the region dragged out in the window ---------------------------------------------------------------


def frame_region(start: tuple[int, int], end: tuple[int, int], frame_size: tuple[int, int]) -> Region | None:
    """The rectangle of the frame that a drag from ``start`` to ``end`` (points of the view) covers; None for a
    click (a drag under :data:`MIN_REGION` pixels either way).

    The view is tiles of the frame's ``(width, height)`` (original and motion side by side, or stacked): the
    drag is read in the tile where it started, its end held to that tile.
    """
    width, height = frame_size
    left, top = (start[0] // width) * width, (start[1] // height) * height
    x0, y0 = start[0] - left, start[1] - top
    x1, y1 = min(max(end[0] - left, 0), width), min(max(end[1] - top, 0), height)
    x, y, w, h = min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)
    return (x, y, w, h) if w >= MIN_REGION and h >= MIN_REGION else None


class RegionDrag:
    """A rectangle being dragged out with the mouse in the view: :meth:`press`, :meth:`move`, :meth:`release`."""

    def __init__(self) -> None:
        self.start: tuple[int, int] | None = None
        self.end: tuple[int, int] | None = None

    def press(self, x: int, y: int) -> None:
        self.start = self.end = (x, y)

    def move(self, x: int, y: int) -> None:
        if self.start is not None:
            self.end = (x, y)

    def release(self, x: int, y: int, frame_size: tuple[int, int]) -> Region | None:
        """The region dragged out (None: a click, or no drag under way); the drag ends."""
        if self.start is None:
            return None
        start, self.start, self.end = self.start, None, None
        return frame_region(start, (x, y), frame_size)

    def rectangle(self, frame_size: tuple[int, int]) -> Region | None:
        """The region the drag would give if released now (to draw it)."""
        if self.start is None or self.end is None:
            return None
        return frame_region(self.start, self.end, frame_size)
