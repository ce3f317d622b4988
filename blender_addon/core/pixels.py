"""What each setting means to the pixel: the 8-bit exact contract, and a fast implementation of it.

For a frame ``A`` (the current frame, t) and its partner ``B`` (t-N, or the reference K),
every 8-bit channel value is computed in two stages:

1. **Combine**, by look:

   - ``gray``:       ``u = round_half_up(A * (1 - mix) + (255 - B) * mix)``
   - ``difference``: ``u = |A - B|``
   - ``subtract``:   ``u = max(A - B, 0)``

2. **Amplify** around the still level ``P`` (128 for gray, 0 otherwise):
   ``out = clip(round_half_up(P + amplify * (u - P)), 0, 255)``; ``amplify == 1`` leaves ``u`` unchanged.

``round_half_up(x) = floor(x + 0.5)``, computed in float64 in exactly the order written above.
At the default ``mix = 0.5`` the gray look is ``ceil((A + 255 - B) / 2)``, which is what
Blender's ALPHA_OVER at 50% gives on byte images, so the VSE rig and this engine agree exactly.

This module needs only numpy. :func:`combine_table` spells the contract out for all
65,536 (A, B) pairs; :class:`Combiner` is the fast path used per frame, which the tests
check against the table exhaustively.
"""

from __future__ import annotations

import numpy as np

from .settings import Settings


def round_half_up(values: np.ndarray) -> np.ndarray:
    return np.floor(values + 0.5)


def amplify_table(settings: Settings) -> np.ndarray:
    """The 256-entry table of stage 2 (amplify) as uint8."""
    levels = np.arange(256, dtype=np.float64)
    pivot = float(settings.still_level)
    amplified = round_half_up(pivot + settings.amplify * (levels - pivot))
    return np.clip(amplified, 0, 255).astype(np.uint8)


def combine_table(settings: Settings) -> np.ndarray:
    """The whole contract as a (256, 256) uint8 table: ``table[A, B]`` is the output value."""
    a = np.arange(256, dtype=np.float64)[:, None]
    b = np.arange(256, dtype=np.float64)[None, :]
    if settings.look == "gray":
        mix = settings.mix
        combined = round_half_up(a * (1.0 - mix) + (255.0 - b) * mix)
    elif settings.look == "difference":
        combined = np.abs(a - b)
    elif settings.look == "subtract":
        combined = np.maximum(a - b, 0.0)
    else:  # pragma: no cover - Settings validation rejects other looks
        raise ValueError(settings.look)
    return amplify_table(settings)[combined.astype(np.uint8)]


def still_frame(settings: Settings, shape: tuple[int, ...]) -> np.ndarray:
    """A frame of the flat still level, as the ``gray`` edges policy outputs."""
    return np.full(shape, amplify_table(settings)[settings.still_level], dtype=np.uint8)


class Combiner:
    """Combines frame pairs into motion frames for one settings object and one frame shape.

    Scratch buffers are allocated once, so the per-frame path allocates nothing when an
    ``out`` array is passed in.
    """

    def __init__(self, settings: Settings, shape: tuple[int, ...]) -> None:
        self.settings = settings
        self.shape = tuple(shape)
        self._amplify = None if settings.amplify == 1.0 else amplify_table(settings)
        self._scratch = np.empty(self.shape, dtype=np.uint8)
        self._scratch2 = np.empty(self.shape, dtype=np.uint8)
        self._exact_half = settings.look == "gray" and settings.mix == 0.5
        self._table = None
        if settings.look == "gray" and not self._exact_half:
            # General mix: index a flat table with (A << 8) | B.
            self._table = combine_table(settings).reshape(-1)
            self._index = np.empty(self.shape, dtype=np.uint16)

    def combine(self, current: np.ndarray, partner: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if current.shape != self.shape or partner.shape != self.shape:
            raise ValueError(f"frame shape {current.shape}/{partner.shape} does not match {self.shape}")
        if out is None:
            out = np.empty(self.shape, dtype=np.uint8)
        if self._table is not None:
            index = self._index
            np.left_shift(current, 8, out=index, dtype=np.uint16)
            np.bitwise_or(index, partner, out=index)
            np.take(self._table, index, out=out)
            return out
        look = self.settings.look
        high, low = self._scratch, self._scratch2
        if self._exact_half:
            # ceil((A + ~B) / 2) without widening: (A | ~B) - ((A ^ ~B) >> 1)
            np.bitwise_not(partner, out=low)
            np.bitwise_or(current, low, out=high)
            np.bitwise_xor(current, low, out=low)
            np.right_shift(low, 1, out=low)
            np.subtract(high, low, out=out)
        elif look == "difference":
            np.maximum(current, partner, out=high)
            np.minimum(current, partner, out=low)
            np.subtract(high, low, out=out)
        else:  # subtract: max(A, B) - B == max(A - B, 0)
            np.maximum(current, partner, out=high)
            np.subtract(high, partner, out=out)
        if self._amplify is not None:
            np.take(self._amplify, out, out=out)
        return out
