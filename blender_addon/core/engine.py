"""The exact engine: frames in, motion frames out, streaming with bounded memory.

A :class:`FrameSource` opens independent sequential *read heads*. The engine walks the time
plan (:mod:`.timing`) and gets each frame pair in one of two ways, with byte-identical results:

- **window**: one read head and a window of the last |N|+1 decoded frames, which is all a
  shift by N ever needs at once;
- **two heads**: when that window would exceed the memory budget (and always in freeze
  mode), a second read head runs |N| frames behind (or ahead of) the first, or sits on the
  reference frame, so only two frames are held.

Nothing here knows about files or Blender; the OpenCV readers live in ``video_io``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .pixels import Combiner, still_frame
from .settings import Settings
from .timing import COMBINE, SOURCE, FramePlan, output_frame_count, plan_frames

DEFAULT_MAX_MEMORY = 1 << 30  # bytes of decoded frames the window may hold


class FrameSource(Protocol):
    """Anything with a known frame count and shape that can open sequential read heads."""

    frame_count: int
    width: int
    height: int

    def read_from(self, start: int) -> Iterator[np.ndarray]:
        """A new, independent read head yielding frames ``start``, ``start + 1``, ... as (H, W, 3) uint8."""
        ...


class SourceEndedEarly(Exception):
    """The source stopped delivering frames before its reported frame count."""

    def __init__(self, frames_read: int, frame_count: int) -> None:
        super().__init__(f"decoding stopped at frame {frames_read} of {frame_count}")
        self.frames_read = frames_read
        self.frame_count = frame_count


@dataclass
class EngineStats:
    """What a render did, for progress, tests and benchmarks."""

    strategy: str = ""
    frames_out: int = 0
    frames_decoded: int = 0
    max_frames_held: int = 0
    heads_opened: int = 0


def frame_bytes(source: FrameSource) -> int:
    return source.width * source.height * 3


def choose_strategy(settings: Settings, source: FrameSource, max_memory: int = DEFAULT_MAX_MEMORY) -> str:
    """``"window"`` when |N|+1 decoded frames fit in ``max_memory`` bytes, else ``"two-heads"``."""
    if settings.mode == "freeze":
        return "two-heads"
    needed = (abs(settings.offset) + 1) * frame_bytes(source)
    return "window" if needed <= max_memory else "two-heads"


class _Head:
    """One sequential read head that hands out frames at non-decreasing indices."""

    def __init__(self, source: FrameSource, start: int, stats: EngineStats) -> None:
        self._frames = source.read_from(start)
        self._frame_count = source.frame_count
        self._stats = stats
        self.position = start  # index of the next frame the head will read
        stats.heads_opened += 1

    def next_frame(self) -> np.ndarray:
        try:
            frame = next(self._frames)
        except StopIteration:
            raise SourceEndedEarly(self.position, self._frame_count) from None
        self.position += 1
        self._stats.frames_decoded += 1
        return frame

    def close(self) -> None:
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()


class _Window:
    """Frames [lowest needed, highest needed] from one head; at most |N|+1 of them."""

    def __init__(self, head: _Head, stats: EngineStats) -> None:
        self._head = head
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._stats = stats

    def frames(self, low: int, high: int) -> dict[int, np.ndarray]:
        while self._frames and next(iter(self._frames)) < low:
            self._frames.popitem(last=False)
        while self._head.position <= high:
            index = self._head.position
            frame = self._head.next_frame()
            if index >= low:
                self._frames[index] = frame
        self._stats.max_frames_held = max(self._stats.max_frames_held, len(self._frames))
        return self._frames


class _Cursor:
    """The frame at a non-decreasing index from its own head; holds one frame."""

    def __init__(self, head: _Head) -> None:
        self._head = head
        self.index = -1
        self.frame: np.ndarray | None = None

    def get(self, index: int) -> np.ndarray:
        while self.index < index:
            self.frame = None  # let the old frame go before decoding the next
            self.frame = self._head.next_frame()
            self.index = self._head.position - 1
        assert self.frame is not None and self.index == index, "cursor indices must not decrease"
        return self.frame


def extract_motion(
    source: FrameSource,
    settings: Settings,
    start: int = 0,
    stop: int | None = None,
    max_memory: int = DEFAULT_MAX_MEMORY,
    stats: EngineStats | None = None,
) -> Iterator[np.ndarray]:
    """Yield output frames ``start`` to ``stop - 1`` of the motion clip.

    Each yielded array is valid until the next one is requested (buffers are reused):
    copy it to keep it. Raises :class:`~.settings.SettingsError` for settings that do not
    fit the clip and :class:`SourceEndedEarly` when the source delivers too few frames.
    Every output frame is the same whatever ``start``, ``stop`` and ``max_memory`` are.
    """
    stats = stats if stats is not None else EngineStats()
    total = output_frame_count(settings, source.frame_count)
    stop = total if stop is None else stop
    plan_iter = plan_frames(settings, source.frame_count, start, stop)
    first = next(plan_iter)
    shape = (source.height, source.width, 3)
    combiner = Combiner(settings, shape)
    out = np.empty(shape, dtype=np.uint8)
    still = None
    stats.strategy = choose_strategy(settings, source, max_memory)
    heads: list[_Head] = []
    try:
        if stats.strategy == "window":
            head = _Head(source, max(0, min(first.frame, first.frame - settings.lag)), stats)
            heads.append(head)
            window = _Window(head, stats)

            lag, last = settings.lag, source.frame_count - 1

            def pair(plan: FramePlan) -> tuple[np.ndarray, np.ndarray | None]:
                # Keep what later frames will need even when this one has no partner (edges).
                low = max(0, min(plan.frame, plan.frame - lag))
                high = min(last, max(plan.frame, plan.frame - lag))
                frames = window.frames(low, high)
                return frames[plan.frame], None if plan.partner is None else frames[plan.partner]
        else:
            current = _Cursor(_Head(source, first.frame, stats))
            heads.append(current._head)
            partner_cursor: _Cursor | None = None

            def pair(plan: FramePlan) -> tuple[np.ndarray, np.ndarray | None]:
                nonlocal partner_cursor
                frame = current.get(plan.frame)
                if plan.partner is None:
                    return frame, None
                if partner_cursor is None:
                    partner_cursor = _Cursor(_Head(source, plan.partner, stats))
                    heads.append(partner_cursor._head)
                stats.max_frames_held = 2
                return frame, partner_cursor.get(plan.partner)

        plan: FramePlan | None = first
        while plan is not None:
            frame, partner = pair(plan)
            if plan.fill == COMBINE:
                result = combiner.combine(frame, partner, out)
            elif plan.fill == SOURCE:
                result = frame
            else:
                if still is None:
                    still = still_frame(settings, shape)
                result = still
            stats.frames_out += 1
            yield result
            del frame, partner, result  # hold no decoded frame while the heads read on
            plan = next(plan_iter, None)
    finally:
        for head in heads:
            head.close()
