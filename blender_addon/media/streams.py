"""Threaded read heads and writers: the streaming machinery every source and writer shares.

Frames are (H, W, 3) BGR uint8 arrays (OpenCV's order) once expanded. A movie's read head may
yield them in the decoder's compact form instead (4:2:0 planes, half the bytes), and
:meth:`VideoSource.expand` turns one into BGR when it is used, so the engine's window of
|N|+1 frames holds the compact form.

Both sides run on a thread of their own, so that decoding, the caller's pixel work and encoding
overlap (FFmpeg and OpenCV release the GIL while they decode and encode): each read head decodes
up to :data:`READ_AHEAD` frames ahead into a pool of reused buffers, and a writer encodes up to
:data:`WRITE_BEHIND` copied frames behind the caller. Errors from either thread are raised in the
caller's thread, and no thread outlives its read head or writer.
"""

from __future__ import annotations

import queue
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..core.rates import rate_text
from .errors import MediaError
from .publish import PendingFile

READ_AHEAD = 2  # decoded frames each read head queues ahead of its reader
WRITE_BEHIND = 2  # frames a writer queues for its encoder (one more is being encoded)


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

    thread = threading.Thread(target=run, name="media read-ahead", daemon=True)
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


class VideoSource(ABC):
    """A clip of known length and frame size that opens independent, sequential read heads.

    ``rate`` is the exact frame rate (30000/1001 stays so); ``timestamps`` holds each frame's time
    in seconds from the first frame when the rate varies, else ``None``.
    """

    def __init__(self, path: str, frame_count: int, width: int, height: int, rate: Fraction,
                 fps_guessed: bool, timestamps: tuple[Fraction, ...] | None = None) -> None:
        self.path = path
        self.frame_count = frame_count
        self.width = width
        self.height = height
        self.rate = rate
        self.fps = float(rate)
        self.fps_guessed = fps_guessed  # the file had no usable rate: DEFAULT_FPS was assumed
        self.timestamps = timestamps
        self.frame_bytes = width * height * 3  # bytes of one frame as the read heads hold it
        # The heads yield compact I420 buffers (8-bit limited range, BT.601 as ``expand`` converts them), padded to
        # even: the engine's planar path (core.planar) can take them as they are.
        self.yields_planes = False
        self.has_audio = False
        self.has_alpha = False  # transparent areas are flattened over black
        self.warnings: list[str] = []  # what the user should hear about the input, one line each
        self.sample_aspect: Fraction | None = None  # a pixel's width over its height where not square (anamorphic)
        self.colour_warning: str | None = None  # tagged colours no conversion here manages (also in warnings)
        # Frames the decoder could not make (it rejected their packets), each shown as the frame before it, as
        # players show it; the read heads add them as they find them (see damage_warning).
        self.lost_frames: set[int] = set()

    def damage_warning(self) -> str | None:
        """The warning naming the frames read so far that the decoder could not make, or ``None``."""
        if not self.lost_frames:
            return None
        lost = sorted(self.lost_frames)
        named = ", ".join(str(index) for index in lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        return (f"{self.path}: the file is damaged: the decoder rejected {'frame' if len(lost) == 1 else 'frames'} "
                f"{named} ({float(self.time_of(lost[0])):.2f} s), shown as the frame before")

    def time_of(self, index: int) -> Fraction:
        """Frame ``index``'s time in seconds from the first frame."""
        if self.timestamps is not None and 0 <= index < len(self.timestamps):
            return self.timestamps[index]
        return index / self.rate

    def read_from(self, start: int, compact: bool = False) -> Iterator[np.ndarray]:
        """A new read head yielding frames ``start`` to ``frame_count - 1`` as (H, W, 3) BGR uint8.

        With ``compact``, frames come in the source's compact form, which :meth:`expand` turns
        into BGR (the engine's window holds them so). Frames are decoded on a thread of the
        head's own, a few ahead; each one stays valid for as long as the caller keeps it.
        """
        if not 0 <= start <= self.frame_count:
            raise ValueError(f"start frame {start} is outside 0..{self.frame_count}")
        if compact:
            return _read_ahead(lambda: self._frames(start))
        return _read_ahead(lambda: self._expanded(start))

    def read_planes(self, start: int) -> Iterator[np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """A read head for the planar path (a source that ``yields_planes``): as ``read_from(start, compact=True)``,
        but a source may lend a frame as its three 4:2:0 planes (Y, U, V), views of the decoder's own picture,
        instead of copying them into a compact buffer (``core.planar.planes`` takes either)."""
        return self.read_from(start, compact=True)

    def _expanded(self, start: int) -> Iterator[np.ndarray]:
        frames = self._frames(start)
        try:
            for frame in frames:
                yield self.expand(frame)
                frame = None
        finally:
            frames.close()

    def expand(self, frame: np.ndarray) -> np.ndarray:
        """A frame from a read head as (H, W, 3) BGR uint8 (the same array when it already is)."""
        return frame

    @abstractmethod
    def _frames(self, start: int) -> Iterator[np.ndarray]: ...

    def __str__(self) -> str:
        guessed = ", guessed" if self.fps_guessed else ""
        variable = ", variable" if self.timestamps is not None else ""
        return (
            f"{self.path} ({self.width}x{self.height}, {self.frame_count} frames, "
            f"{rate_text(self.fps)} fps{guessed}{variable})"
        )


class FrameWriter(ABC):
    """Writes frames to a hidden temporary beside the output (its :class:`~.publish.PendingFile`) and moves it
    into place on :meth:`commit`.

    Used as a context manager, a clean exit commits and any exception (KeyboardInterrupt
    included) aborts, leaving nothing at the output path. :meth:`write` copies the frame (the
    caller may reuse its array at once) and queues it for an encoding thread; an error on that
    thread is raised by the next :meth:`write` or by :meth:`commit`. A frame rendered where
    :meth:`lend` says is queued without a copy.
    """

    def __init__(self, pending: PendingFile, width: int, height: int) -> None:
        self._pending = pending
        self.path = pending.path
        self.overwrite = pending.overwrite  # publishing may replace a file that appeared at path meanwhile
        self.width = width
        self.height = height
        self.frame_shape: tuple[int, ...] = (height, width, 3)  # what write takes
        self.frames_written = 0
        self._closed = False
        self._queue: queue.Queue = queue.Queue(maxsize=WRITE_BEHIND)
        self._free: queue.SimpleQueue = queue.SimpleQueue()  # buffers the encoder is done with
        self._buffers = 0
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._dropping = False  # aborting: the encoder skips what is still queued
        self._lent: tuple[object, object] | None = None  # the next frame's buffer, and what lend gave of it

    def lend(self) -> object:
        """Where the next frame may be rendered: the memory the next :meth:`write` hands its encoder (an array of
        ``frame_shape``, or a writer's own form of it, see :meth:`_lent_view`). Writing what was rendered there
        copies nothing; writing anything else copies it there. Valid until that write."""
        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed")
        if self._lent is None:
            buffer = self._take_buffer()
            self._lent = buffer, self._lent_view(buffer)
        return self._lent[1]

    def write(self, frame: np.ndarray, time: Fraction | None = None) -> None:
        """Queue ``frame``; ``time`` is its presentation time in seconds (default: its index over the rate)."""
        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed")
        lent = self._lent is not None and frame is self._lent[1]
        if not lent and (frame.shape != self.frame_shape or frame.dtype != np.uint8):
            raise ValueError(f"{self.path}: expected {self.frame_shape} uint8 frames, got {frame.shape} {frame.dtype}")
        self._raise_error()
        if self._thread is None:
            self._thread = threading.Thread(target=self._encode_queued, name="media writer", daemon=True)
            self._thread.start()
        if self._lent is not None:
            buffer, self._lent = self._lent[0], None
        else:
            buffer = self._take_buffer()
        if not lent:
            self._fill(buffer, frame)
        self._queue.put((buffer, self.frames_written, time))
        self.frames_written += 1

    def _take_buffer(self) -> object:
        """A buffer the encoder is done with, or a new one while fewer than the queue and the encoder hold exist."""
        if self._buffers <= WRITE_BEHIND:  # one more than the queue holds: that one is being encoded
            self._buffers += 1
            return self._new_buffer()
        return self._free.get()

    def _new_buffer(self) -> object:
        """What :meth:`write` copies a frame into for the encoding thread: an array of ``frame_shape`` (a writer
        may hand its encoder something of its own, see :meth:`_fill`)."""
        return np.empty(self.frame_shape, dtype=np.uint8)

    def _fill(self, buffer: object, frame: np.ndarray) -> None:
        """Copy ``frame`` into ``buffer`` (one of :meth:`_new_buffer`'s), on the caller's thread."""
        np.copyto(buffer, frame)

    def _lent_view(self, buffer: object) -> object:
        """What :meth:`lend` gives of ``buffer`` to render a frame into: the array itself."""
        return buffer

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
            buffer, index, time = item
            if self._error is None and not self._dropping:
                try:
                    self._write(buffer, index, time)
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
            self._close_after_failure()
        finally:
            self._discard()

    def _close_after_failure(self) -> None:
        """Close the file of an abandoned render (by default as :meth:`_finish` does; a writer whose flush
        could fail again closes without it)."""
        self._finish()

    @abstractmethod
    def _write(self, frame: object, index: int, time: Fraction | None) -> None:
        """Encode the frame (a buffer :meth:`_fill` filled) of output number ``index`` (counted from the writer's
        first frame) shown at ``time``."""

    @abstractmethod
    def _finish(self) -> None:
        """Flush and close the encoder; may run more than once."""

    def _publish(self) -> None:
        """Move the finished temporary into place."""
        self._pending.commit()

    def _discard(self) -> None:
        """Delete the temporary, whatever state it is in."""
        self._pending.discard()


