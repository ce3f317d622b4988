"""Frame rates as exact fractions, and times in seconds as whole frames: the one rule for every module.

A rate such as 29.97 is 30000/1001 everywhere (the exact engine, the sequencer's scene, the
command line's messages), so a time in seconds becomes the same frame whichever renderer
counts it.
"""

from __future__ import annotations

import math
from fractions import Fraction

DEFAULT_FPS = 25.0
MAX_PLAUSIBLE_FPS = 1000.0  # above this (or 0/NaN) a file's rate is junk and DEFAULT_FPS is used


def exact_rate(rate: Fraction | float) -> Fraction:
    """A frame rate as a fraction: 29.97 (or Blender's 29.97002997) becomes 30000/1001, 23.976
    becomes 24000/1001, 25.0 becomes 25, 12.5 becomes 25/2."""
    if isinstance(rate, Fraction):
        return rate
    ntsc = Fraction(round(rate * 1.001) * 1000, 1001)
    if ntsc.denominator != 1 and abs(float(ntsc) - rate) < 0.0005:
        return ntsc
    return Fraction(rate).limit_denominator(1001)


def usable_fps(fps: float) -> float | None:
    """``fps`` when it is a plausible frame rate (above 0, at most :data:`MAX_PLAUSIBLE_FPS`), else None."""
    return fps if fps == fps and 0 < fps <= MAX_PLAUSIBLE_FPS else None


def frames_from_seconds(seconds: float, rate: Fraction | float) -> int:
    """The whole number of frames nearest to ``seconds`` at ``rate`` frames per second (halves away from zero).

    ``seconds`` counts as the decimal it is written as (0.1 is 1/10, not the binary float just
    above it), so 0.5 s at 25 fps is exactly 12.5 frames and becomes 13.
    """
    exact = Fraction(repr(float(seconds))) * exact_rate(rate)
    whole = math.floor(abs(exact) + Fraction(1, 2))
    return whole if exact >= 0 else -whole


def rate_text(rate: Fraction | float) -> str:
    """A rate as people write it, to three decimals at most: ``25``, ``29.97``, ``59.94``, ``23.976``."""
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")


def blender_fps(rate: Fraction | float) -> tuple[int, float]:
    """Blender's scene ``(fps, fps_base)`` for a rate, whose quotient is the exact rate: 29.97 is (30, 1.001)."""
    ntsc = round(rate * 1.001)
    if abs(ntsc / 1.001 - rate) < 1e-3 and abs(round(rate) - rate) > 1e-3:
        return ntsc, 1.001
    fraction = exact_rate(rate)
    whole = max(1, round(fraction))
    return whole, whole / float(fraction)


def rate_of_blender_fps(fps: int, fps_base: float) -> Fraction:
    """The exact rate of Blender's scene ``(fps, fps_base)``, the inverse of :func:`blender_fps`."""
    return exact_rate(fps / fps_base)

