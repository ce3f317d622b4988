"""Reading and writing video files and image sequences with OpenCV: clear errors, frame-exact reads, atomic writes.

Frames are (H, W, 3) BGR uint8 arrays (OpenCV's order) everywhere.

- :func:`open_source` opens a movie, a folder of images or a numbered pattern such as
  ``frames/%05d.png`` as a :class:`VideoSource`, the ``FrameSource`` of ``core.engine``.
- :func:`open_writer` writes ``.avi`` (MJPG), ``.mp4`` (mp4v), ``.mkv`` (lossless FFV1) or a
  numbered image sequence (``.png``, ``.jpg``, ``.tif``) to a hidden temporary beside the output
  and moves it into place only when the ``with`` block ends cleanly.

Both sides run on a thread of their own, so that decoding, the caller's pixel work and encoding
overlap (OpenCV releases the GIL while it decodes and encodes): each read head decodes up to
:data:`READ_AHEAD` frames ahead into a pool of reused buffers, and a writer encodes up to
:data:`WRITE_BEHIND` copied frames behind the caller. Errors from either thread are raised in the
caller's thread, and no thread outlives its read head or writer.

Every failure the user can cause raises :class:`MediaError` with a one-line message naming the file.
This module never imports bpy.
"""

from __future__ import annotations

import math
import os
import queue
import re
import secrets
import shutil
import struct
import sys
import tempfile
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

# FFmpeg prints its own complaints about damaged files (e.g. "moov atom not found") on stderr, where
# MediaError already says it in one line. This takes effect if set before OpenCV first uses FFmpeg
# in the process; OPENCV_FFMPEG_LOGLEVEL=32 in the environment brings them back.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

DEFAULT_FPS = 25.0
READ_AHEAD = 2  # decoded frames each read head queues ahead of its reader
WRITE_BEHIND = 2  # frames a writer queues for its encoder (one more is being encoded)
MAX_PLAUSIBLE_FPS = 1000.0  # above this (or 0/NaN) the file's rate is junk and DEFAULT_FPS is used

# OpenCV's FFmpeg backend reads the frame count of these containers from their index (MP4/MOV
# sample tables, AVI headers), which is exact. For the others (MKV, WebM, TS, ...) it estimates
# duration x fps, which can be off by a few frames, so those are counted by decoding.
EXACT_FRAME_COUNT_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".avi"})

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})

# Always 8-bit BGR (grayscale, alpha and 16-bit images are converted). EXIF orientation is
# ignored, as video frames have none, and so header sizes match decoded sizes.
_IMREAD_FLAGS = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION

# Output extension -> fourcc. The FFmpeg backend is used for all three: OpenCV's own MJPEG writer
# honours a quality setting but rounds the frame rate to an integer and cannot pass 4 GB.
MOVIE_FOURCCS = {".avi": "MJPG", ".mp4": "mp4v", ".mkv": "FFV1"}
# Image-sequence extension -> kind, and the encoder parameters of each kind.
SEQUENCE_KINDS = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".tif": "tif", ".tiff": "tif"}
_IMWRITE_PARAMS = {"png": [], "jpg": [cv2.IMWRITE_JPEG_QUALITY, 95], "tif": []}
MJPEG_QUALITY = 95

_SUPPORTED_OUTPUTS = (
    ".avi (MJPG), .mp4 (mp4v), .mkv (lossless FFV1) or a numbered image sequence "
    "such as frames/%05d.png (.png, .jpg or .tif)"
)
_OPENCV_LOG_ERROR = 2  # cv2.setLogLevel level that drops warnings
_PRINTF_NUMBER = re.compile(r"%(0\d+)?d")
_DIGITS = re.compile(r"(\d+)", re.ASCII)


class MediaError(Exception):
    """A file cannot be read or written; the one-line message names the file and the problem."""


# --- file names --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NumberedName:
    """A path whose file name holds one printf number, such as ``frames/img_%05d.png``."""

    folder: str
    prefix: str
    spec: str
    suffix: str

    @classmethod
    def parse(cls, path: str) -> _NumberedName | None:
        folder, name = os.path.split(path)
        match = _PRINTF_NUMBER.search(name)
        if match is None or name.count("%") != 1:
            return None
        return cls(folder, name[: match.start()], match.group(), name[match.end() :])

    def name(self, number: int) -> str:
        return f"{self.prefix}{self.spec % number}{self.suffix}"

    def path(self, number: int) -> str:
        return os.path.join(self.folder, self.name(number))

    def existing(self) -> dict[int, str]:
        """The numbers of the files in the folder that this pattern names, mapped to their paths."""
        digits = re.compile(re.escape(self.prefix) + r"(\d+)" + re.escape(self.suffix), re.ASCII)
        try:
            entries = os.listdir(self.folder or ".")
        except OSError:
            return {}
        found = {}
        for entry in entries:
            match = digits.fullmatch(entry)
            if match and self.name(int(match.group(1))) == entry:
                found[int(match.group(1))] = os.path.join(self.folder, entry)
        return found


def _natural_key(name: str) -> list[int | str]:
    """Sort key that orders ``f2.png`` before ``f10.png``."""
    return [int(part) if i % 2 else part.lower() for i, part in enumerate(_DIGITS.split(name))]


def _extension(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _os_error(path: str, exc: OSError) -> MediaError:
    return MediaError(f"{path}: {(exc.strerror or str(exc)).lower()}")


def _format_fps(fps: float) -> str:
    return f"{fps:.3f}".rstrip("0").rstrip(".")


def _usable_fps(fps: float) -> float | None:
    """``fps`` when it is a plausible frame rate, else None."""
    return fps if math.isfinite(fps) and 0 < fps <= MAX_PLAUSIBLE_FPS else None


# --- threads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    """An exception raised on a worker thread, on its way to the caller's thread."""

    error: BaseException


_END = object()  # a read head's thread has delivered every frame


class _FramePool:
    """Frame buffers for one read head; a buffer is decoded into again once nothing else refers to it.

    The frames a read head yields stay valid for as long as the caller keeps them (the engine
    keeps a window of |N|+1), so a buffer is free only when the pool holds the last reference
    to it. Then no other thread can get hold of it again, so the check is safe without a lock.
    In a steady stream the pool stops growing at the frames the caller keeps, plus the queue.
    """

    def __init__(self, shape: tuple[int, int, int]) -> None:
        self._shape = shape
        self._buffers: list[np.ndarray] = []
        # The count sys.getrefcount reports in take() for a buffer only the list refers to: the
        # list, the loop variable and getrefcount's own argument (measured, not assumed).
        for probe in [np.empty(0)]:
            self._unreferenced = sys.getrefcount(probe)

    def take(self) -> np.ndarray:
        for buffer in self._buffers:
            if sys.getrefcount(buffer) <= self._unreferenced:
                return buffer
        buffer = np.empty(self._shape, dtype=np.uint8)
        self._buffers.append(buffer)
        return buffer

    def __len__(self) -> int:
        return len(self._buffers)


def _read_ahead(frames: Callable[[], Iterator[np.ndarray]], depth: int = READ_AHEAD) -> Iterator[np.ndarray]:
    """Yields what the generator ``frames()`` yields, running it on a thread ``depth`` frames ahead.

    The generator is made, run and closed on that thread. Its exceptions are raised here, in
    order after the frames before them. Closing this generator (or dropping it) stops the
    thread and waits for it, so that it never outlives the read head.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            source = frames()
            try:
                for frame in source:
                    handoff.put(frame)
                    del frame  # the pool may reuse the buffer once the reader lets it go
                    if stop.is_set():
                        return
            finally:
                source.close()
            handoff.put(_END)
        except BaseException as error:  # handed to the caller's thread
            handoff.put(_Failure(error))

    thread = threading.Thread(target=run, name="video_io read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
            item = None
    finally:
        stop.set()
        while thread.is_alive():  # make room for a put() the thread may be blocked in
            try:
                handoff.get_nowait()
            except queue.Empty:
                thread.join(0.01)


# --- reading -----------------------------------------------------------------------------------


class VideoSource(ABC):
    """A clip of known length and frame size that opens independent, sequential read heads."""

    def __init__(self, path: str, frame_count: int, width: int, height: int, fps: float, fps_guessed: bool) -> None:
        self.path = path
        self.frame_count = frame_count
        self.width = width
        self.height = height
        self.fps = fps
        self.fps_guessed = fps_guessed  # the file had no usable rate: DEFAULT_FPS was assumed

    def read_from(self, start: int) -> Iterator[np.ndarray]:
        """A new read head yielding frames ``start`` to ``frame_count - 1`` as (H, W, 3) BGR uint8.

        Frames are decoded on a thread of the head's own, a few ahead; each one stays valid for as
        long as the caller keeps a reference to it.
        """
        if not 0 <= start <= self.frame_count:
            raise ValueError(f"start frame {start} is outside 0..{self.frame_count}")
        return _read_ahead(lambda: self._frames(start))

    @abstractmethod
    def _frames(self, start: int) -> Iterator[np.ndarray]: ...

    def __str__(self) -> str:
        guessed = ", guessed" if self.fps_guessed else ""
        return (
            f"{self.path} ({self.width}x{self.height}, {self.frame_count} frames, {_format_fps(self.fps)} fps{guessed})"
        )


class MovieSource(VideoSource):
    """A movie file decoded by OpenCV's FFmpeg backend."""

    def _frames(self, start: int) -> Iterator[np.ndarray]:
        capture = _open_capture(self.path)
        pool = _FramePool((self.height, self.width, 3))
        try:
            # Seeking (CAP_PROP_POS_FRAMES) is not frame-exact on every file: walk from frame 0.
            for _ in range(start):
                if not capture.grab():
                    return
            for _ in range(start, self.frame_count):
                ok, frame = capture.read(pool.take())
                if not ok:
                    return  # a damaged file ends early; the caller sees fewer frames than frame_count
                yield frame
                frame = None  # hold no reference, so the pool can reuse the buffer
        finally:
            capture.release()


class ImageSequence(VideoSource):
    """Numbered or sorted image files, one frame each."""

    def __init__(self, path: str, files: list[str], width: int, height: int, fps: float, fps_guessed: bool) -> None:
        super().__init__(path, len(files), width, height, fps, fps_guessed)
        self.files = tuple(files)

    def _frames(self, start: int) -> Iterator[np.ndarray]:
        for file in self.files[start:]:
            frame = _read_image(file)
            if frame.shape[:2] != (self.height, self.width):
                raise MediaError(_size_mismatch(file, frame.shape[1], frame.shape[0], self))
            yield frame


def open_source(path: str | os.PathLike, fps: float | None = None) -> VideoSource:
    """Open a movie file, a folder of images or a numbered pattern such as ``frames/%05d.png``.

    Everything is checked up front (the file exists, decodes, has frames; a sequence's images
    all have one size), so reading later fails only if the files change. ``fps`` replaces the
    file's frame rate; image sequences have none and default to :data:`DEFAULT_FPS`.
    """
    path = os.fspath(path)
    if fps is not None and _usable_fps(fps) is None:
        raise ValueError(f"{path}: invalid frame rate {fps}")
    if os.path.isdir(path):
        return _open_sequence(path, _folder_images(path), fps)
    numbered = _NumberedName.parse(path)
    if numbered is not None and not os.path.exists(path):
        return _open_sequence(path, _numbered_images(path, numbered), fps)
    if not os.path.exists(path):
        raise MediaError(f"{path}: no such file")
    return _open_movie(path, fps)


def _open_capture(path: str) -> cv2.VideoCapture:
    previous = cv2.getLogLevel()
    cv2.setLogLevel(_OPENCV_LOG_ERROR)  # OpenCV warns when a file does not open; MediaError says so
    try:
        capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    finally:
        cv2.setLogLevel(previous)
    if not capture.isOpened():
        capture.release()
        raise MediaError(f"{path}: not a video OpenCV can read")
    # Phone videos are often stored sideways with a rotation tag; show them upright, as players
    # (and Blender) do. OpenCV 4.11 leaves this off by default.
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return capture


def _open_movie(path: str, fps: float | None) -> MovieSource:
    try:  # FFmpeg would report an unreadable file as "not a video"
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise _os_error(path, exc) from None
    capture = _open_capture(path)
    try:
        ok, frame = capture.read()
        if not ok:
            raise MediaError(f"{path}: the video has no frames")
        file_fps = _usable_fps(capture.get(cv2.CAP_PROP_FPS))
        reported = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if _extension(path) in EXACT_FRAME_COUNT_EXTENSIONS and reported > 0:
            frame_count = reported
        else:
            frame_count = 1
            while capture.grab():
                frame_count += 1
    finally:
        capture.release()
    height, width = frame.shape[:2]
    if fps is not None:
        return MovieSource(path, frame_count, width, height, fps, False)
    return MovieSource(path, frame_count, width, height, file_fps or DEFAULT_FPS, file_fps is None)


def _folder_images(folder: str) -> list[str]:
    """The files of the folder's most common image extension, in natural order."""
    try:
        entries = os.listdir(folder)
    except OSError as exc:
        raise _os_error(folder, exc) from None
    names = sorted(
        (
            name
            for name in entries
            if not name.startswith(".")
            and _extension(name) in IMAGE_EXTENSIONS
            and os.path.isfile(os.path.join(folder, name))
        ),
        key=_natural_key,
    )
    if not names:
        raise MediaError(f"{folder}: no image files in this folder")
    extension = Counter(_extension(name) for name in names).most_common(1)[0][0]
    return [os.path.join(folder, name) for name in names if _extension(name) == extension]


def _numbered_images(pattern: str, numbered: _NumberedName) -> list[str]:
    """The files numbered consecutively from the lowest number present; a gap ends the sequence."""
    found = numbered.existing()
    if not found:
        raise MediaError(f"{pattern}: no files match this pattern")
    number = min(found)
    files = []
    while number in found:
        files.append(found[number])
        number += 1
    return files


def _open_sequence(path: str, files: list[str], fps: float | None) -> ImageSequence:
    first = _read_image(files[0])
    height, width = first.shape[:2]
    sequence = ImageSequence(path, files, width, height, fps or DEFAULT_FPS, fps is None)
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


def _read_image(file: str) -> np.ndarray:
    # imdecode(fromfile) rather than imread: imread cannot open non-ASCII paths on Windows.
    try:
        data = np.fromfile(file, dtype=np.uint8)
    except OSError as exc:
        raise _os_error(file, exc) from None
    frame = cv2.imdecode(data, _IMREAD_FLAGS) if data.size else None
    if frame is None:
        raise MediaError(f"{file}: not an image OpenCV can read")
    return frame


def _header_size(file: str) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header without decoding; None for other or odd files."""
    try:
        stream = open(file, "rb")
    except OSError:
        return None
    with stream:
        head = stream.read(24)
        if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
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


# --- writing -----------------------------------------------------------------------------------


def output_kind(path: str | os.PathLike) -> str:
    """The writer for ``path``: a fourcc (``MJPG``, ``mp4v``, ``FFV1``) or an image kind (``png``, ``jpg``, ``tif``).

    A file name holding a printf number such as ``%05d`` means a numbered image sequence.
    Raises :class:`MediaError` for anything else.
    """
    path = os.fspath(path)
    extension = _extension(path)
    if _NumberedName.parse(path) is not None:
        if extension in SEQUENCE_KINDS:
            return SEQUENCE_KINDS[extension]
        raise MediaError(f"{path}: image sequences can be .png, .jpg or .tif, not {extension or 'no extension'}")
    if extension in MOVIE_FOURCCS:
        return MOVIE_FOURCCS[extension]
    if extension == ".mov":
        raise MediaError(
            f"{path}: .mov is not supported by this writer (ProRes .mov comes from the Blender render); "
            f"use {_SUPPORTED_OUTPUTS}"
        )
    raise MediaError(f"{path}: cannot write {extension or 'a file without an extension'}; use {_SUPPORTED_OUTPUTS}")


class FrameWriter(ABC):
    """Writes frames to a hidden temporary beside the output and moves it into place on :meth:`commit`.

    Used as a context manager, a clean exit commits and any exception (KeyboardInterrupt
    included) aborts, leaving nothing at the output path. :meth:`write` copies the frame (the
    caller may reuse its array at once) and queues it for an encoding thread; an error on that
    thread is raised by the next :meth:`write` or by :meth:`commit`.
    """

    def __init__(self, path: str, width: int, height: int) -> None:
        self.path = path
        self.width = width
        self.height = height
        self.frames_written = 0
        self._closed = False
        self._queue: queue.Queue = queue.Queue(maxsize=WRITE_BEHIND)
        self._free: queue.SimpleQueue = queue.SimpleQueue()  # buffers the encoder is done with
        self._buffers = 0
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._dropping = False  # aborting: the encoder skips what is still queued

    def write(self, frame: np.ndarray) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed")
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(
                f"{self.path}: expected ({self.height}, {self.width}, 3) uint8 frames, got {frame.shape} {frame.dtype}"
            )
        self._raise_error()
        if self._thread is None:
            self._thread = threading.Thread(target=self._encode_queued, name="video_io writer", daemon=True)
            self._thread.start()
        if self._buffers <= WRITE_BEHIND:  # one more than the queue holds: that one is being encoded
            self._buffers += 1
            buffer = np.empty((self.height, self.width, 3), dtype=np.uint8)
        else:
            buffer = self._free.get()
        np.copyto(buffer, frame)
        self._queue.put((buffer, self.frames_written))
        self.frames_written += 1

    def commit(self) -> None:
        """Finish the file and move it to the output path; on failure nothing is left behind."""
        if self._closed:
            return
        self._closed = True
        try:
            self._stop_encoding()
            self._raise_error()
            self._finish()
            if self.frames_written == 0:
                raise MediaError(f"{self.path}: no frames were written")
            self._publish()
        except BaseException:
            self._abandon()
            raise

    def abort(self) -> None:
        """Stop and delete everything written so far."""
        if self._closed:
            return
        self._closed = True
        self._dropping = True
        self._abandon()

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def _encode_queued(self) -> None:
        """The encoding thread: writes queued frames in order until it is handed None."""
        while (item := self._queue.get()) is not None:
            buffer, index = item
            if self._error is None and not self._dropping:
                try:
                    self._write(buffer, index)
                except BaseException as error:  # raised in the caller's thread
                    self._error = error
            self._free.put(buffer)

    def _stop_encoding(self) -> None:
        """Let the encoding thread write what is queued (unless aborting), then wait for it to end."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._dropping = True  # nothing after a failed frame is written
            raise error

    def _abandon(self) -> None:
        """Stop the encoder, close the file and delete the temporary, whatever state they are in."""
        self._dropping = True
        try:
            self._stop_encoding()
            self._finish()
        finally:
            self._discard()

    @abstractmethod
    def _write(self, frame: np.ndarray, index: int) -> None:
        """Encode the frame of output number ``index`` (counted from the writer's first frame)."""

    @abstractmethod
    def _finish(self) -> None:
        """Flush and close the encoder; may run more than once."""

    @abstractmethod
    def _publish(self) -> None:
        """Move the finished temporary into place."""

    @abstractmethod
    def _discard(self) -> None:
        """Delete the temporary, whatever state it is in."""


class _MovieWriter(FrameWriter):
    def __init__(self, path: str, fourcc: str, fps: float, width: int, height: int) -> None:
        super().__init__(path, width, height)
        # OpenCV's FFmpeg writers silently drop an odd last row or column; repeat it instead, so
        # the movie keeps every pixel (one line taller or wider).
        self._padding = (height % 2, width % 2)
        self._temp = _create_temp_file(path)
        self._writer: cv2.VideoWriter | None = None
        try:
            self._writer = cv2.VideoWriter(
                self._temp, cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*fourcc), fps,
                (width + self._padding[1], height + self._padding[0]),
            )
            if not self._writer.isOpened():
                raise MediaError(f"{path}: OpenCV cannot open a {fourcc} video writer")
        except BaseException:
            self._finish()
            self._discard()
            raise
        if fourcc == "MJPG":
            # Ignored by the FFmpeg backend of OpenCV 4.11, which encodes MJPG at about 3 bits per pixel.
            self._writer.set(cv2.VIDEOWRITER_PROP_QUALITY, MJPEG_QUALITY)

    def _write(self, frame: np.ndarray, index: int) -> None:
        if any(self._padding):
            frame = cv2.copyMakeBorder(frame, 0, self._padding[0], 0, self._padding[1], cv2.BORDER_REPLICATE)
        self._writer.write(frame)

    def _finish(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def _publish(self) -> None:
        os.replace(self._temp, self.path)

    def _discard(self) -> None:
        try:
            os.remove(self._temp)
        except FileNotFoundError:
            pass


class _SequenceWriter(FrameWriter):
    def __init__(self, path: str, numbered: _NumberedName, kind: str, width: int, height: int, first: int) -> None:
        super().__init__(path, width, height)
        self._numbered = numbered
        self._first = first
        self._extension = _extension(path)
        self._params = _IMWRITE_PARAMS[kind]
        try:
            self._temp = tempfile.mkdtemp(prefix=".frames.partial-", dir=numbered.folder or ".")
        except OSError as exc:
            raise MediaError(_cannot_write(numbered.folder, exc)) from None

    def _write(self, frame: np.ndarray, index: int) -> None:
        ok, encoded = cv2.imencode(self._extension, frame, self._params)
        if not ok:
            raise MediaError(f"{self.path}: OpenCV cannot encode {self._extension} images")
        name = self._numbered.name(self._first + index)
        try:
            encoded.tofile(os.path.join(self._temp, name))
        except OSError as exc:
            raise MediaError(_cannot_write(self._numbered.folder, exc)) from None

    def _finish(self) -> None:
        pass  # each frame is a complete file once written

    def _publish(self) -> None:
        # Files of other numbers stay: they may be other chunks of the same render.
        for number in range(self._first, self._first + self.frames_written):
            os.replace(os.path.join(self._temp, self._numbered.name(number)), self._numbered.path(number))
        os.rmdir(self._temp)

    def _discard(self) -> None:
        shutil.rmtree(self._temp, ignore_errors=True)


def open_writer(
    path: str | os.PathLike,
    fps: float,
    width: int,
    height: int,
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike] = (),
    first_number: int = 0,
    frame_count: int | None = None,
) -> FrameWriter:
    """A :class:`FrameWriter` for ``path`` (see :func:`output_kind`); use it as a context manager.

    Image sequences number their files from ``first_number`` (the output frame index of the
    first frame, so chunks of one render fit together). Refuses, with :class:`MediaError`, an
    existing output unless ``overwrite`` (for a sequence: a file among the ``frame_count``
    numbers it will write, or any number from ``first_number`` on when the count is unknown),
    an output that is one of the ``protect`` paths (the inputs),
    an unwritable folder, and frame sizes the codec cannot store. Missing folders are created.
    """
    path = os.fspath(path)
    kind = output_kind(path)
    if not (math.isfinite(fps) and fps > 0) or width <= 0 or height <= 0:
        raise ValueError(f"{path}: invalid frame rate or size {fps} fps, {width}x{height}")
    numbered = _NumberedName.parse(path)
    existing = list(numbered.existing().values()) if numbered else []
    last = None if frame_count is None else first_number + frame_count
    colliding = [
        file for number, file in (numbered.existing().items() if numbered else ())
        if number >= first_number and (last is None or number < last)
    ]
    for protected in map(os.fspath, protect):
        if _same_file(path, protected) or any(
            _same_file(file, protected) or _same_file(os.path.dirname(file) or ".", protected) for file in existing
        ):
            raise MediaError(f"{path}: output would overwrite the input")
    if numbered is None and os.path.isdir(path):
        raise MediaError(f"{path}: is a folder")
    if not overwrite and (colliding or (numbered is None and os.path.lexists(path))):
        if colliding:
            raise MediaError(f"{path}: {len(colliding)} frame files already exist (use --overwrite to replace them)")
        raise MediaError(f"{path} already exists (use --overwrite to replace it)")
    folder = os.path.dirname(path)
    if folder:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise MediaError(_cannot_write(folder, exc)) from None
    if numbered is not None:
        return _SequenceWriter(path, numbered, kind, width, height, first_number)
    return _MovieWriter(path, kind, fps, width, height)


def _create_temp_file(path: str) -> str:
    """Create the hidden, empty ``.<name>.partial-XXXX<ext>`` beside ``path``; this probes that the folder is writable.

    The same folder makes the final rename atomic; the same extension makes FFmpeg pick the same
    container. Unlike ``tempfile.mkstemp`` (mode 0600), the file gets the usual umask permissions.
    """
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".{name}.partial-{secrets.token_hex(4)}{_extension(name)}")
    try:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise MediaError(_cannot_write(folder, exc)) from None
    return temp


def _cannot_write(folder: str, exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        reason = "permission denied"
    elif isinstance(exc, (FileExistsError, NotADirectoryError)):
        reason = "a file is in the way of this folder"
    else:
        reason = (exc.strerror or str(exc)).lower()
    return f"cannot write to {folder or '.'}: {reason}"
