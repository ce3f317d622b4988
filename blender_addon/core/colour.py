"""The colour of the result: tint and saturation, defined to the pixel on 8-bit frames, and a fast path.

For an 8-bit pixel (R, G, B) of the motion, with the look's still level P (128 for gray, 0 otherwise):

- **luma**: ``Y = (77 R + 150 G + 29 B + 128) >> 8`` (BT.601 weights in 1/256ths, rounded);
- **tint** (colour T, when ``tint`` is on): the strength ``k = min(|Y - P| / (255 - P), 1)``, then
  ``out = clip(round_half_up(P + k * (T - P)))`` per channel: still areas keep the still level,
  strong motion takes the colour T (either side of mid-gray for the gray look), in float64;
- **saturation** s (after the tint, on its result): ``out = clip(round_half_up(Y + s * (c - Y)))``
  per channel c, in float64, with Y the luma of the pixel it works on: s = 0 gives gray motion,
  s > 1 pushes each channel further from the luma.

Tint is three 256-entry tables of the luma; saturation is a table of (c, Y) pairs, which OpenCV's
``addWeighted`` computes in one pass where an exhaustive check of all 65,536 pairs says it gives the
table's values (else numpy looks them up). The luma is OpenCV's ``transform`` where it matches the
integer formula on a check of every channel value, else numpy's integers.
"""

from __future__ import annotations

import numpy as np

from .pixels import _exact_everywhere, _opencv, round_half_up
from .settings import Settings, colour_levels

LUMA_WEIGHTS = (77, 150, 29)  # red, green, blue, in 1/256ths
# OpenCV's transform of (B, G, R, 1), rounded to nearest: (29 B + 150 G + 77 R) / 256 + 1/512 lies within
# 0.499 of the integer below the exact floor((... + 128) / 256), so it rounds to it, without ties.
_OPENCV_LUMA = np.array([[*(weight / 256 for weight in reversed(LUMA_WEIGHTS)), 1 / 512]], dtype=np.float64)


def luma_reference(frame: np.ndarray) -> np.ndarray:
    """The luma of a BGR frame as (H, W) uint8, in numpy integers."""
    blue, green, red = (frame[..., index].astype(np.uint32) for index in range(3))
    red_weight, green_weight, blue_weight = LUMA_WEIGHTS
    return ((red_weight * red + green_weight * green + blue_weight * blue + 128) >> 8).astype(np.uint8)


def tint_tables(settings: Settings) -> np.ndarray:
    """Per luma level, the tinted (B, G, R) pixel: shape (256, 3), uint8."""
    pivot = float(settings.still_level)
    levels = np.arange(256, dtype=np.float64)
    strength = np.minimum(np.abs(levels - pivot) / (255.0 - pivot), 1.0)
    red, green, blue = (float(level) for level in colour_levels(settings.tint_colour))
    columns = [pivot + strength * (target - pivot) for target in (blue, green, red)]
    return np.clip(round_half_up(np.stack(columns, axis=1)), 0, 255).astype(np.uint8)


def saturation_table(saturation: float) -> np.ndarray:
    """``table[c, Y]``: the saturated channel value for every channel value c and luma Y, (256, 256) uint8."""
    channel = np.arange(256, dtype=np.float64)[:, None]
    luma = np.arange(256, dtype=np.float64)[None, :]
    return np.clip(round_half_up(luma + saturation * (channel - luma)), 0, 255).astype(np.uint8)


_luma_exact: list[bool] = []
_saturation_paths: dict[float, object] = {}


def _opencv_luma_is_exact(cv2) -> bool:
    if not _luma_exact:
        values = np.arange(256, dtype=np.uint8)
        rng = np.random.default_rng(7)
        grid = np.stack(np.meshgrid(values, values[::5], values[::3], indexing="ij"), axis=-1).reshape(-1, 1, 3)
        check = np.concatenate([grid, rng.integers(0, 256, (65536, 1, 3), dtype=np.uint8)])
        _luma_exact.append(np.array_equal(cv2.transform(check, _OPENCV_LUMA), luma_reference(check)))
    return _luma_exact[0]


def _saturation_path(saturation: float):
    """An exact OpenCV function ``(c, Y, out)`` for the saturation, or None."""
    if saturation not in _saturation_paths:
        cv2 = _opencv()
        function = None
        if cv2 is not None:
            table = saturation_table(saturation)
            for nudge in (0.0, 1e-3):  # a little above, for ties that float32 puts just below .5

                def candidate(c, y, out, nudge=nudge):
                    return cv2.addWeighted(c, saturation, y, 1.0 - saturation, nudge, dst=out)

                if _exact_everywhere(candidate, table):
                    function = candidate
                    break
        _saturation_paths[saturation] = function
    return _saturation_paths[saturation]


class ColourStage:
    """Tint and saturation of one frame shape, in place on the motion frame."""

    def __init__(self, settings: Settings, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)
        self._tint = tint_tables(settings)[:, None, :] if settings.tint else None
        self._saturation = settings.saturation if settings.saturation != 1.0 else None
        cv2 = _opencv()
        self._cv2 = cv2 if cv2 is not None and _opencv_luma_is_exact(cv2) else None
        self._opencv_saturation = None
        if self._saturation is not None:
            self._opencv_saturation = _saturation_path(self._saturation) if self._cv2 is not None else None
            if self._opencv_saturation is None:
                self._table = saturation_table(self._saturation).reshape(-1)
                self._index = np.empty(self.shape, dtype=np.uint16)
        self._luma3 = np.empty(self.shape, dtype=np.uint8)

    @property
    def active(self) -> bool:
        return self._tint is not None or self._saturation is not None

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """Tint, then saturate ``frame`` (an (H, W, 3) uint8 BGR motion frame) in place; returns it."""
        if self._tint is not None:
            luma3 = self._luma(frame)
            if self._cv2 is not None:
                self._cv2.LUT(luma3, self._tint, dst=frame)
            else:
                for channel in range(3):
                    np.take(self._tint[:, 0, channel], luma3[..., channel], out=frame[..., channel])
        if self._saturation is not None:
            luma3 = self._luma(frame)
            if self._opencv_saturation is not None:
                self._opencv_saturation(frame, luma3, frame)
            else:
                index = self._index
                np.left_shift(frame, 8, out=index, dtype=np.uint16)
                np.bitwise_or(index, luma3, out=index)
                np.take(self._table, index, out=frame)
        return frame

    def _luma(self, frame: np.ndarray) -> np.ndarray:
        """The frame's luma repeated in three channels (a buffer reused by the next call)."""
        if self._cv2 is not None:
            self._cv2.merge([self._cv2.transform(frame, _OPENCV_LUMA)] * 3, dst=self._luma3)
        else:
            self._luma3[...] = luma_reference(frame)[..., None]
        return self._luma3
