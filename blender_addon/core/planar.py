"""The gray look on 8-bit 4:2:0 planes: the planar path, for renders whose every stage is affine per pixel.

The gray look with mix m, ``(1 - m) A + m (255 - B)`` per RGB channel, is affine in RGB, and so are
BT.601 and BT.709 YCbCr, whose chroma weights sum to 0. On the planes it is therefore, per sample,

- luma:   ``Y = round_half_up(Y_A * (1 - m) + (W - Y_B) * m)``, W = 16 + 235 = 251 in limited range, 255 in full;
- chroma: ``C = round_half_up(C_A * (1 - m) + (256 - C_B) * m)`` (128 + 128) in either range;

clipped to 0..255, in float64 in that order (the contract of :mod:`.pixels` with W in place of 255). At
m = 0.5: ``Y = 125.5 + (Y_A - Y_B) / 2`` (127.5 in full range), ``C = 128 + (C_A - C_B) / 2``. The matrix
(BT.601 or BT.709) drops out: the planes are combined as they are, so input and output must share matrix
and range. Against the RGB path (planes to BGR, the look, BGR back to planes) the two differ by rounding
(the RGB path rounds each channel, then each conversion rounds again) and where a colour lies outside RGB
(the RGB path clips it on the way in); ``tests/test_planar.py`` states how far apart they are. The RGB
path stays the reference.

A frame here is the compact I420 buffer the movie reader's heads yield: a 2-D uint8 array of
``(H * 3 // 2, W)`` for an even W x H (odd sizes are padded by repeating the last row or column): the
luma rows, then the U plane and the V plane, each (H/2, W/2), one after the other. An input frame may also
come as its three planes (Y, U, V: views of the decoder's own picture, lent without a copy); every output
is a compact buffer.

What the planar path cannot compute (:func:`rgb_reasons`): every look but gray, amplify (it clips each RGB
channel), pre-blur, trails, glow, colour, overlay, time colour, alignment, and a side or stacked layout whose
second picture starts at an odd column or row (its chroma samples would straddle both pictures).
"""

from __future__ import annotations

import numpy as np

from .pixels import _motion_table, _opencv_path, round_half_up
from .plan import ResolvedPlan
from .settings import Settings
from .timing import SOURCE, STILL

LIMITED, FULL = "limited", "full"
COLOUR_RANGES = (LIMITED, FULL)
CHROMA_WHITE = 256.0  # 128 + 128: the chroma of white's inverse, black


def luma_white(colour_range: str) -> float:
    """Black plus white luma, what the gray look inverts luma against: 251 in limited range, 255 in full."""
    return 251.0 if colour_range == LIMITED else 255.0


def still_luma(level: int, colour_range: str) -> int:
    """The luma of the gray ``level`` in RGB, as the encoder's BT.601 or BT.709 conversion gives it (any matrix:
    gray has luma weights summing to 1)."""
    if colour_range == FULL:
        return level
    return int(round_half_up(np.float64(16.0 + 219.0 * level / 255.0)))


def even_size(width: int, height: int) -> tuple[int, int]:
    """The stored size of ``width`` x ``height`` in 4:2:0: odd sizes padded to even."""
    return width + width % 2, height + height % 2


def buffer_shape(width: int, height: int) -> tuple[int, int]:
    """The compact I420 buffer's shape for a ``width`` x ``height`` picture (padded to even)."""
    width, height = even_size(width, height)
    return height * 3 // 2, width


Frame = np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]  # a compact buffer, or its three planes


def planes(buffer: Frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of a compact I420 ``buffer`` (see the module's notes); three planes as they
    are."""
    if isinstance(buffer, tuple):
        return buffer
    rows, width = buffer.shape
    height = rows * 2 // 3
    chroma = buffer[height:].reshape(-1)
    size = (height // 2) * (width // 2)
    shape = (height // 2, width // 2)
    return buffer[:height], chroma[:size].reshape(shape), chroma[size:2 * size].reshape(shape)


def frame_shape(frame: Frame) -> tuple[int, int]:
    """The shape of ``frame``'s compact buffer (its own, or the one its three planes would make)."""
    if isinstance(frame, tuple):
        rows, width = frame[0].shape
        return rows * 3 // 2, width
    return frame.shape


def rgb_reasons(settings: Settings, width: int, height: int) -> list[str]:
    """Why ``settings`` on a ``width`` x ``height`` clip need the RGB path (empty: the planar path computes them)."""
    reasons = []
    if settings.look != "gray":
        reasons.append(f"the {settings.look} look")
    if settings.amplify != 1.0:
        reasons.append("amplify")
    if settings.pre_blur > 0:
        reasons.append("pre-blur")
    if settings.trails > 0:
        reasons.append("trails")
    if settings.glow > 0:
        reasons.append("glow")
    if settings.tint or settings.saturation != 1.0:
        reasons.append("colour (tint, saturation)")
    if settings.overlay != "none":
        reasons.append("overlay")
    if settings.time_colour:
        reasons.append("time colour")
    if settings.align != "none":
        reasons.append("alignment")
    if settings.layout == "side" and width % 2 or settings.layout == "stacked" and height % 2:
        reasons.append(f"the {settings.layout} layout of an odd-sized picture")
    return reasons


class _PlaneCombiner:
    """One plane's gray look against ``white`` (see the module's notes), by OpenCV where it is exact, else a table."""

    def __init__(self, mix: float, white: float) -> None:
        self._opencv = _opencv_path("gray", mix, white)
        self._table = None if self._opencv is not None else _motion_table("gray", mix, white).reshape(-1)

    def __call__(self, current: np.ndarray, partner: np.ndarray, out: np.ndarray) -> None:
        if self._opencv is not None:
            self._opencv(current, partner, out)
            return
        index = np.left_shift(current, 8, dtype=np.uint16)
        np.bitwise_or(index, partner, out=index)
        np.take(self._table, index, out=out)


class PlanarGray:
    """The gray look with ``mix`` on compact I420 buffers of one ``colour_range``."""

    def __init__(self, mix: float, colour_range: str = LIMITED) -> None:
        if colour_range not in COLOUR_RANGES:
            raise ValueError(f"colour range {colour_range!r} is not one of {', '.join(COLOUR_RANGES)}")
        self._luma = _PlaneCombiner(mix, luma_white(colour_range))
        self._chroma = _PlaneCombiner(mix, CHROMA_WHITE)

    def combine(self, current: Frame, partner: Frame, out: Frame) -> Frame:
        """The look of two frames into ``out``: a buffer of their shape, or three plane views (Y, U, V) of one."""
        if isinstance(out, np.ndarray) and isinstance(current, np.ndarray) and isinstance(partner, np.ndarray):
            height = current.shape[0] * 2 // 3
            self._luma(current[:height], partner[:height], out[:height])
            self._chroma(current[height:], partner[height:], out[height:])  # U and V, one after the other
            return out
        for plane, (a, b, target) in enumerate(zip(planes(current), planes(partner), planes(out), strict=True)):
            (self._luma if plane == 0 else self._chroma)(a, b, target)
        return out


class PlanarEffect:
    """The output frames of one resolved plan on compact I420 buffers: the gray look, its edges and layouts.

    Raises ValueError for settings the planar path cannot compute (:func:`rgb_reasons`). :meth:`render` takes
    compact buffers (or three planes) and returns a compact buffer reused by the next call (or ``current``
    itself), or ``out`` when given one to render into.
    """

    def __init__(self, plan: ResolvedPlan, colour_range: str = LIMITED) -> None:
        settings = plan.settings
        height, width = plan.input_shape[:2]
        reasons = rgb_reasons(settings, width, height)
        if reasons:
            raise ValueError(f"the planar path cannot compute {', '.join(reasons)}")
        self.settings = settings
        self.input_shape = buffer_shape(width, height)
        output_height, output_width = plan.output_shape[:2]
        self.output_shape = buffer_shape(output_width, output_height)
        self._look = PlanarGray(settings.mix, colour_range)
        self._layout = settings.layout
        self._output = np.empty(self.output_shape, dtype=np.uint8)
        self._motion = np.empty(self.input_shape, dtype=np.uint8) if self._layout != "motion" else None
        self._still_luma = still_luma(plan.still_value, colour_range)

    def render(self, current: Frame, partners: tuple[Frame, ...] | None, fill: str, out: Frame | None = None,
               ) -> Frame:
        """The output frame for ``current`` and its partner (``None`` for an edge frame); ``out``: the output's
        buffer or three planes to render into (the writer's own picture), returned."""
        if frame_shape(current) != self.input_shape:
            raise ValueError(f"frame shape {frame_shape(current)} does not match {self.input_shape}")
        if out is not None and frame_shape(out) != self.output_shape:
            raise ValueError(f"output shape {frame_shape(out)} does not match {self.output_shape}")
        target = self._output if out is None else out
        if self._layout == "motion":
            if fill == SOURCE:
                if out is None and not isinstance(current, tuple):
                    return current
                for plane, given in zip(planes(target), planes(current), strict=True):
                    plane[...] = given
                return target
            if fill == STILL:  # edge frames only: painted where the motion goes
                return self._still(target)
            return self._look.combine(current, partners[0], target)
        if fill == SOURCE:
            result = current
        elif fill == STILL:
            result = self._still(self._motion)
        else:
            result = self._look.combine(current, partners[0], self._motion)
        return self._lay_out(current, result, target)

    def _still(self, target: Frame) -> Frame:
        luma, *chroma = planes(target)
        luma.fill(self._still_luma)
        for plane in chroma:
            plane.fill(128)
        return target

    def _lay_out(self, source: Frame, result: Frame, target: Frame) -> Frame:
        for into, left, right in zip(planes(target), planes(source), planes(result), strict=True):
            if self._layout == "side":
                width = left.shape[1]
                into[:, :width], into[:, width:] = left, right
            else:
                height = left.shape[0]
                into[:height], into[height:] = left, right
        return target
