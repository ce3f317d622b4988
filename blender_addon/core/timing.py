"""Which input frames make each output frame: the time plan shared by every renderer.

For a clip of ``frame_count`` frames, output frame ``i`` is built from the current frame
``t`` and, when it has one, a partner frame ``p``:

- shift mode, offset N: ``p = t - N``; freeze mode, reference K: ``p = K`` for every t;
- frames whose partner falls outside the clip (the first N frames for N > 0, the last |N|
  for N < 0) follow the ``edges`` policy: ``hold`` clamps ``p`` to the nearest frame that
  exists, ``source`` outputs ``t`` untouched, ``gray`` outputs the flat still level, and
  ``trim`` drops them, so output frame ``i`` is input frame ``i + N`` (N > 0) or ``i`` (N < 0).

``hold`` is the default: the output keeps the clip's length (so audio stays in sync), and
the first frames show motion against the first frame instead of flashing the raw clip.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .settings import Settings

COMBINE = "combine"
SOURCE = "source"
STILL = "still"


@dataclass(frozen=True)
class FramePlan:
    """Output frame ``index`` is made of input frame ``frame`` and, for ``COMBINE``, ``partner``."""

    index: int
    frame: int
    partner: int | None
    fill: str  # COMBINE, SOURCE or STILL


def output_frame_count(settings: Settings, frame_count: int) -> int:
    settings.validate_for_clip(frame_count)
    if settings.mode == "shift" and settings.edges == "trim":
        return frame_count - abs(settings.offset)
    return frame_count


def plan_frame(settings: Settings, frame_count: int, index: int) -> FramePlan:
    """The plan of output frame ``index`` (assumes ``settings.validate_for_clip`` passed)."""
    if settings.mode == "freeze":
        return FramePlan(index, index, settings.reference, COMBINE)
    lag = settings.offset
    frame = index + lag if (settings.edges == "trim" and lag > 0) else index
    partner = frame - lag
    if 0 <= partner < frame_count:
        return FramePlan(index, frame, partner, COMBINE)
    if settings.edges == "hold":
        return FramePlan(index, frame, min(max(partner, 0), frame_count - 1), COMBINE)
    if settings.edges == "source":
        return FramePlan(index, frame, None, SOURCE)
    if settings.edges == "gray":
        return FramePlan(index, frame, None, STILL)
    raise AssertionError(f"frame {frame} has no partner under edges=trim")  # pragma: no cover


def plan_frames(settings: Settings, frame_count: int, start: int = 0, stop: int | None = None) -> Iterator[FramePlan]:
    """Plans of output frames ``start`` to ``stop - 1`` (a half-open range, like a Python slice)."""
    total = output_frame_count(settings, frame_count)
    stop = total if stop is None else stop
    if not 0 <= start < stop <= total:
        raise ValueError(f"frame range {start}:{stop} is outside the output (frames 0 to {total - 1})")
    for index in range(start, stop):
        yield plan_frame(settings, frame_count, index)
