"""Movies joined packet for packet (no re-encoding), and what a join needs to know of a movie first.

:func:`movie_info` reads a movie's container tags, video codec and packets without decoding;
:func:`concat_movies` writes the video packets of several movies one after another into a new
movie, each part shifted to its place in time, with a :class:`~.sound.SoundClip` of the
source's sound. Each part must start with a keyframe and share the first part's codec headers,
so that the result decodes exactly as the parts do; it is written to a hidden temporary and
published only when complete, like every output.

A damaged movie is found before it is joined: :func:`movie_info` checks every FFV1 slice's checksum
(FFmpeg's FFV1 decoder only logs a mismatch and conceals the slice, whatever ``err_detect`` says), and
:func:`check_decodes` decodes a movie with FFmpeg's error detection on, a decoder error being an error.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import av

from .encode import _close_quietly, _media_error
from .errors import MediaError
from .formats import MOVIE_FORMATS
from .movie import open_container
from .names import extension
from .publish import PendingFile
from .sound import SoundClip, SoundMuxer


@dataclass(frozen=True)
class MovieInfo:
    """A movie as a join sees it: tags (names in lower case), video codec, size and packets."""

    path: str
    tags: dict[str, str]
    codec: str
    width: int
    height: int
    packets: int
    starts_with_keyframe: bool
    extradata: bytes | None
    damaged: int | None = None  # the first frame (packet) whose checksums do not match, when the codec has them


def movie_info(path: str, checksums: bool | None = None) -> MovieInfo:
    """What :func:`concat_movies` and ``join`` check before joining ``path``; :class:`MediaError` if unreadable.

    FFV1 frames are checked against their slice checksums: always with ``checksums`` (a movie this
    product wrote has them), when the first frame carries them with ``None``, never with ``False``."""
    container = open_container(path)
    try:
        if not container.streams.video:
            raise MediaError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        context = stream.codec_context
        packets, first_key, damaged = 0, None, None
        checked = checksums is not False and context.name == "ffv1"
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if first_key is None:
                    first_key = bool(packet.is_keyframe)
                if checked and damaged is None and not _ffv1_slices_intact(bytes(packet)):
                    if packets == 0 and checksums is None:
                        checked = False  # written without checksums
                    else:
                        damaged = packets
                packets += 1
        except av.error.FFmpegError:
            pass  # a damaged tail: count what is there
        tags = {key.lower(): value for key, value in container.metadata.items()}
        return MovieInfo(path, tags, context.name, context.width, context.height, packets, bool(first_key),
                         context.extradata, damaged)
    finally:
        container.close()


_BITS_REVERSED = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))
_FFV1_SLICE_TRAILER = 8  # each slice ends with its size (3 bytes), an error status (1) and its CRC (4)


def _crc_msb_first(data: bytes) -> int:
    """FFmpeg's ``AV_CRC_32_IEEE`` (most significant bit first, no inversions), by zlib on bit-reversed bytes."""
    reflected = zlib.crc32(data.translate(_BITS_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def _ffv1_slices_intact(data: bytes) -> bool:
    """Whether every slice of an FFV1 frame (walked from its end, as the decoder does) matches its CRC."""
    end = len(data)
    while end > 0:
        if end < _FFV1_SLICE_TRAILER:
            return False
        size = int.from_bytes(data[end - _FFV1_SLICE_TRAILER:end - 5], "big") + _FFV1_SLICE_TRAILER
        if size > end or _crc_msb_first(data[end - size:end]) != 0:
            return False
        end -= size
    return True


class DamagedMovie(MediaError):
    """A movie frame that fails its checks: ``frame`` (counted from 0 in the file) and ``why``."""

    def __init__(self, path: str, frame: int, why: str) -> None:
        super().__init__(f"{path}: frame {frame} is damaged: {why}")
        self.frame, self.why = frame, why


def check_decodes(path: str, checksums: bool | None = None) -> int:
    """Decode every frame of ``path``'s video with FFmpeg's error detection on (FFV1 checksums as
    :func:`movie_info` checks them); returns the frame count. :class:`DamagedMovie` names the first frame that
    fails, or the frame where decoding stopped early."""
    info = movie_info(path, checksums)
    if info.damaged is not None:
        raise DamagedMovie(path, info.damaged, "its FFV1 slice checksums do not match")
    container = open_container(path)
    try:
        stream = container.streams.video[0]
        context = stream.codec_context
        context.options = {"err_detect": "crccheck+bitstream+buffer+explode"}
        packets = [packet for packet in container.demux(stream) if packet.size]
        shown = sorted(packet.pts for packet in packets if packet.pts is not None)
        decoded = 0
        for packet in [*packets, None]:  # in decoding order; the frame named is the packet's place in time
            try:
                decoded += len(context.decode(packet))
            except av.error.FFmpegError as error:
                frame = shown.index(packet.pts) if packet is not None and packet.pts in shown else decoded
                reason = (error.strerror or type(error).__name__).lower()
                raise DamagedMovie(path, frame, f"the decoder fails on it ({reason})") from None
    finally:
        container.close()
    if decoded != info.packets:
        raise DamagedMovie(path, decoded, f"decoding stopped there, after {decoded} of its {info.packets} frames")
    return decoded


def concat_movies(parts: list[tuple[str, Fraction]], output: str, sound: SoundClip | None = None,
                  overwrite: bool = False, protect: Sequence[str | os.PathLike] = ()) -> int:
    """Copy the video packets of each ``(path, offset)`` part into ``output``, shifted ``offset`` seconds.
    ``output`` is checked and published as every output is (:class:`~.publish.PendingFile`), never one of ``protect``.

    Returns the number of video packets written. Raises :class:`MediaError` for parts that do not
    fit together (codec, size or headers differ, a part that does not start with a keyframe,
    parts whose times overlap) and for a codec the output's container does not take.
    """
    infos = [movie_info(path) for path, _ in parts]
    first = infos[0]
    movie = MOVIE_FORMATS[extension(output)]
    if first.codec not in movie.codecs:
        raise MediaError(f"{output}: {extension(output)} cannot carry {first.codec} pictures by stream copy "
                         f"(it takes {', '.join(movie.codecs)})")
    for info in infos:
        if (info.codec, info.width, info.height) != (first.codec, first.width, first.height):
            raise MediaError(f"{info.path}: {info.codec} {info.width}x{info.height} does not match {first.path} "
                             f"({first.codec} {first.width}x{first.height}); stream copy needs one kind of stream")
        if info.extradata != first.extradata:
            raise MediaError(f"{info.path}: its {info.codec} headers differ from {first.path}'s, so the two cannot "
                             "share one stream; join lossless chunks instead")
        if not info.starts_with_keyframe:
            raise MediaError(f"{info.path}: does not start with a keyframe, so it cannot be joined by stream copy")
    pending = PendingFile(output, overwrite, protect)
    temp = pending.temp
    written = 0
    try:
        container = av.open(temp, "w", format=movie.container)
        sound_muxer = None
        try:
            template = open_container(parts[0][0])
            try:
                out_stream = container.add_stream_from_template(template.streams.video[0])
                out_stream.time_base = template.streams.video[0].time_base
            finally:
                template.close()
            if sound is not None:
                sound_muxer = SoundMuxer(container, sound, movie)
            last_dts: Fraction | None = None
            for path, offset in parts:
                source = open_container(path)
                try:
                    stream = source.streams.video[0]
                    time_base = stream.time_base
                    shift = round(offset / time_base)
                    for packet in source.demux(stream):
                        if packet.size == 0 or packet.pts is None:
                            continue
                        packet.pts += shift
                        packet.dts = (packet.pts if packet.dts is None else packet.dts + shift)
                        dts = packet.dts * time_base
                        if last_dts is not None and dts <= last_dts:
                            raise MediaError(f"{path}: its frames start before the previous part ends, "
                                             "so the parts cannot be joined by stream copy")
                        last_dts = dts
                        packet.time_base = time_base
                        packet.stream = out_stream
                        container.mux(packet)
                        written += 1
                        if sound_muxer is not None:
                            sound_muxer.mux_until(packet.pts * time_base)
                finally:
                    source.close()
            if sound_muxer is not None:
                sound_muxer.mux_rest()
        except BaseException:
            _close_quietly(container, sound_muxer)
            raise
        if sound_muxer is not None:
            sound_muxer.close()
        container.close()  # writes the trailer (an MP4's index)
        pending.commit()
    except (av.error.FFmpegError, OSError) as error:
        pending.discard()
        raise _media_error(output, error) from None
    except BaseException:
        pending.discard()
        raise
    return written
