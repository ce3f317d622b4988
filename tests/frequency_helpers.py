"""Synthetic clips whose parts move back and forth at known frequencies (for the frequency tests)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np


def texture(height: int, width: int, seed: int) -> np.ndarray:
    """Blurred noise stretched to 0-255: texture that optical flow can follow."""
    noise = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    return cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 1.5), None, 0, 255, cv2.NORM_MINMAX)


@dataclass(frozen=True)
class Swing:
    """A textured square patch at ``(x, y)`` swinging along x by ``amplitude`` pixels at ``hz``."""

    hz: float
    x: int
    y: int
    size: int = 40
    amplitude: float = 5.0
    square: bool = False  # a square wave: the patch jumps between its two ends

    def offset(self, seconds: float) -> float:
        wave = np.sin(2 * np.pi * self.hz * seconds + 0.3)
        return self.amplitude * (float(np.sign(wave)) if self.square else float(wave))


def swinging_clip(swings: Sequence[Swing], frames: int = 300, fps: float = 30.0, size: tuple[int, int] = (120, 160),
                  noise: float = 0.0, seed: int = 0) -> Iterator[np.ndarray]:
    """BGR frames of a still textured background with the ``swings`` moving on it (optionally with noise)."""
    height, width = size
    background = texture(height, width, seed).astype(np.float32)
    patches = [texture(swing.size, swing.size, seed + 1 + index).astype(np.float32)
               for index, swing in enumerate(swings)]
    rng = np.random.default_rng(seed + 100)
    for index in range(frames):
        frame = background.copy()
        for swing, patch in zip(swings, patches, strict=True):
            place = np.float32([[1, 0, swing.x + swing.offset(index / fps)], [0, 1, swing.y]])
            cover = cv2.warpAffine(np.ones_like(patch), place, (width, height))
            frame = frame * (1 - cover) + cv2.warpAffine(patch, place, (width, height))
        if noise:
            frame += rng.normal(0, noise, frame.shape).astype(np.float32)
        gray = np.clip(frame, 0, 255).astype(np.uint8)
        yield cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def kept_frames(frames: int, share: float = 0.72, seed: int = 7) -> list[int]:
    """A variable-rate capture's frames: about ``share`` of ``frames``, the others dropped at random (the first and
    last kept)."""
    keep = np.random.default_rng(seed).random(frames) < share
    keep[0] = keep[-1] = True
    return np.flatnonzero(keep).tolist()


def write_swinging_clip(path, swings: Sequence[Swing], frames: int = 300, fps: int = 30,
                        size: tuple[int, int] = (120, 160), noise: float = 0.0,
                        kept: Sequence[int] | None = None) -> None:
    """:func:`swinging_clip` as a lossless FFV1 movie; ``kept``: only these frames, each at its own time on the
    ``fps`` clock (a variable-rate movie)."""
    from fractions import Fraction

    import av

    keep = None if kept is None else set(kept)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = size[1], size[0], "bgr0"
        stream.codec_context.time_base = Fraction(1, fps)
        for index, frame in enumerate(swinging_clip(swings, frames, fps, size, noise)):
            if keep is not None and index not in keep:
                continue
            picture = av.VideoFrame.from_ndarray(frame, format="bgr24").reformat(format="bgr0")
            picture.pts, picture.time_base = index, Fraction(1, fps)
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
