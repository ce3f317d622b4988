"""Image sequences with OpenCV: numbered or sorted still images read as frames, and written as numbered files.

Which files make a sequence, and the names a sequence is written to, come from ``media.names``;
writing them, from ``media.publish``.
Images are read as 8-bit BGR (grayscale, alpha and 16-bit images are converted: alpha is
flattened over black, as in a movie); EXIF orientation is ignored, as video frames have none.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
from collections.abc import Iterator
from fractions import Fraction

import cv2
import numpy as np

from ..core.rates import DEFAULT_FPS
from .errors import MediaError, cannot_write, os_error
from .formats import check_picture_size
from .names import PNG_SIGNATURE, extension, png_cut_short
from .publish import PendingFile
from .streams import FrameWriter, VideoSource

_IMWRITE_PARAMS = {".png": [], ".jpg": [cv2.IMWRITE_JPEG_QUALITY, 95], ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, 95],
                   ".tif": [], ".tiff": []}


class ImageSequence(VideoSource):
    """Numbered or sorted image files, one frame each."""

    def __init__(self, path: str, files: list[str], width: int, height: int, rate: Fraction,
                 rate_guessed: bool) -> None:
        super().__init__(path, len(files), width, height, rate, rate_guessed)
        self.files = tuple(files)

    def _frames(self, start: int) -> Iterator[np.ndarray]:
        for file in self.files[start:]:
            frame = _read_image(file)
            if frame.shape[:2] != (self.height, self.width):
                raise MediaError(_size_mismatch(file, frame.shape[1], frame.shape[0], self))
            yield frame


def open_sequence(path: str, files: list[str], rate: Fraction | None) -> ImageSequence:
    """An :class:`ImageSequence` of ``files``, checked up front to share one frame size (no larger than FFmpeg
    takes, from the first image's header where it has one, before that image is decoded)."""
    size = _header_size(files[0])
    if size is not None:
        check_picture_size(files[0], *size)
    first = _read_image(files[0])
    height, width = first.shape[:2]
    check_picture_size(files[0], width, height)
    sequence = ImageSequence(path, files, width, height, rate or Fraction(DEFAULT_FPS), rate is None)
    sequence.has_alpha = _has_alpha(files[0])
    gap = _numbering_gap(files)
    if gap:
        sequence.warnings.append(gap)
    for file in files[1:]:
        size = _header_size(file)
        if size is None:
            shape = _read_image(file).shape
            size = shape[1], shape[0]
        if size != (width, height):
            raise MediaError(_size_mismatch(file, *size, sequence))
    return sequence


def _size_mismatch(file: str, width: int, height: int, sequence: ImageSequence) -> str:
    return (
        f"{file}: the image is {width}x{height} but the sequence is "
        f"{sequence.width}x{sequence.height} (from {os.path.basename(sequence.files[0])})"
    )


def _has_alpha(file: str) -> bool:
    image = cv2.imdecode(np.fromfile(file, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    return image is not None and image.ndim == 3 and image.shape[2] == 4


@contextlib.contextmanager
def opencv_quiet() -> Iterator[None]:
    """OpenCV's own warnings off (its readers print them on stderr): the caller says what failed, in one line."""
    # cv2.getLogLevel in OpenCV 4.11, cv2.utils.logging.getLogLevel only in 4.13 (Blender 5.1's numpy 2 build)
    logging = cv2 if hasattr(cv2, "getLogLevel") else getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None or not hasattr(logging, "getLogLevel"):
        yield
        return
    previous = logging.getLogLevel()
    logging.setLogLevel(0)  # silent
    try:
        yield
    finally:
        logging.setLogLevel(previous)


def _read_image(file: str) -> np.ndarray:
    # imdecode(fromfile) rather than imread: imread cannot open non-ASCII paths on Windows.
    try:
        data = np.fromfile(file, dtype=np.uint8)
    except OSError as exc:
        raise os_error(file, exc) from None
    if png_cut_short(data[:8].tobytes(), data[-12:].tobytes()):
        raise MediaError(_cut_short(file))  # before libpng, which prints its own complaint on stderr
    with opencv_quiet():  # OpenCV's own warnings about a damaged image, before our line
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION) if data.size else None
    if image is None:
        raise MediaError(f"{file}: not an image OpenCV can read")
    return to_bgr8(image)


_NUMBERED = re.compile(r"(.*?)(\d+)(\.[^.]+)")


def _numbering_gap(files: list[str]) -> str | None:
    """A warning when a folder's images are numbered alike and numbers are missing between them: each image is one
    frame, so every frame after a gap comes early (a numbered pattern, such as frames/%05d.png, refuses it)."""
    parts = [_NUMBERED.fullmatch(os.path.basename(file)) for file in files]
    if len(files) < 2 or not all(parts) or len({(part[1], part[3]) for part in parts}) > 1:
        return None
    numbers = sorted(int(part[2]) for part in parts)
    gaps = [(earlier, later) for earlier, later in zip(numbers, numbers[1:], strict=False) if later > earlier + 1]
    if not gaps:
        return None
    missing, first = sum(later - earlier - 1 for earlier, later in gaps), gaps[0][0] + 1
    return (f"{os.path.dirname(files[0])}: images numbered {numbers[0]} to {numbers[-1]} lack {missing} number"
            f"{'s' if missing > 1 else ''} (the first: {first}); each image is one frame, so the frames after a "
            "gap come early")


def _cut_short(file: str) -> str:
    return f"{file}: the PNG file is cut short (it does not end with its IEND chunk)"


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """An image as 8-bit BGR: 16-bit values rounded to x/257, gray repeated, alpha flattened over black.

    Flattening over black is what Blender's sequencer shows for a transparent strip with nothing
    under it, so both engines see the same picture: ``round(colour * alpha / 255)``.
    """
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ValueError(f"{image.dtype} images are not supported")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.uint16)
        return ((image[:, :, :3] * alpha + 127) // 255).astype(np.uint8)
    return image


def _header_size(file: str) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header without decoding; None for other or odd files. A PNG cut short
    raises :class:`MediaError` (found here, before libpng would print its own complaint)."""
    try:
        stream = open(file, "rb")
    except OSError:
        return None
    with stream:
        head = stream.read(24)
        if head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR":
            stream.seek(max(0, os.fstat(stream.fileno()).st_size - 12))
            if png_cut_short(head, stream.read(12)):
                raise MediaError(_cut_short(file))
            return struct.unpack(">II", head[16:24])
        if head[:2] != b"\xff\xd8":
            return None
        stream.seek(2)
        while True:  # walk the JPEG segments to the start-of-frame marker
            segment = stream.read(4)
            if len(segment) < 4 or segment[0] != 0xFF:
                return None
            marker, length = segment[1], struct.unpack(">H", segment[2:])[0]
            if length < 2:
                return None
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                frame_header = stream.read(5)
                if len(frame_header) < 5:
                    return None
                height, width = struct.unpack(">HH", frame_header[1:])
                return (width, height) if height else None
            stream.seek(length - 2, os.SEEK_CUR)




class SequenceWriter(FrameWriter):
    """Numbered image files; a file's number is its output frame index, from ``first``.

    The frames go to the :class:`~.publish.PendingFile`'s temporary folder, published together at the end.
    """

    def __init__(self, pending: PendingFile, width: int, height: int, first: int) -> None:
        super().__init__(pending, width, height)
        self._first = first
        self._extension = extension(pending.path)
        self._params = _IMWRITE_PARAMS[self._extension]

    def _write(self, frame: np.ndarray, index: int, time: Fraction | None) -> None:
        ok, encoded = cv2.imencode(self._extension, frame, self._params)
        if not ok:
            raise MediaError(f"{self.path}: OpenCV cannot encode {self._extension} images")
        try:
            with open(self._pending.frame_path(self._first + index), "wb") as stream:  # unlike tofile, says ENOSPC
                stream.write(encoded.data)
        except OSError as exc:
            raise MediaError(cannot_write(self._pending.numbered.folder, exc)) from None

    def _finish(self) -> None:
        pass  # each frame is a complete file once written

    def _publish(self) -> None:
        self._pending.commit(range(self._first, self._first + self.frames_written))
