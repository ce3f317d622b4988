"""Movie files read with FFmpeg's own libraries (PyAV): decoded on threads, kept compact, converted as Blender does.

**Pictures.** A movie's frames become 8-bit BGR the way Blender's sequencer decodes them:

- 8-bit 4:2:0 (``yuv420p``, nearly every H.264/HEVC/AV1/VP9 file): the read heads keep FFmpeg's
  planes as they are (half the bytes of BGR) and :meth:`MovieSource.expand` converts a frame
  when it is used, by the matrix the stream is tagged with: BT.709, or else (untagged too) BT.601
  with OpenCV's ``COLOR_YUV2BGR_I420``, as Blender does; an odd last row or column is
  repeated for the conversion and cut off again; BT.2020 and HDR (PQ, HLG) inputs get a warning.
  The planar path's heads (:meth:`MovieSource.read_planes`) lend an even-sized picture's planes as
  FFmpeg decoded them, without a copy;
- other YUV formats (10-bit, 4:2:2, 4:4:4, full-range ``yuvj``) are first reduced once, by
  FFmpeg's swscale, to 8-bit 4:2:0, then converted the same way;
- RGB and gray formats (FFV1, PNG or QuickTime RLE in a movie) are converted to BGR exactly;
- formats with alpha are flattened over black (``round(colour * alpha / 255)``), as the
  sequencer shows a transparent strip with nothing under it and as image sequences are read.

Rotation tags are applied (phone videos are read upright). Every frame's timestamp is kept:
``rate`` is the stream's exact rational rate, and a file whose frames are not evenly spaced
gets ``timestamps``. Frame counts and timestamps come from the container's packets (demuxed
once, nothing decoded), so they are exact for every container; a file that decodes fewer
frames than it holds packets for ends early, and the engine says so.

Anything FFmpeg opens is an input: files, and stream URLs such as ``http://...``.
"""

from __future__ import annotations

import bisect
import itertools
import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from ..core.rates import DEFAULT_FPS, usable_fps
from .damage import Promise, check_promise, check_tail, promised_frames
from .errors import MediaError, os_error
from .mpeg_tail import CONTAINERS, read_tail
from .names import is_url
from .picture import QUARTER_TURNS, Picture
from .sound_jumps import Jumps, SoundJumps
from .streams import VideoSource, _FramePool, _read_ahead

# FFmpeg's own log stays off (PyAV's default; never av.logging.set_level): MediaError says what
# went wrong in one line, and a Python log callback takes the GIL from FFmpeg's decoder threads,
# which deadlocks when a decoder is freed while one of them logs.

_TS_DISCONT = 0x200  # AVFMT_TS_DISCONT: a container whose times may jump (MPEG-TS, MPEG-PS), which keeps no index
_PROBED_STREAMS = 16  # streams a headers-only open tells not to decode (FFmpeg takes options per stream)


def open_container(path: str, headers_only: bool = False) -> av.container.InputContainer:
    """``path`` opened by FFmpeg, or a one-line :class:`MediaError`. ``headers_only``: for what the container
    says, without the frames FFmpeg otherwise decodes to probe its streams (costly on a large movie), so the
    streams' pixel formats may be unknown."""
    if not is_url(path):
        if _is_pipe(path):  # opening it would wait for a writer, and a render opens its input more than once
            raise MediaError(f"{path}: is a pipe, which can be read only once: save the movie to a file first")
        try:
            with open(path, "rb"):
                pass
        except IsADirectoryError:
            raise MediaError(f"{path}: is a folder") from None
        except OSError as exc:
            raise os_error(path, exc) from None
    options = [{"skip_frame": "all"}] * _PROBED_STREAMS if headers_only else None
    try:
        try:
            return av.open(path, "r", stream_options=options)
        except ValueError:  # a container whose streams appear only as it is probed (MPEG-PS) takes no stream options
            if options is None:
                raise
            return av.open(path, "r")
    except av.error.FileNotFoundError:
        raise MediaError(f"{path}: no such file or stream") from None
    except av.error.FFmpegError as error:
        reason = (error.strerror or type(error).__name__).lower()
        raise MediaError(f"{path}: not a movie FFmpeg can read ({reason})") from None


def file_sample_aspect(path: str) -> Fraction | None:
    """A movie's pixel width over height as its headers give it, where not square (``None``: square or unknown)."""
    try:
        with open_container(path, headers_only=True) as container:
            aspect = container.streams.video[0].sample_aspect_ratio if container.streams.video else None
    except MediaError:
        return None
    return Fraction(aspect) if aspect and aspect != 1 else None


def _is_pipe(path: str) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False  # opening it says what is wrong


def file_rate(path: str) -> Fraction | None:
    """The movie's frame rate as its headers give it (the rate :func:`open_movie` takes first), without
    decoding a frame; ``None`` when the file cannot be opened or gives no usable rate."""
    try:
        container = open_container(path, headers_only=True)
    except MediaError:
        return None
    try:
        return _stream_rate(container.streams.video[0]) if container.streams.video else None
    finally:
        container.close()


class MovieSource(VideoSource):
    """A movie (or stream) decoded by FFmpeg through PyAV; see the module's notes on pictures and time."""

    def __init__(self, path: str, stream_index: int, picture: Picture, packets: _Packets, time_base: Fraction,
                 rate: Fraction, rate_guessed: bool, variable: bool, audio_streams: int) -> None:
        pts = packets.pts
        width, height = picture.width, picture.height
        if picture.rotation in QUARTER_TURNS:
            width, height = height, width
        timestamps = tuple((p - pts[0]) * time_base for p in pts) if variable else None
        super().__init__(path, len(pts), width, height, rate, rate_guessed, timestamps)
        self.stream_index = stream_index
        self.time_base = time_base
        self.pts = pts  # presentation time stamps of the frames, in time_base units
        self._keyframes = packets.keyframes
        self._seekable = packets.stamped  # a seek could not be placed without timestamps
        self._indexed = packets.indexed
        self.start_time = pts[0] * time_base  # the first frame's time in the file, in seconds
        self.has_audio = audio_streams > 0
        self.sound_jumps: Jumps | None = None  # where the first audio stream does not follow on (.sound_jumps)
        self.has_alpha = picture.alpha
        self.matrix = picture.matrix  # the YUV matrix the planes are converted by
        self._picture = picture
        self._heads = 0  # read heads decoding now (see _decode_from)
        self._heads_lock = threading.Lock()
        if picture.compact:
            self.frame_bytes = picture.compact_shape[0] * picture.compact_shape[1]
            self.yields_planes = True

    def expand(self, frame: np.ndarray) -> np.ndarray:
        return self._picture.expand(frame)

    def read_planes(self, start: int) -> Iterator[np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]]:
        if not self.yields_planes:
            raise ValueError(f"{self.path}: its read heads do not yield 4:2:0 planes")
        if not 0 <= start <= self.frame_count:
            raise ValueError(f"start frame {start} is outside 0..{self.frame_count}")
        return _read_ahead(lambda: self._frames(start, lend=True))

    def _frames(self, start: int, lend: bool = False) -> Iterator[np.ndarray]:
        if start >= self.frame_count:
            return
        for seek_to in self._seek_points(start):
            landed = yield from self._decode_from(start, seek_to, lend)
            if landed:
                return
        yield from self._decode_from(start, None, lend)  # no seek placed: decode from the beginning instead

    def _check_size(self, frame: av.VideoFrame, index: int) -> None:
        picture = self._picture
        if (frame.width, frame.height) != (picture.width, picture.height):
            raise MediaError(f"{self.path}: the picture size changes at frame {index}, from {picture.width}x"
                             f"{picture.height} to {frame.width}x{frame.height}: render the parts apart")

    def _index_of(self, pts: int | None) -> int | None:
        """The index of the frame shown at ``pts``, or ``None``."""
        index = bisect.bisect_left(self.pts, pts) if pts is not None else len(self.pts)
        return index if index < len(self.pts) and self.pts[index] == pts else None

    def _seek_points(self, start: int) -> list[int]:
        """Timestamps to seek to for frame ``start``, the likeliest first.

        The frame's own time: a container with an index of keyframes lands on the keyframe before
        it. Just before the last two keyframes at or before it, by their decode time: in a file
        without an index (MPEG-TS, MPEG-PS) a seek lands on the packet of that time, wherever it is,
        and decoding starts at the next keyframe: only those are tried there.
        """
        if start == 0 or not self._seekable:
            return []
        keys = [dts - 1 for index, dts in self._keyframes if 0 < index <= start][-2:][::-1]
        return [self.pts[start], *keys] if self._indexed else keys

    def _decode_from(self, start: int, seek_to: int | None, lend: bool = False) -> Iterator[np.ndarray]:
        """Frames ``start`` on, after a seek to timestamp ``seek_to``, or counted from frame 0 when it is ``None``
        (``lend``: see :meth:`Picture.convert`).

        After a seek, frames before the first keyframe decoded are dropped (a decoder may make them
        from missing references), and that keyframe is placed by its timestamp and the frames after
        it are counted, as a decode from frame 0 counts them: some files' timestamps do not follow
        the order the frames are shown in (AVI with packed B-frames, damaged timestamps), the decoder's
        order does. Returns False, having yielded nothing, when the seek cannot be placed (the seek
        fails, or lands on a frame without a timestamp, one the file's index does not hold, one past
        ``start``, or nothing).
        """
        with self._heads_lock:
            first = self._heads == 0
            self._heads += 1
        try:
            return (yield from self._decode_in(start, seek_to, lend, first))
        finally:
            with self._heads_lock:
                self._heads -= 1

    def _decode_in(self, start: int, seek_to: int | None, lend: bool, first: bool) -> Iterator[np.ndarray]:
        """:meth:`_decode_from`; ``first``: no other head of this source is decoding. Only that one decodes on
        FFmpeg's frame threads: a head beside it (a partner running behind, a reference) is one more decoder on
        cores the first one already fills, and a frame-threaded one holds a frame per thread more."""
        container = open_container(self.path)
        try:
            stream = container.streams.video[self.stream_index]
            stream.thread_type = "AUTO"
            # One frame thread a core: FFmpeg's own choice adds one more, which holds a frame more and decodes no
            # faster beside an encoder on the same cores.
            stream.thread_count = (os.cpu_count() or 0) if first else 1
            pool = _FramePool(self._picture.compact_shape)
            target = self.pts[start]
            if seek_to is not None:
                try:
                    container.seek(seek_to, stream=stream, backward=True, any_frame=False)
                except av.error.FFmpegError:
                    return False
            index = None if seek_to is not None else 0  # None: not yet placed after the seek
            previous = None  # the frame before, shown in place of those the decoder could not make
            decoded = _Decoded(container, stream)
            for frame in decoded:
                if index is None:
                    if not frame.key_frame:
                        continue
                    if frame.pts is None or frame.pts > target:
                        return False
                    index = self._index_of(frame.pts)
                    if index is None:
                        return False
                elif decoded.rejected:  # frames may be missing: a frame's own time places it
                    at = self._index_of(frame.pts)
                    if at is not None and at > index:
                        for lost in range(index, min(at, self.frame_count)):
                            if lost >= start:
                                self.lost_frames.add(lost)
                                yield self._picture.convert(frame if previous is None else previous, pool, lend)
                        index = at
                if index >= start:
                    self._check_size(frame, index)
                    yield self._picture.convert(frame, pool, lend)
                previous, frame = frame, None
                index += 1
                if index >= self.frame_count:
                    break
        finally:
            container.close()
        return index is not None


class _Decoded:
    """A stream's decoded frames until the file ends or can no longer be demuxed (a damaged file ends early; the
    engine says so). A packet the decoder rejects is skipped, as FFmpeg's tools skip it, and ``rejected`` is set:
    the frames after it are placed by their times (a frame-threaded decoder reports the rejection late)."""

    def __init__(self, container: av.container.InputContainer, stream: av.VideoStream) -> None:
        self._container = container
        self._stream = stream
        self.rejected = False

    def __iter__(self) -> Iterator[av.VideoFrame]:
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except (StopIteration, av.error.FFmpegError):
                return
            try:
                frames = self._stream.decode(packet)
            except av.error.InvalidDataError:
                self.rejected = True
                continue
            except av.error.FFmpegError:
                return
            yield from frames


def open_movie(path: str, rate: Fraction | None = None) -> MovieSource:
    """Open a movie or stream, count its frames and read their timestamps, and decode its first frame.

    ``rate`` replaces the file's frame rate (and its timestamps: frames are then evenly spaced).
    """
    container = open_container(path)
    try:
        if not container.streams.video:
            raise MediaError(f"{path}: has no video stream")
        stream = container.streams.video[0]  # one frame is decoded here: no frame threads needed
        time_base = stream.time_base or Fraction(1, 90000)
        sound = SoundJumps(container.streams.audio[0]) if container.streams.audio else None
        packets = _scan_packets(container, stream, path, decode_first=True, sound=sound)
        if packets.first is None:
            raise MediaError(f"{path}: the video has no frames FFmpeg can decode")
        picture = Picture(packets.first)
        audio_streams = len(container.streams.audio)
        file_rate = _stream_rate(stream)
        promised = promised_frames(container, stream, file_rate, packets.discarded)
        discarded = packets.discarded
        counted = bool(stream.frames)  # else the promise is the duration at the file's rate
        tail = None  # where an MPEG stream's last packet starts: it has no frame count to hold it to
        kind = container.format.name
        if kind in CONTAINERS and packets.last_position is not None and os.path.isfile(path):
            tail = packets.last_position
        if not packets.stamped:  # the frames at the file's rate
            step = 1 / ((rate or file_rate or Fraction(DEFAULT_FPS)) * time_base)
            packets = _Packets([round(index * step) for index in range(len(packets.pts))], [], packets.first, False)
        pts = packets.pts
        # AVI has no presentation times (FFmpeg guesses them a frame late past B-frames): its sound counts from 0.
        picture_start = stream.start_time if kind == "avi" else None
        sample_aspect = stream.sample_aspect_ratio
    finally:
        container.close()
    if rate is not None:
        source = MovieSource(path, 0, picture, packets, time_base, rate, False, False, audio_streams)
    else:
        chosen = file_rate or _rate_from_times(pts, time_base) or Fraction(DEFAULT_FPS)
        variable = not _evenly_spaced(pts, time_base, chosen)
        source = MovieSource(path, 0, picture, packets, time_base, chosen, file_rate is None and not variable, variable,
                             audio_streams)
    if sound is not None:
        source.sound_jumps = sound.jumps
    if picture_start is not None:
        source.start_time = picture_start * time_base
    if sample_aspect and sample_aspect != 1:  # turned a quarter, a pixel's width becomes its height
        source.sample_aspect = Fraction(sample_aspect) ** (-1 if picture.rotation in QUARTER_TURNS else 1)
    if picture.unmanaged is not None:
        source.colour_warning = (f"{path}: the input is tagged {picture.unmanaged}, and the output is not "
                                 "colour-managed for it: it is read as SDR video (convert it to BT.709 SDR first)")
        source.warnings.append(source.colour_warning)
    if tail is not None:
        check_tail(source, read_tail(path, tail, kind), CONTAINERS[kind])
    check_promise(source, Promise(promised, counted, discarded, kind), pts, time_base, rate is not None)
    return source


@dataclass(frozen=True)
class _Packets:
    """What demuxing a video stream once tells: every frame's presentation time, in order, and where to seek.

    ``keyframes`` holds, for each keyframe packet, the index of its frame and its decode timestamp
    (a seek to just before it lands where decoding starts at that keyframe, in files without an index).
    """

    pts: list[int]
    keyframes: list[tuple[int, int]]
    first: av.VideoFrame | None = None  # the first frame decoded, when asked for
    stamped: bool = True  # False: the packets' times are missing, and these count frames
    indexed: bool = True  # False: the container keeps no index of keyframes (its times may jump)
    discarded: int = 0  # packets decoded but not shown: the container's frame count includes them
    last_position: int | None = None  # where in the file the last packet read starts (None: unknown)


class _FirstFrame:
    """Decodes packets until it has a frame, then ignores the rest."""

    def __init__(self, stream: av.VideoStream) -> None:
        self._context = stream.codec_context
        self.frame: av.VideoFrame | None = None

    def feed(self, packet: av.Packet | None) -> None:
        if self.frame is not None:
            return
        try:
            frames = self._context.decode(packet)
        except av.error.FFmpegError:  # a packet the decoder cannot use yet (before the first keyframe)
            return
        if frames:
            self.frame = frames[0]


def _scan_packets(container: av.container.InputContainer, stream: av.VideoStream, path: str,
                  decode_first: bool = False, sound: SoundJumps | None = None) -> _Packets:
    """The stream's frame times and keyframes, from its packets, in one pass (nothing is decoded but,
    with ``decode_first``, the first frame: a file with negative timestamps or a pipe cannot seek back to it);
    ``sound`` hears the packets of its audio stream in the same pass."""
    times: list[int | None] = []
    keys = []
    discarded = 0
    last_position = None
    first = _FirstFrame(stream) if decode_first else None
    streams = (stream,) if sound is None else (stream, sound.stream)
    try:
        for packet in container.demux(streams):
            if packet.stream is not stream:
                sound.hear(packet)
                continue
            if first is not None:
                first.feed(packet)
            if packet.size == 0:
                continue
            if packet.pos is not None and packet.pos >= 0:
                last_position = max(packet.pos, last_position or 0)
            if packet.is_discard:  # decoded for the frames after it, not shown (an edit list cut it off)
                discarded += 1
                continue
            times.append(packet.pts if packet.pts is not None else packet.dts)
            if packet.is_keyframe and packet.pts is not None:
                keys.append((packet.pts, packet.dts if packet.dts is not None else packet.pts))
    except av.error.FFmpegError:
        pass  # a damaged tail: count what was there
    if not times:
        raise MediaError(f"{path}: the video has no frames")
    if first is not None:
        first.feed(None)  # the decoder's delayed frames, for a stream shorter than its delay
    frame = first.frame if first is not None else None
    known = sorted(time for time in times if time is not None)
    unknown = len(times) - len(known)
    if unknown and (len(known) < 2 or any(time is not None for time in times[:unknown])):
        return _Packets(list(range(len(times))), [], frame, stamped=False)
    if unknown:  # the first frames lack times (negative ones, which Matroska cannot store): they come before the rest
        step = sorted(b - a for a, b in itertools.pairwise(known))[len(known) // 2]
        known = [known[0] - step * count for count in range(unknown, 0, -1)] + known
    keyframes = sorted((bisect.bisect_left(known, pts), dts) for pts, dts in keys)
    return _Packets(known, keyframes, frame, indexed=not container.format.flags & _TS_DISCONT, discarded=discarded,
                    last_position=last_position)


def video_frame_count(path: str) -> int:
    """The number of video frames a finished movie holds (its packets; nothing is decoded); 0 if it does not open."""
    try:
        container = av.open(path, "r")
    except av.error.FFmpegError:
        return 0
    try:
        if not container.streams.video:
            return 0
        return len(_scan_packets(container, container.streams.video[0], path).pts)
    except MediaError:
        return 0
    finally:
        container.close()


def _stream_rate(stream: av.VideoStream) -> Fraction | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and usable_fps(float(rate)):
            return Fraction(rate.numerator, rate.denominator)
    return None


def _rate_from_times(pts: list[int], time_base: Fraction) -> Fraction | None:
    if len(pts) < 2 or pts[-1] == pts[0]:
        return None
    rate = Fraction(len(pts) - 1) / ((pts[-1] - pts[0]) * time_base)
    return rate.limit_denominator(1001) if usable_fps(float(rate)) else None


def _evenly_spaced(pts: list[int], time_base: Fraction, rate: Fraction) -> bool:
    """Whether every frame sits where a constant ``rate`` puts it, to within one tick of the time base."""
    tolerance = max(time_base, Fraction(1, 1000)) * 1.5
    first = pts[0]
    return all(abs((p - first) * time_base - i / rate) <= tolerance for i, p in enumerate(pts))

