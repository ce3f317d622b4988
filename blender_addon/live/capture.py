"""Reading a live source: cameras (an index or ``/dev/videoN``), and files or streams played as if live, on a thread.

The live viewer reads through ``cv2.VideoCapture``, which opens cameras on every platform;
files rendered by the command line are read by ``media.movie`` instead. A
:class:`CaptureThread` reads frames as they come and leaves only the newest in a
:class:`LatestFrame` slot; a frame that replaces an unprocessed one is counted as dropped, so a
slow processor skips frames instead of falling behind the camera. A file is not live: its reader
waits for the processor instead, so every frame is shown.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from ..core.rates import usable_fps
from ..media.errors import MediaError
from ..media.names import is_url
from ..media.sequence import opencv_quiet
from .status import FpsMeter

_CAMERA_PATH = re.compile(r"/dev/video(\d+)")


@dataclass
class OpenedSource:
    """An opened live source, its first frame already read (which proves it delivers)."""

    capture: Any  # cv2.VideoCapture
    first_frame: np.ndarray
    fps: float | None  # as reported; None for 0 or junk
    kind: str  # "camera", "file" or "stream"


def camera_index(spec: str) -> int | None:
    """The camera index of ``3`` or ``/dev/video3``; None for files and URLs."""
    if spec.isdigit():
        return int(spec)
    match = _CAMERA_PATH.fullmatch(spec)
    return int(match.group(1)) if match else None


def open_live_source(spec: str) -> OpenedSource:
    """Open a camera (index or ``/dev/videoN``), a file or a stream URL; raise :class:`MediaError` with one line."""
    camera = camera_index(spec)
    if camera is None and not is_url(spec) and not os.path.exists(spec):
        raise MediaError(f"{spec}: no such file")
    with opencv_quiet():  # backends print their own failures; the RunError says it in one line
        capture = cv2.VideoCapture(camera) if camera is not None else cv2.VideoCapture(spec, cv2.CAP_FFMPEG)
        if not capture.isOpened():
            capture.release()
            what = f"no camera at index {camera}" if camera is not None else f"{spec}: cannot open it as video"
            raise MediaError(what)
        if camera is None:  # a file's display rotation (phone videos), as the command line applies it
            capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        ok, frame = capture.read()
    if not ok or frame is None:
        capture.release()
        raise MediaError(f"camera {camera} is busy or gives no frames" if camera is not None else f"{spec}: no frames")
    fps = capture.get(cv2.CAP_PROP_FPS)
    usable = usable_fps(fps)
    kind = "camera" if camera is not None else "stream" if is_url(spec) else "file"
    return OpenedSource(capture, frame, usable, kind)


class FrameReader(Protocol):
    """What the capture thread reads from: ``cv2.VideoCapture`` or anything with the same ``read``."""

    def read(self) -> tuple[bool, np.ndarray | None]: ...


@dataclass
class Captured:
    """A frame as the capture thread delivered it."""

    frame: np.ndarray
    index: int  # counted by the capture from 0, dropped frames included
    timestamp: float  # arrival time on the pipeline's clock


class LatestFrame:
    """A one-frame slot between the capture thread and the processing loop.

    A new frame replaces one that was not taken yet; the replaced frame counts as dropped.
    With ``keep_all``, :meth:`put` waits until the slot is free instead.
    """

    def __init__(self, keep_all: bool = False) -> None:
        self._condition = threading.Condition()
        self._item: Captured | None = None
        self._closed = False
        self._keep_all = keep_all
        self.dropped = 0

    def put(self, item: Captured) -> None:
        with self._condition:
            if self._keep_all:
                self._condition.wait_for(lambda: self._item is None or self._closed)
            if self._closed:
                return
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._condition.notify_all()

    def close(self) -> None:
        """No more frames will come (a waiting :meth:`put` gives up)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def take(self, timeout: float | None = None) -> Captured | None:
        """The newest frame, waiting up to ``timeout`` seconds; None when none came or the source ended."""
        with self._condition:
            self._condition.wait_for(lambda: self._item is not None or self._closed, timeout)
            item, self._item = self._item, None
            self._condition.notify_all()
            return item

    @property
    def finished(self) -> bool:
        """The source ended and its last frame was taken."""
        with self._condition:
            return self._closed and self._item is None


class CaptureThread(threading.Thread):
    """Reads ``reader`` until it ends or :meth:`stop` is called, timing each arrival; owns and releases the reader.

    ``pace`` (frames per second) holds a file or stream back to its own rate, as if it were a camera.
    """

    def __init__(
        self,
        reader: FrameReader,
        slot: LatestFrame,
        arrivals: FpsMeter,
        clock: Callable[[], float],
        pace: float | None = None,
        first_frame: np.ndarray | None = None,
    ) -> None:
        super().__init__(name="live-capture", daemon=True)
        self._reader, self._slot, self._arrivals, self._clock = reader, slot, arrivals, clock
        self._pace, self._first_frame = pace, first_frame
        self._stopping = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        due = time.monotonic()
        index = 0
        try:
            while not self._stopping.is_set():
                if self._pace:
                    self._stopping.wait(max(0.0, due - time.monotonic()))
                    due = max(due, time.monotonic()) + 1 / self._pace  # once behind, go on from now: no rushing
                if self._first_frame is not None:
                    ok, frame, self._first_frame = True, self._first_frame, None
                else:
                    ok, frame = self._reader.read()
                if not ok or frame is None or self._stopping.is_set():
                    break
                timestamp = self._clock()
                self._arrivals.tick(timestamp)
                self._slot.put(Captured(frame, index, timestamp))
                index += 1
        except Exception as error:  # a broken stream ends the capture; the pipeline reports it
            self.error = error
        finally:
            self._slot.close()
            release = getattr(self._reader, "release", None)
            if release is not None:
                release()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._slot.close()
        if self.is_alive():
            self.join(timeout)

