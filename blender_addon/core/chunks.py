"""Chunks of a render: where to cut it for parallel processes, and whether given chunks fit back together.

A chunk is a half-open range of output frames ``[first, stop)``, as ``--frames A:B`` renders it.
Every chunk equals the same frames of a whole render because it starts its stages early (its
*pre-roll*) and drops what it did not ask for; that pre-roll is work the chunk does on top of
its own frames, so :func:`split_for_jobs` counts it when it balances chunks between processes:

- trails: the frames a trail can still reach back (``timing.trail_length``) are rendered and dropped;
- partners: the |N| input frames before the first one (after the last one for N < 0), or the
  reference frame in freeze mode, are decoded and not rendered.

:func:`check_coverage` is the one test of whether chunks make a render: no gap, no overlap, nothing
missing at either end, with every problem named in frames. Nothing here touches files.
"""

from __future__ import annotations

from collections.abc import Sequence

from .settings import Settings
from .timing import Span, trail_length

# What decoding a frame costs next to rendering one, in the looks worth splitting (glow, trails):
# 1080p H.264 decodes at ~2 ms a frame, a glow of radius 10 renders at ~140 ms.
DECODE_COST = 0.05


class CoverageError(ValueError):
    """Chunks leave a gap, overlap, or miss frames at an end; the message names the frames."""


def _frames(first: int, stop: int) -> str:
    """``frame 5`` or ``frames 5 to 9`` for the half-open range ``[first, stop)``."""
    return f"frame {first}" if stop - first == 1 else f"frames {first} to {stop - 1}"


def _them(first: int, stop: int) -> str:
    return "it" if stop - first == 1 else "them"


def _missing(first: int, stop: int) -> str:
    return f"{_frames(first, stop)} {'is' if stop - first == 1 else 'are'} missing"


def check_coverage(spans: Sequence[Span], first: int, stop: int) -> list[Span]:
    """The spans in frame order, when together they hold each frame of ``[first, stop)`` exactly once.

    Raises :class:`CoverageError` naming the first problem: a gap between two chunks, an overlap,
    frames missing before the first chunk or after the last, or frames beyond the render.
    """
    if not spans:
        raise CoverageError("no chunks given")
    ordered = sorted(spans, key=lambda span: (span.start, span.end))
    if ordered[0].start > first:
        raise CoverageError(f"{_missing(first, ordered[0].start)}: no chunk holds {_them(first, ordered[0].start)} "
                            f"(the first is {ordered[0].name}, from frame {ordered[0].start})")
    if ordered[0].start < first:
        raise CoverageError(f"{ordered[0].name} starts at frame {ordered[0].start}, before the render's first "
                            f"frame {first}")
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start > before.end:
            raise CoverageError(f"{_missing(before.end, after.start)}: a gap between {before.name} "
                                f"(to frame {before.end - 1}) and {after.name} (from frame {after.start})")
        if after.start < before.end:
            raise CoverageError(f"{before.name} and {after.name} overlap at "
                                f"{_frames(after.start, min(before.end, after.end))}")
    last = ordered[-1]
    if last.end < stop:
        raise CoverageError(f"{_missing(last.end, stop)}: no chunk holds {_them(last.end, stop)} "
                            f"(the last is {last.name}, to frame {last.end - 1})")
    if last.end > stop:
        raise CoverageError(f"{last.name} runs to frame {last.end - 1}, beyond the render's last frame {stop - 1}")
    return ordered


def preroll_cost(settings: Settings, start: int) -> float:
    """The work a chunk from output frame ``start`` does before its first frame, in rendered frames."""
    rendered = min(start, trail_length(settings.trails))
    decoded = 1 if settings.mode == "freeze" else min(start, settings.reach) if start else 0
    return rendered + DECODE_COST * decoded


def split_for_jobs(settings: Settings, first: int, stop: int, jobs: int) -> list[tuple[int, int]]:
    """``[first, stop)`` cut into at most ``jobs`` chunks of equal work, each chunk's pre-roll included.

    A chunk's work is its frames plus :func:`preroll_cost` at its start, so with long trails the
    later chunks are shorter than the first. Every chunk has at least one frame.
    """
    count = stop - first
    jobs = max(1, min(jobs, count))

    def cuts(budget: float) -> list[tuple[int, int]] | None:
        """Chunks of at most ``budget`` work each from the start; ``None`` when ``jobs`` of them fall short."""
        chunks, start = [], first
        while start < stop:
            if len(chunks) == jobs:
                return None
            size = max(1, int(budget - preroll_cost(settings, start)))
            chunks.append((start, min(stop, start + size)))
            start = chunks[-1][1]
        return chunks

    low, high = count / jobs, count + preroll_cost(settings, stop)
    best = cuts(high)
    for _ in range(50):  # bisect the budget: the smallest that needs no more than ``jobs`` chunks
        middle = (low + high) / 2
        found = cuts(middle)
        if found is None:
            low = middle
        else:
            high, best = middle, found
        if high - low < 0.5:
            break
    assert best is not None
    return best
