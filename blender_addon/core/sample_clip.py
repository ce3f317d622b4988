"""A synthetic sample clip whose frames encode their own index, plus the decoder for it.

It is the demo's built-in input and the tests' fixture. Each frame holds:

- a still, textured background (sums of sines, seeded) and a still checkered block;
- a square sliding right along the bottom at a constant speed, wrapping around;
- a disc swinging slowly on a pendulum;
- a code strip in the top-left corner: a row of square cells, 255 for a set bit and 0 otherwise.
  Cell 0 is always 255 and the last cell always 0 (sentinels); then 16 cells hold the bits of
  the frame index t and 32 cells the bits of t**2.

Why t**2 as well as t: a motion frame of the gray look shows, per cell, whether the current
frame A has the bit and the partner B not (255), the reverse (0), or both agree (128). Summed
with their weights these give ``t - p`` and ``t**2 - p**2``, hence both t and p exactly,
whenever t != p. See :func:`decode_frame`.
"""

from __future__ import annotations

import math
import os
import wave
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

INDEX_BITS = 16
SQUARE_BITS = 32
CELL_COUNT = 1 + INDEX_BITS + SQUARE_BITS + 1
CELL_COLUMNS = 25
MAX_FRAMES = 1 << INDEX_BITS


@dataclass(frozen=True)
class FrameCode:
    """What a frame's code strip says.

    ``kind`` is ``"raw"`` (an untouched sample frame: ``frame`` is its index), ``"pair"``
    (a gray-look motion frame of current frame ``frame`` and partner ``partner``), ``"same"``
    (a motion frame of a frame with itself, or a flat still frame: nothing to tell apart) or
    ``"unknown"``.
    """

    kind: str
    frame: int | None = None
    partner: int | None = None


def cell_size(width: int, height: int) -> int:
    """Side of one code cell in pixels: large enough to survive lossy codecs, capped at 24."""
    size = min(width // CELL_COLUMNS, height // 6, 24)
    if size < 4:
        raise ValueError(f"a {width}x{height} frame is too small for the code strip (needs 100x24)")
    return size


def _cell_boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    size = cell_size(width, height)
    boxes = []
    for cell in range(CELL_COUNT):
        row, column = divmod(cell, CELL_COLUMNS)
        boxes.append((row * size, (row + 1) * size, column * size, (column + 1) * size))
    return boxes


def cell_bits(index: int) -> list[int]:
    """The 0/1 value of every code cell for frame ``index``."""
    if not 0 <= index < MAX_FRAMES:
        raise ValueError(f"frame index {index} does not fit the code strip")
    square = index * index
    return (
        [1]
        + [(index >> bit) & 1 for bit in range(INDEX_BITS)]
        + [(square >> bit) & 1 for bit in range(SQUARE_BITS)]
        + [0]
    )


def _cell_levels(image: np.ndarray) -> np.ndarray:
    """Mean level of the inner half of every cell (margins dropped against codec ringing)."""
    height, width = image.shape[:2]
    levels = np.empty(CELL_COUNT)
    for cell, (top, bottom, left, right) in enumerate(_cell_boxes(width, height)):
        margin = (bottom - top) // 4
        levels[cell] = image[top + margin : bottom - margin, left + margin : right - margin].mean()
    return levels


def decode_frame(image: np.ndarray) -> FrameCode:
    """Recover which sample frames made ``image`` (a raw sample frame or a gray-look motion frame)."""
    levels = _cell_levels(image)
    high = levels > 192
    low = levels < 64
    if high[0] and low[-1]:
        bits = high[1 : 1 + INDEX_BITS]
        return FrameCode("raw", int(sum(1 << bit for bit, on in enumerate(bits) if on)))
    if high[0] or low[0] or high[-1] or low[-1]:
        return FrameCode("unknown")
    signs = high.astype(int) - low.astype(int)
    difference = sum(int(sign) << bit for bit, sign in enumerate(signs[1 : 1 + INDEX_BITS]))
    square_difference = sum(int(sign) << bit for bit, sign in enumerate(signs[1 + INDEX_BITS : -1]))
    if difference == 0:
        return FrameCode("same") if square_difference == 0 else FrameCode("unknown")
    total, remainder = divmod(square_difference, difference)  # t + p
    if remainder or (total + difference) % 2:
        return FrameCode("unknown")
    frame = (total + difference) // 2
    return FrameCode("pair", frame, frame - difference)


class SampleClip:
    """The synthetic clip, generated on demand; also a ``FrameSource`` for the exact engine."""

    def __init__(self, width: int = 640, height: int = 360, frame_count: int = 90, fps: float = 30.0, seed: int = 0,
                 pebbles: bool = False, swing_hz: float | None = None):
        if frame_count < 1 or frame_count > MAX_FRAMES:
            raise ValueError(f"frame_count must be between 1 and {MAX_FRAMES}")
        self.width, self.height, self.frame_count, self.fps = width, height, frame_count, fps
        self._cells = _cell_boxes(width, height)
        self._background = self._draw_background(np.random.default_rng(seed))
        if pebbles:
            self._scatter_pebbles(np.random.default_rng(seed + 2))
        self.square_size = max(8, height // 6)
        self.slide_speed = max(1, width // 160)  # pixels per frame
        self.disc_radius = max(4, height // 12)
        # Frames per full swing: a slow one (4 s), or ``swing_hz`` swings a second.
        self.swing_period = fps / swing_hz if swing_hz else max(2, round(4 * fps))

    def _draw_background(self, rng: np.random.Generator) -> np.ndarray:
        y = np.linspace(0.0, 1.0, self.height)[:, None]
        x = np.linspace(0.0, 1.0, self.width)[None, :]
        image = np.empty((self.height, self.width, 3), dtype=np.uint8)
        for channel in range(3):
            level = np.full((self.height, self.width), 110.0)
            for _ in range(4):
                fx, fy = rng.uniform(2, 12, size=2)
                phase_x, phase_y = rng.uniform(0, 2 * math.pi, size=2)
                wave = np.sin(2 * math.pi * fx * x + phase_x) * np.cos(2 * math.pi * fy * y + phase_y)
                level += rng.uniform(10, 25) * wave
            image[..., channel] = np.clip(level, 0, 255).astype(np.uint8)
        # The still object: a checkered block on the right, clear of the moving ones.
        size = max(8, self.height // 5)
        top, left = self.height // 4, self.width - size - self.width // 10
        checker = (np.add.outer(np.arange(size) // 4, np.arange(size) // 4) % 2).astype(bool)
        block = image[top : top + size, left : left + size]
        block[checker] = (40, 200, 240)
        block[~checker] = (30, 30, 30)
        return image

    def _scatter_pebbles(self, rng: np.random.Generator) -> None:
        """Strew the still background with small soft-edged pebbles of random shade: the fine
        texture real scenes have, which a camera's motion can be measured against."""
        import cv2

        layer = np.zeros((self.height, self.width), np.float32)
        count = self.width * self.height // 300
        xs, ys = rng.integers(0, self.width, count), rng.integers(0, self.height, count)
        radii, shades = rng.integers(1, 4, count), rng.uniform(-60, 60, count)
        for x, y, radius, shade in zip(xs, ys, radii, shades, strict=True):
            cv2.circle(layer, (int(x), int(y)), int(radius), float(shade), -1, cv2.LINE_AA)
        layer = cv2.GaussianBlur(layer, (0, 0), 0.7)
        self._background = np.clip(self._background + layer[..., None], 0, 255).astype(np.uint8)

    def square_left(self, index: int) -> int:
        """Left edge of the sliding square in frame ``index`` (it wraps at the right edge)."""
        return (self.width // 10 + self.slide_speed * index) % (self.width - self.square_size)

    def square_top(self) -> int:
        return self.height * 4 // 5

    def disc_center(self, index: int) -> tuple[int, int]:
        """(x, y) of the swinging disc's centre in frame ``index``."""
        pivot_x, pivot_y = self.width // 2, self.height // 5
        length = self.height // 2
        angle = 0.6 * math.sin(2 * math.pi * index / self.swing_period)
        return round(pivot_x + length * math.sin(angle)), round(pivot_y + length * math.cos(angle))

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as a BGR uint8 array."""
        return self.draw_code(self.scene(index), index)

    def scene(self, index: int) -> np.ndarray:
        """Frame ``index`` without its code strip."""
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} is outside the clip (0 to {self.frame_count - 1})")
        image = self._background.copy()
        left, top, size = self.square_left(index), self.square_top(), self.square_size
        image[top : top + size, left : left + size] = (60, 90, 230)
        center_x, center_y = self.disc_center(index)
        radius = self.disc_radius
        y0, y1 = max(center_y - radius, 0), min(center_y + radius + 1, self.height)
        x0, x1 = max(center_x - radius, 0), min(center_x + radius + 1, self.width)
        ys, xs = np.ogrid[y0:y1, x0:x1]
        inside = (ys - center_y) ** 2 + (xs - center_x) ** 2 <= radius * radius
        image[y0:y1, x0:x1][inside] = (230, 220, 60)
        return image

    def draw_code(self, image: np.ndarray, index: int) -> np.ndarray:
        """``image`` with frame ``index``'s code strip drawn in its top-left corner."""
        for (top, bottom, left, right), bit in zip(self._cells, cell_bits(index), strict=True):
            image[top:bottom, left:right] = 255 * bit
        return image

    def read_from(self, start: int) -> Iterator[np.ndarray]:
        for index in range(start, self.frame_count):
            yield self.frame(index)


def write_tick_track(path: str | os.PathLike, seconds: float, rate: int = 48000) -> None:
    """A mono 16-bit WAV for the sample clip: a short 880 Hz tick at the start of every second."""
    samples = np.zeros(round(seconds * rate), dtype=np.float64)
    tick = np.arange(round(0.08 * rate))
    envelope = np.linspace(1.0, 0.0, tick.size)
    for start in range(0, samples.size, rate):
        end = min(start + tick.size, samples.size)
        samples[start:end] = 0.4 * envelope[: end - start] * np.sin(2 * math.pi * 880 * tick[: end - start] / rate)
    with wave.open(os.fspath(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes((samples * 32767).astype("<i2").tobytes())


SUPERSAMPLING = 2  # the handheld scene's pixels per frame pixel, each way


@dataclass(frozen=True)
class CameraPose:
    """Where the handheld camera points in one frame: a shift of the view (pixels), a roll
    (degrees, clockwise on screen) and a zoom, all relative to the tripod's view."""

    dx: float
    dy: float
    rotation: float
    scale: float


class HandheldClip:
    """The sample clip filmed through a known, recorded camera path: shake in translation, rotation
    and scale, with the objects moving as before (the pendulum ``swing_hz`` swings a second where given).
    A ``FrameSource`` like :class:`SampleClip`.

    The scene is the sample clip's, drawn with a margin so the shaken view never leaves it; each
    frame is the scene warped by :meth:`camera_matrix` (bilinear), with the code strip drawn
    afterwards at its fixed place, like a burnt-in timecode.
    """

    def __init__(self, width: int = 640, height: int = 360, frame_count: int = 90, fps: float = 30.0,
                 seed: int = 0, shake: float = 1.0, swing_hz: float | None = None):
        self.width, self.height, self.frame_count, self.fps = width, height, frame_count, fps
        rng = np.random.default_rng(seed + 1)
        self.amplitude = CameraPose(0.02 * width * shake, 0.02 * width * shake, 1.5 * shake, 0.03 * shake)
        # Three sines per parameter, at 0.3 to 3 Hz: a hand's sway plus its tremor.
        self._waves = [
            [(rng.uniform(0.3, 3.0), rng.uniform(0, 2 * math.pi), weight) for weight in (0.6, 0.3, 0.1)]
            for _ in range(4)
        ]
        half_diagonal = math.hypot(width, height) / 2
        reach = (self.amplitude.dx + half_diagonal * (math.sin(math.radians(self.amplitude.rotation))
                 + 1 / (1 - self.amplitude.scale) - 1))
        self.margin = math.ceil(reach) + 2
        # The scene at twice the frame's resolution, averaged down after the warp: each pixel
        # integrates over its area, as a sensor's does, instead of a sharp point sample.
        self.scene = SampleClip(SUPERSAMPLING * (width + 2 * self.margin), SUPERSAMPLING * (height + 2 * self.margin),
                                frame_count, fps, seed, pebbles=True, swing_hz=swing_hz)
        self._code = SampleClip(width, height, 1, fps, seed)

    def pose(self, index: int) -> CameraPose:
        """The recorded camera pose of frame ``index``."""
        time = index / self.fps
        values = [
            sum(weight * math.sin(2 * math.pi * frequency * time + phase) for frequency, phase, weight in waves)
            for waves in self._waves
        ]
        amplitude = self.amplitude
        return CameraPose(amplitude.dx * values[0], amplitude.dy * values[1], amplitude.rotation * values[2],
                          1 + amplitude.scale * values[3])

    def camera_matrix(self, index: int) -> np.ndarray:
        """3x3 matrix from scene pixels to frame ``index``'s pixels."""
        pose = self.pose(index)
        angle = math.radians(pose.rotation)
        linear = pose.scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        scene_center = np.array([(self.scene.width - 1) / 2, (self.scene.height - 1) / 2])
        frame_center = np.array([(self.width - 1) / 2, (self.height - 1) / 2])
        linear = linear / SUPERSAMPLING
        matrix = np.eye(3)
        matrix[:2, :2] = linear
        matrix[:2, 2] = frame_center + (pose.dx, pose.dy) - linear @ scene_center
        return matrix

    def pair_matrix(self, frame: int, partner: int) -> np.ndarray:
        """The true alignment of ``partner`` onto ``frame``: partner pixels to frame pixels (3x3)."""
        return self.camera_matrix(frame) @ np.linalg.inv(self.camera_matrix(partner))

    def view(self, image: np.ndarray, index: int, interpolation: int | None = None) -> np.ndarray:
        """A scene-sized ``image`` (such as a mask of the scene) as camera frame ``index`` sees it."""
        import cv2

        flags = cv2.INTER_LINEAR if interpolation is None else interpolation
        factor = SUPERSAMPLING
        # Frame pixel x covers fine pixels factor*x ... factor*x + factor-1, centred on factor*x + (factor-1)/2.
        to_fine = np.array([[factor, 0, (factor - 1) / 2], [0, factor, (factor - 1) / 2], [0, 0, 1]])
        fine = cv2.warpAffine(image, (to_fine @ self.camera_matrix(index))[:2],
                              (factor * self.width, factor * self.height), flags=flags)
        return cv2.resize(fine, (self.width, self.height), interpolation=cv2.INTER_AREA)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as a BGR uint8 array."""
        return self._code.draw_code(self.view(self.scene.scene(index), index), index)

    def read_from(self, start: int) -> Iterator[np.ndarray]:
        for index in range(start, self.frame_count):
            yield self.frame(index)
