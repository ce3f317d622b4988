"""The Gaussian blur that pre-blur and glow use, defined to the pixel in whole numbers, and a fast path for it.

The blur of sigma ``s`` (pixels) of an 8-bit frame works on each channel and gives 8-bit levels
(pre-blur) or, with ``fraction_bits = 8``, 16-bit values in 256ths of a level (glow's halo):

1. **Levels.** ``L`` is the largest count of halvings for which ``s_L >= 1.5``, where
   ``s_L = sqrt(s**2 - 2 * (4**L - 1) / 3) / 2**L`` (each halving and doubling below adds a
   variance of 1 pixel squared at its own scale, so the whole blur keeps the variance ``s**2``).
   Below ``s`` of about 3.3, ``L`` is 0 and steps 2, 3 and 6 do nothing.
2. **Pad** each side by ``ceil(3 * s)`` repeated edge pixels (so the halvings see what a blur
   with repeated edges sees).
3. **Down**, L times, in 8-bit levels: ``down(x) = (sum k_i k_j x(2u+i, 2v+j) + 128) >> 8`` with the
   binomial ``k = 1 4 6 4 1`` (i, j from -2 to 2), edge pixels repeated; the result is
   ``ceil(size / 2)`` pixels on each side (OpenCV's ``pyrDown`` with ``BORDER_REPLICATE``).
4. **Fraction bits**: ``x << fraction_bits``; from here on values have ``b = 8 + fraction_bits`` bits.
5. **Gaussian** of sigma ``s_L``: the kernel of ``n = 2 * ceil(3 * s_L) + 1`` taps ``g_i``
   proportional to ``exp(-i**2 / (2 s_L**2))`` (normalised in float64), made whole numbers ``w_i``
   summing to exactly ``2**b`` by rounding its running error from the outside in (the centre takes
   what is left); then ``(sum_j w_j sum_i w_i x(u+i, v+j) + 2**(2b-1)) >> 2b``, edge pixels repeated
   (OpenCV's bit-exact ``GaussianBlur`` of 8- and 16-bit images).
6. **Up**, L times, to the size of the level above: along each axis an even output pixel ``2u``
   is ``x(u-1) + 6 x(u) + x(u+1)``, an odd one ``4 x(u) + 4 x(u+1)``, with ``x(-1) = x(1)`` and at
   the far edge ``x(n-2) + 7 x(n-1)`` and ``8 x(n-1)``; both axes, then ``(sum + 32) >> 6``
   (OpenCV's ``pyrUp``), cropped to the size of the level above; last, the padding is cropped.

:func:`blur_reference` spells this out in numpy (slow; for tests, and where OpenCV is missing).
:class:`Blur` runs it with OpenCV's ``copyMakeBorder``, ``pyrDown``, ``GaussianBlur`` and ``pyrUp``
(fixed-point, releasing the GIL), after checking once per sigma and precision, on frames with odd
and even sides, that they give the reference's every value; where they do not, the reference does
the work. At sigma 10 a 1080p frame takes about a fifth of the work of a direct 61-tap blur, and the
16-bit halo stays within 0.8 levels of a float Gaussian of the same frame.
"""

from __future__ import annotations

import math

import numpy as np

from .pixels import _opencv

MIN_LEVEL_SIGMA = 1.5  # the Gaussian at the coarsest level stays at least this wide
BINOMIAL = (1, 4, 6, 4, 1)


def kernel_size(sigma: float) -> int:
    """Taps of the Gaussian of ``sigma``: ``2 * ceil(3 * sigma) + 1``."""
    return 2 * math.ceil(3 * sigma) + 1


def levels(sigma: float) -> tuple[int, float]:
    """``(L, s_L)``: how many times the frame is halved, and the sigma of the Gaussian at that level."""
    count = 0
    while True:
        rest = sigma * sigma - 2 * (4 ** (count + 1) - 1) / 3
        if rest <= 0 or math.sqrt(rest) / 2 ** (count + 1) < MIN_LEVEL_SIGMA:
            break
        count += 1
    return count, math.sqrt(sigma * sigma - 2 * (4**count - 1) / 3) / 2**count


def padding(sigma: float) -> int:
    """Step 2: repeated edge pixels added on each side (none when the frame is not halved)."""
    return math.ceil(3 * sigma) if levels(sigma)[0] else 0


def gaussian_weights(sigma: float, bits: int = 8) -> np.ndarray:
    """The whole-number Gaussian kernel of step 4: ``kernel_size(sigma)`` taps summing to ``2**bits``."""
    size = kernel_size(sigma)
    half = size // 2
    scale = -0.125 / (sigma * sigma)  # exp(scale * x**2) with x = 2i: exp(-i**2 / (2 sigma**2))
    values = [math.exp(x * x * scale) for x in range(1 - size, 0, 2)]
    normal = 1.0 / (sum(values) * 2 + 1.0)
    weights = [0] * size
    error, total = 0.0, 0
    for index, value in enumerate(values):
        adjusted = value * normal * (1 << bits) + error
        whole = round(adjusted)  # to nearest, halves to even
        error = adjusted - whole
        weights[index] = weights[size - 1 - index] = whole
        total += whole
    weights[half] = (1 << bits) - 2 * total
    return np.array(weights, dtype=np.int64)


def _convolve(values: np.ndarray, weights, axis: int) -> np.ndarray:
    """Whole-number correlation with ``weights`` along ``axis`` (centred), edge values repeated."""
    half = len(weights) // 2
    padding = [(0, 0)] * values.ndim
    padding[axis] = (half, half)
    padded = np.pad(values, padding, mode="edge")
    length = values.shape[axis]
    out = np.zeros(values.shape, dtype=np.int64)
    for index, weight in enumerate(weights):
        if weight:
            out += int(weight) * np.take(padded, range(index, index + length), axis=axis)
    return out


def _down_reference(values: np.ndarray) -> np.ndarray:
    summed = _convolve(_convolve(values, BINOMIAL, 1), BINOMIAL, 0)
    return (summed[0::2, 0::2] + 128) >> 8


def _up_axis(values: np.ndarray, axis: int) -> np.ndarray:
    """Step 4 along one axis, unnormalised (the sums of 8 times the value)."""
    values = np.moveaxis(values, axis, 0)
    count = values.shape[0]
    if count == 1:
        out = np.concatenate([8 * values, 8 * values])
    else:
        before = np.concatenate([values[1:2], values[:-1]])
        after = np.concatenate([values[1:], values[-2:-1]])
        out = np.empty((2 * count,) + values.shape[1:], dtype=np.int64)
        out[0::2] = before + 6 * values + after
        out[1::2] = 4 * (values + after)
        out[-2] = values[-2] + 7 * values[-1]
        out[-1] = 8 * values[-1]
    return np.moveaxis(out, 0, axis)


def _up_reference(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    summed = _up_axis(_up_axis(values, 1), 0)
    return ((summed + 32) >> 6)[: shape[0], : shape[1]]


def _check_frame(frame: np.ndarray) -> None:
    if frame.dtype != np.uint8:
        raise TypeError(f"the blur takes 8-bit frames, not {frame.dtype}")


def blur_reference(frame: np.ndarray, sigma: float, fraction_bits: int = 0) -> np.ndarray:
    """The blur of the module's definition in plain numpy integers: (H, W) or (H, W, C) uint8 in; uint8
    out, or uint16 in 256ths of a level with ``fraction_bits=8``."""
    _check_frame(frame)
    count, level_sigma = levels(sigma)
    pad = padding(sigma)
    values = frame.astype(np.int64)
    if pad:
        values = np.pad(values, [(pad, pad), (pad, pad)] + [(0, 0)] * (frame.ndim - 2), mode="edge")
    pyramid = [values]
    for _ in range(count):
        pyramid.append(_down_reference(pyramid[-1]))
    bits = 8 + fraction_bits
    weights = gaussian_weights(level_sigma, bits)
    values = pyramid[-1] << fraction_bits
    values = (_convolve(_convolve(values, weights, 1), weights, 0) + (1 << (2 * bits - 1))) >> (2 * bits)
    for level in reversed(pyramid[:-1]):
        values = _up_reference(values, level.shape)
    if pad:
        values = values[pad:-pad, pad:-pad]
    return values.astype(np.uint16 if fraction_bits else np.uint8)


_verified: dict[tuple[float, int], bool] = {}
_SHIFTED = np.arange(256, dtype=np.uint16) << 8  # step 4 as a lookup table, for fraction_bits = 8


def _check_frames() -> list[np.ndarray]:
    rng = np.random.default_rng(20_240_615)
    return [rng.integers(0, 256, shape, dtype=np.uint8) for shape in ((37, 70, 3), (52, 41, 3), (23, 96))]


class Blur:
    """Blurs 8-bit frames by the module's definition: OpenCV where it gives the reference's values, else numpy."""

    def __init__(self, sigma: float, fraction_bits: int = 0) -> None:
        if fraction_bits not in (0, 8):
            raise ValueError(f"fraction_bits must be 0 or 8, not {fraction_bits}")
        self.sigma = float(sigma)
        self.fraction_bits = fraction_bits
        self.levels, self.level_sigma = levels(self.sigma)
        self._pad = padding(self.sigma)
        self._size = kernel_size(self.level_sigma)
        self._cv2 = _opencv()

    @property
    def uses_opencv(self) -> bool:
        """Whether OpenCV blurs (checked against the reference once per sigma and precision)."""
        key = (self.sigma, self.fraction_bits)
        if self._cv2 is None:
            return False
        if key not in _verified:
            _verified[key] = all(
                np.array_equal(self._opencv_blur(frame), blur_reference(frame, self.sigma, self.fraction_bits))
                for frame in _check_frames()
            )
        return _verified[key]

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """The blurred frame, a new array (uint8, or uint16 in 256ths of a level)."""
        _check_frame(frame)
        if self.uses_opencv:
            return self._opencv_blur(np.ascontiguousarray(frame))
        return blur_reference(frame, self.sigma, self.fraction_bits)

    def _opencv_blur(self, frame: np.ndarray) -> np.ndarray:
        cv2, pad = self._cv2, self._pad
        if pad:
            frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        pyramid = [frame]
        for _ in range(self.levels):
            pyramid.append(cv2.pyrDown(pyramid[-1], borderType=cv2.BORDER_REPLICATE))
        values = cv2.LUT(pyramid[-1], _SHIFTED) if self.fraction_bits else pyramid[-1]
        size = (self._size, self._size)
        values = cv2.GaussianBlur(values, size, self.level_sigma, borderType=cv2.BORDER_REPLICATE)
        for level in reversed(pyramid[:-1]):
            values = cv2.pyrUp(values, dstsize=(level.shape[1], level.shape[0]))
        return values[pad:-pad, pad:-pad] if pad else values
