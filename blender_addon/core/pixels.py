"""What each setting means to the pixel: the 8-bit exact contract, and a fast implementation of it.

For a frame ``A`` (the current frame, t) and its partner ``B`` (t-N, or the reference K),
every 8-bit channel value is computed in two stages:

1. **Combine**, by look:

   - ``gray``:       ``u = round_half_up(A * (1 - mix) + (255 - B) * mix)``
   - ``difference``: ``u = |A - B|``
   - ``subtract``:   ``u = max(A - B, 0)``
   - ``matte``:      ``m = max over the channels of |A - B|`` (one value per pixel), its matte
     ``a = clip(round_half_up(255 * (m - threshold) / softness), 0, 255)``, and
     ``u = round_half_up(S * a / 255)`` per channel, where S is the current frame as it was before
     any pre-blur (A itself without one): what moves shows in its own colours, the rest is black.

2. **Amplify** around the still level ``P`` (128 for gray, 0 otherwise):
   ``out = clip(round_half_up(P + amplify * (u - P)), 0, 255)``; ``amplify == 1`` leaves ``u`` unchanged.

``round_half_up(x) = floor(x + 0.5)``, computed in float64 in exactly the order written above.
At the default ``mix = 0.5`` the gray look is ``ceil((A + 255 - B) / 2)``, which is what
Blender's ALPHA_OVER at 50% gives on byte images, so the VSE rig and this engine agree exactly.

This module needs only numpy. :func:`combine_table` spells the contract out for all
65,536 (A, B) pairs; :class:`Combiner` is the fast path used per frame, which the tests
check against the table exhaustively. Where OpenCV can be imported (not inside a plain
Blender), the combiner uses its single-pass arithmetic, which releases the GIL so that
decoding and encoding threads run meanwhile; each OpenCV path is itself checked against the
table on all 65,536 pairs before it is used, and numpy does the work wherever one is not exact.
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


def _motion_table(look: str, mix: float, white: float = 255.0) -> np.ndarray:
    """Stage 1 (combine) of the contract as a (256, 256) uint8 table: ``table[A, B]`` is ``u``.

    ``white`` is what the gray look inverts against (``white - B``): 255 for RGB; :mod:`.planar` uses
    the sum of black and white of a YCbCr plane, where the result is clipped to 0..255."""
    a = np.arange(256, dtype=np.float64)[:, None]
    b = np.arange(256, dtype=np.float64)[None, :]
    if look == "gray":
        combined = np.clip(round_half_up(a * (1.0 - mix) + (white - b) * mix), 0, 255)
    elif look == "difference":
        combined = np.abs(a - b)
    elif look == "subtract":
        combined = np.maximum(a - b, 0.0)
    else:  # pragma: no cover - Settings validation rejects other looks
        raise ValueError(look)
    return combined.astype(np.uint8)


def combine_table(settings: Settings) -> np.ndarray:
    """The whole contract as a (256, 256) uint8 table: ``table[A, B]`` is the output value (not for
    the matte look, whose pixel depends on all three channels: see :func:`matte_table`)."""
    return amplify_table(settings)[_motion_table(settings.look, settings.mix)]


def matte_table(settings: Settings) -> np.ndarray:
    """The matte look's ``a`` for every strength ``m`` from 0 to 255, as uint8."""
    strength = np.arange(256, dtype=np.float64)
    opening = 255.0 * (strength - settings.matte_threshold) / settings.matte_softness
    return np.clip(round_half_up(opening), 0, 255).astype(np.uint8)


def reveal_table() -> np.ndarray:
    """``round_half_up(S * a / 255)`` for every (S, a) pair, as a (256, 256) uint8 table."""
    levels = np.arange(256, dtype=np.float64)
    return round_half_up(levels[:, None] * levels[None, :] / 255.0).astype(np.uint8)


def still_frame(settings: Settings, shape: tuple[int, ...]) -> np.ndarray:
    """A frame of the flat still level, as the ``gray`` edges policy outputs."""
    return np.full(shape, amplify_table(settings)[settings.still_level], dtype=np.uint8)


def _opencv():
    """The ``cv2`` module when it can be imported, else None."""
    try:
        import cv2
    except ImportError:
        return None
    return cv2


def _opencv_motion(cv2, look: str, mix: float, white: float = 255.0):
    """An OpenCV function ``(A, B, out)`` for stage 1 of ``look``, or None where none is exact.

    ``absdiff`` and the saturating ``subtract`` are the contract by definition. The gray look is
    one ``addWeighted`` pass in float32, rounded to nearest: at ``mix = 0.5`` the exact sums
    ``(A - B) / 2 + 127.75`` end in .25 or .75, so no value ties and it equals the half-up
    rounding of the contract; other mixes are accepted only if they pass :func:`_exact_everywhere`.
    """
    if look == "difference":
        return lambda a, b, out: cv2.absdiff(a, b, dst=out)
    if look == "subtract":
        return lambda a, b, out: cv2.subtract(a, b, dst=out)
    offset = white * mix + (0.25 if mix == 0.5 else 0.0)
    return lambda a, b, out: cv2.addWeighted(a, 1.0 - mix, b, -mix, offset, dst=out)


def _exact_everywhere(function, table: np.ndarray) -> bool:
    """Whether ``function(A, B, out)`` gives ``table[A, B]`` for every pair of 8-bit values.

    Checked twice: once as one long row (OpenCV's vectorised loops) and once as rows of 4
    values in a strided view (its scalar loops), so each pair goes through both code paths.
    """
    a, b = (grid.astype(np.uint8) for grid in np.meshgrid(np.arange(256), np.arange(256), indexing="ij"))
    out = np.empty_like(a)
    if not np.array_equal(function(a, b, out), table):
        return False
    narrow = (np.empty((65536 // 4, 8), np.uint8)[:, :4] for _ in range(3))
    a4, b4, out4 = narrow
    a4[...], b4[...] = a.reshape(-1, 4), b.reshape(-1, 4)
    return np.array_equal(function(a4, b4, out4), table.reshape(-1, 4))


_opencv_paths: dict[tuple[str, float, float], object] = {}


def _opencv_path(look: str, mix: float, white: float = 255.0):
    """The verified OpenCV stage-1 function for ``look``, ``mix`` and ``white`` (see :func:`_motion_table`), or
    None (also without OpenCV)."""
    key = (look, mix, white)
    if key not in _opencv_paths:
        cv2 = _opencv()
        if look == "matte":  # the reveal's multiplication, S * a / 255, rounded to nearest in float
            function = None if cv2 is None else lambda s, a, out: cv2.multiply(s, a, dst=out, scale=1.0 / 255.0)
            table = reveal_table()
        else:
            function = None if cv2 is None else _opencv_motion(cv2, look, mix, white)
            table = _motion_table(look, mix, white)
        if function is not None and not _exact_everywhere(function, table):
            function = None
        _opencv_paths[key] = function
    return _opencv_paths[key]


class _Matte:
    """Stage 1 of the matte look: ``(A, B, S, out)`` to the revealed frame, with OpenCV where it is exact."""

    def __init__(self, settings: Settings, shape: tuple[int, ...]) -> None:
        self._table = matte_table(settings)
        self._reveal = _opencv_path("matte", 0.0)
        self._cv2 = _opencv() if self._reveal is not None else None
        self._difference = np.empty(shape, dtype=np.uint8)
        self._spare = np.empty(shape, dtype=np.uint8)
        self._matte = np.empty(shape, dtype=np.uint8)
        if self._reveal is None:
            self._reveal_flat = reveal_table().reshape(-1)
            self._index = np.empty(shape, dtype=np.uint16)

    def __call__(self, current: np.ndarray, partner: np.ndarray, source: np.ndarray, out: np.ndarray) -> np.ndarray:
        difference, matte = self._difference, self._matte
        if self._cv2 is not None:
            cv2 = self._cv2
            cv2.absdiff(current, partner, dst=difference)
            blue, green, red = cv2.split(difference)
            strength = cv2.max(cv2.max(blue, green), red)
            cv2.merge([cv2.LUT(strength, self._table)] * 3, dst=matte)
            return self._reveal(source, matte, out)
        np.maximum(current, partner, out=difference)
        np.minimum(current, partner, out=self._spare)
        np.subtract(difference, self._spare, out=difference)
        strength = difference.max(axis=-1, keepdims=True)
        matte[...] = self._table[strength]
        index = self._index
        np.left_shift(source, 8, out=index, dtype=np.uint16)
        np.bitwise_or(index, matte, out=index)
        np.take(self._reveal_flat, index, out=out)
        return out


class Combiner:
    """Combines frame pairs into motion frames for one settings object and one frame shape.

    Scratch buffers are allocated once, so the per-frame path allocates nothing when an
    ``out`` array is passed in. With OpenCV the common looks take one pass over the frame
    (two with amplify); numpy needs up to six.
    """

    def __init__(self, settings: Settings, shape: tuple[int, ...]) -> None:
        self.settings = settings
        self.shape = tuple(shape)
        amplify = None if settings.amplify == 1.0 else amplify_table(settings)
        self._matte = _Matte(settings, self.shape) if settings.look == "matte" else None
        self._opencv_motion = None if self._matte else _opencv_path(settings.look, settings.mix)
        self._opencv = _opencv()
        self._amplify = amplify
        self._table = None
        self._exact_half = settings.look == "gray" and settings.mix == 0.5
        if self._opencv_motion is not None or self._matte is not None:
            return
        # numpy: scratch frames padded to whole 64-bit words, so that the halving in the
        # exact-half path shifts eight bytes at a time (masking the bit each byte gets from its neighbour).
        size = int(np.prod(self.shape))
        words = -(-size // 8)
        self._scratch = np.empty(self.shape, dtype=np.uint8)
        self._scratch_words = np.empty(words, dtype=np.uint64)
        self._scratch2 = self._scratch_words.view(np.uint8)[:size].reshape(self.shape)
        if settings.look == "gray" and not self._exact_half:
            # General mix: index a flat table with (A << 8) | B.
            self._table = combine_table(settings).reshape(-1)
            self._index = np.empty(self.shape, dtype=np.uint16)

    @property
    def uses_opencv(self) -> bool:
        """Whether frames are combined by OpenCV (else by numpy)."""
        if self._matte is not None:
            return self._matte._reveal is not None
        return self._opencv_motion is not None

    def combine(self, current: np.ndarray, partner: np.ndarray, out: np.ndarray | None = None,
                source: np.ndarray | None = None) -> np.ndarray:
        """The motion of ``current`` against ``partner``; ``source`` is the current frame as it was before
        pre-blur, which the matte look reveals (``current`` when not given)."""
        if current.shape != self.shape or partner.shape != self.shape:
            raise ValueError(f"frame shape {current.shape}/{partner.shape} does not match {self.shape}")
        if out is None:
            out = np.empty(self.shape, dtype=np.uint8)
        if self._matte is not None:
            target = out if out.flags.c_contiguous else np.empty(self.shape, dtype=np.uint8)
            source = current if source is None else source
            self._matte(*(np.ascontiguousarray(frame) for frame in (current, partner, source)), target)
            if self._amplify is not None:
                apply_table(target, self._amplify)
            if target is not out:
                out[...] = target
            return out
        if self._opencv_motion is not None:
            # OpenCV takes strided rows but not strided pixels: such views (never the engine's
            # own frames) go through contiguous copies.
            target = out if out.flags.c_contiguous else np.empty(self.shape, dtype=np.uint8)
            result = self._opencv_motion(np.ascontiguousarray(current), np.ascontiguousarray(partner), target)
            if self._amplify is not None:
                result = self._opencv.LUT(result, self._amplify, dst=result)
            if result is not out:
                out[...] = result
            return out
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
            words = self._scratch_words  # ``low``, eight bytes at a time
            np.right_shift(words, np.uint64(1), out=words)
            np.bitwise_and(words, np.uint64(0x7F7F7F7F7F7F7F7F), out=words)
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


def apply_table(values: np.ndarray, table: np.ndarray) -> None:
    """``values = table[values]`` in place (OpenCV's LUT when it is there: several times faster)."""
    cv2 = _opencv()
    if cv2 is not None and values.flags.c_contiguous:
        cv2.LUT(values, table, dst=values)
    else:
        np.take(table, values, out=values)
