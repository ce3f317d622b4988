"""Helpers for the engine tests: a frame source over frames already in memory."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class FrameList:
    """A ``core.engine.FrameSource`` over decoded frames already in memory."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        if not frames:
            raise ValueError("FrameList needs at least one frame")
        self.frames = frames
        self.frame_count = len(frames)
        self.height, self.width = frames[0].shape[:2]

    def read_from(self, start: int) -> Iterator[np.ndarray]:
        yield from self.frames[start:]
