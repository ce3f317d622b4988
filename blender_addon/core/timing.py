"""Which input frames make each output frame: the time plan shared by every renderer.

For a clip of ``frame_count`` frames, output frame ``i`` is built from the current frame
``t`` and, when it has them, partner frames:

- shift mode, offset N: the partner is ``t - N``; with time colour, each channel has its own
  lag (``t - red_delay*N`` and so on), so a frame has one partner per distinct lag;
- freeze mode, reference K: the partner is ``K`` for every t;
- frames with a partner outside the clip (the first N frames for N > 0, the last |N| for
  N < 0; with time colour the largest lag counts) follow the ``edges`` policy: ``hold`` clamps
  each partner to the nearest frame that exists, ``source`` outputs ``t`` untouched, ``gray``
  outputs the flat still level, and ``trim`` drops them, so output frame ``i`` is input frame
  ``i + reach`` (lags > 0) or ``i`` (lags < 0).

``hold`` is the default: the output keeps the clip's length (so audio stays in sync), and
the first frames show motion against the first frame instead of flashing the raw clip.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from .settings import Settings

COMBINE = "combine"
SOURCE = "source"
STILL = "still"


@dataclass(frozen=True)
class FramePlan:
    """Output frame ``index`` is made of input frame ``frame`` and, for ``COMBINE``, ``partners``.

    ``partners`` lines up with ``Settings.partner_lags`` in shift mode, and is ``(K,)`` in freeze mode.
    """

    index: int
    frame: int
    partners: tuple[int, ...] | None
    fill: str  # COMBINE, SOURCE or STILL

    @property
    def partner(self) -> int | None:
        """The partner frame when there is exactly one."""
        return self.partners[0] if self.partners and len(self.partners) == 1 else None


def _leading_trim(settings: Settings) -> int:
    """Input frames dropped at the start by ``edges=trim``."""
    return max(0, max(settings.channel_lags))


def trail_decay(decay: float) -> tuple[int, ...]:
    """``q(m) = floor(m * decay)`` for m in 0..255 (in float64): the deviation a trail keeps of m one frame on."""
    return tuple(math.floor(level * decay) for level in range(256))


def trail_length(decay: float) -> int:
    """How many frames a deviation of 255 takes to fade to 0 under :func:`trail_decay`: the frames before a
    chunk's first that it renders and drops (its pre-roll) so that its trails equal a whole render's."""
    if decay <= 0:
        return 0
    table, level, steps = trail_decay(decay), 255, 0
    while level > 0:
        level, steps = table[level], steps + 1
    return steps


def paired_frames(settings: Settings, frame_count: int) -> range:
    """The input frames combined with partners: all of them in freeze mode and under ``edges=hold`` (which
    clamps partners into the clip), else those whose every partner lies in the clip."""
    if settings.mode == "freeze" or settings.edges == "hold":
        return range(frame_count)
    lags = settings.channel_lags
    return range(max(max(lags), 0), frame_count + min(min(lags), 0))


def output_size(settings: Settings, width: int, height: int) -> tuple[int, int]:
    """The output frame size (width, height) for a ``width`` x ``height`` clip: doubled for side by side or stacked."""
    if settings.layout == "side":
        return 2 * width, height
    if settings.layout == "stacked":
        return width, 2 * height
    return width, height


class FrameRangeError(ValueError):
    """Output frames asked for that the output does not have; the message says which it has."""


def frame_range(total: int, start: int = 0, stop: int | None = None) -> range:
    """Output frames ``start`` to ``stop - 1`` (to the end when ``stop`` is None) of an output ``total`` frames
    long: THE frame-range check of every renderer, raising :class:`FrameRangeError` when the range is empty
    or reaches outside the output."""
    stop = total if stop is None else stop
    if not 0 <= start < stop <= total:
        raise FrameRangeError(f"frame range {start}:{stop} is outside the output (frames 0 to {total - 1})")
    return range(start, stop)


def output_frame_count(settings: Settings, frame_count: int) -> int:
    """How many frames the output of a ``frame_count``-frame clip has (checks the settings against the clip)."""
    settings.validate_for_clip(frame_count)
    if settings.mode == "shift" and settings.edges == "trim":
        return frame_count - settings.reach
    return frame_count


def plan_frame(settings: Settings, frame_count: int, index: int) -> FramePlan:
    """The plan of output frame ``index`` (assumes ``settings.validate_for_clip`` passed)."""
    if settings.mode == "freeze":
        return FramePlan(index, index, (settings.reference,), COMBINE)
    frame = index + _leading_trim(settings) if settings.edges == "trim" else index
    partners = tuple(frame - lag for lag in settings.partner_lags)
    if all(0 <= partner < frame_count for partner in partners):
        return FramePlan(index, frame, partners, COMBINE)
    if settings.edges == "hold":
        return FramePlan(index, frame, tuple(min(max(p, 0), frame_count - 1) for p in partners), COMBINE)
    if settings.edges == "source":
        return FramePlan(index, frame, None, SOURCE)
    if settings.edges == "gray":
        return FramePlan(index, frame, None, STILL)
    raise AssertionError(f"frame {frame} has no partner under edges=trim")  # pragma: no cover


def plan_frames(settings: Settings, frame_count: int, start: int = 0, stop: int | None = None) -> Iterator[FramePlan]:
    """Plans of output frames ``start`` to ``stop - 1`` (a half-open range, like a Python slice)."""
    for index in frame_range(output_frame_count(settings, frame_count), start, stop):
        yield plan_frame(settings, frame_count, index)


def output_range(settings: Settings, frame_count: int, first: int, stop: int) -> range:
    """The output frames whose input frames lie in ``[first, stop)``: what a strip trimmed to those frames shows.

    Partners may come from outside that range (the rest of the clip), as the sequencer rig takes them.
    """
    total = output_frame_count(settings, frame_count)
    lead = _leading_trim(settings) if settings.mode == "shift" and settings.edges == "trim" else 0
    return range(max(first - lead, 0), min(stop - lead, total))


@dataclass(frozen=True)
class Span:
    """A half-open range of frames ``[start, end)``: the scene frames a strip covers, or the output frames of
    a chunk; ``name`` says whose, for messages (a chunk's file name)."""

    start: int
    end: int
    name: str = ""

    def __bool__(self) -> bool:
        return self.end > self.start

    def __len__(self) -> int:
        return max(self.end - self.start, 0)

    def shifted(self, frames: int) -> Span:
        return Span(self.start + frames, self.end + frames, self.name)

    def within(self, other: Span) -> Span:
        return Span(max(self.start, other.start), min(self.end, other.end), self.name)
