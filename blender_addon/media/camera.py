"""Live sources with OpenCV: cameras (an index or ``/dev/videoN``), and files or streams played as if live.

The live viewer reads through ``cv2.VideoCapture``, which opens cameras on every platform;
files rendered by the command line are read by ``media.movie`` instead.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from .paths import MAX_PLAUSIBLE_FPS, MediaError, is_url
from .sequence import opencv_quiet

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
        ok, frame = capture.read()
    if not ok or frame is None:
        capture.release()
        raise MediaError(f"camera {camera} is busy or gives no frames" if camera is not None else f"{spec}: no frames")
    fps = capture.get(cv2.CAP_PROP_FPS)
    usable = fps if math.isfinite(fps) and 0 < fps <= MAX_PLAUSIBLE_FPS else None
    kind = "camera" if camera is not None else "stream" if is_url(spec) else "file"
    return OpenedSource(capture, frame, usable, kind)
