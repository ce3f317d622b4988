"""A source's sound carried into a movie being written: copied packet for packet, or decoded, cut and re-encoded.

Sound (:class:`SoundClip`) is the source's first audio stream, cut to the rendered range and
shifted with the pictures. It is copied packet for packet when the container takes its codec
(cut at the packets that start in the range, so within one packet, about 21 ms for AAC), else
decoded, cut to the sample and re-encoded (the container's sound codec). Audio is interleaved
with the pictures as they are written, so nothing piles up in memory.

Channel layouts are handled around two defects of PyAV 18.1 that crash the process natively:

- a layout in FFmpeg's *custom* channel order (PCM in a MOV with a channel-layout atom, such as
  7.1 with its side channels before its back ones) is freed twice when PyAV reads it, so the
  stream's layout is read once and replaced on the decoder, before it opens, by the same
  channels in FFmpeg's standard order; the samples of a PCM stream (whose decoder labels them
  with the container's layout) are then put into that order;
- the planes of a planar frame of 8 or more channels run past FFmpeg's array of 8, so samples
  are only ever handled as numbers in the packed form (one plane): frames that must be cut are
  first converted to their format's packed variant, at their own rate and layout (no delay).

``docs/pyav-channel-layouts.py`` reproduces both for an upstream report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from .formats import MovieFormat, encoder_layout
from .movie import open_container
from .sound_jumps import Jumps, SoundJumps, steady_between

# Channel layouts kept as they are when sound is re-encoded (others are mixed down to stereo)
_NAMED_LAYOUTS = ("mono", "stereo", "2.1", "3.0", "quad", "4.0", "5.0", "5.1", "5.0(side)", "5.1(side)", "6.1", "7.1")
# FFmpeg's standard channel order (AVChannel's numbering): a layout in this order needs no map of its own.
_STANDARD_ORDER = ("FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC", "BC", "SL", "SR", "TC", "TFL", "TFC", "TFR",
                   "TBL", "TBC", "TBR", "DL", "DR", "WL", "WR", "SDL", "SDR", "LFE2", "TSL", "TSR", "BFC", "BFL",
                   "BFR")


@dataclass(frozen=True)
class SoundClip:
    """The part of ``path``'s first audio stream that goes with the rendered pictures.

    ``begin`` and ``end`` are seconds from the source's first video frame, which sits at
    ``video_start`` seconds in the file. ``jumps``: where the stream does not follow on, when the source's
    first demuxing heard it (:mod:`.sound_jumps`); ``None``: the file is read again to know.
    """

    path: str
    video_start: Fraction
    begin: Fraction
    end: Fraction
    jumps: Jumps | None = None


def standard_layout(names: list[str]) -> tuple[str, list[int] | None]:
    """The layout of channels ``names`` (in a file's order) in FFmpeg's standard order, and where each comes from.

    Returns the layout's name and, for each of its channels, the index of that channel in
    ``names`` (``None`` when the order is already standard). Channels without a standard name
    (unlabelled, ambisonic, repeated) get the default layout for their count, in the file's order.
    """
    if len(set(names)) == len(names) and all(name in _STANDARD_ORDER for name in names):
        ordered = sorted(names, key=_STANDARD_ORDER.index)
        order = None if ordered == names else [names.index(name) for name in ordered]
        return av.AudioLayout("+".join(ordered)).name, order
    return av.AudioLayout(f"{len(names)}c").name, None


def take_layout(stream: av.AudioStream) -> tuple[str, list[int] | None]:
    """Read the stream's layout once and give its decoder the standard-order layout (see the module's notes)."""
    context = stream.codec_context
    declared = context.layout  # refers to the context's own channel map, if it has one
    names = [channel.name for channel in declared.channels]
    name, order = standard_layout(names)
    # The context takes a layout without a map, then the only reference to the old map (declared) frees it once.
    context.layout = name
    del declared
    pcm = context.codec.name.startswith("pcm_")  # other decoders label their samples from the bitstream
    return name, order if pcm else None


def _steady(path: str, begin: Fraction, end: Fraction) -> bool:
    """Whether the first audio stream's packets from ``begin`` to ``end`` seconds follow one another
    (:mod:`.sound_jumps`), read from the file: for sound whose source was not demuxed before."""
    container = open_container(path)
    try:
        stream = container.streams.audio[0]
        try:
            container.seek(int(begin / stream.time_base), stream=stream)
        except av.error.FFmpegError:
            pass  # read from the start
        heard = SoundJumps(stream)
        for packet in container.demux(stream):
            if packet.pts is not None and packet.pts * stream.time_base > end:
                break
            heard.hear(packet)
    except av.error.FFmpegError:
        pass  # a damaged tail: copying ends there too
    finally:
        container.close()
    return steady_between(heard.jumps, begin, end)


class _Resampler:
    """PyAV's resampler, started afresh when its input's format, layout or rate changes (a stream may change rate).

    ``target`` gives the output's format, layout and rate for an input frame. What the old
    resampler still holds is passed on first, so no sound is lost at the change.
    """

    def __init__(self, target: Callable[[av.AudioFrame], dict]) -> None:
        self._target = target
        self._resampler: av.AudioResampler | None = None
        self._input: tuple | None = None

    def resample(self, frame: av.AudioFrame | None) -> list[av.AudioFrame]:
        if frame is None:
            return self._resampler.resample(None) if self._resampler is not None else []
        converted = []
        signature = (frame.format.name, frame.layout.name, frame.sample_rate)
        if signature != self._input:
            converted += self.resample(None)
            self._resampler = av.AudioResampler(**self._target(frame))
            self._input = signature
        return converted + self._resampler.resample(frame)


def _packed_target(frame: av.AudioFrame) -> dict:
    """The packed variant of the frame's format, at its own layout and rate: a conversion without delay."""
    return {"format": frame.format.packed.name, "layout": frame.layout.name, "rate": frame.sample_rate}


def _samples(frame: av.AudioFrame) -> np.ndarray:
    """A packed frame's samples as a (samples, channels) array."""
    return frame.to_ndarray().reshape(-1, frame.layout.nb_channels)


def _from_samples(samples: np.ndarray, like: av.AudioFrame) -> av.AudioFrame:
    """(samples, channels) numbers as a packed frame of ``like``'s format, layout and rate."""
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples).reshape(1, -1), format=like.format.name,
                                       layout=like.layout.name)
    frame.sample_rate = like.sample_rate
    return frame


class SoundMuxer:
    """Carries a :class:`SoundClip` into an output container, interleaved with the pictures."""

    def __init__(self, output: av.container.OutputContainer, clip: SoundClip, movie_format: MovieFormat) -> None:
        self._output = output
        self._clip = clip
        self._input = open_container(clip.path)
        self._in_stream = self._input.streams.audio[0]
        self._time_base = self._in_stream.time_base
        codec = self._in_stream.codec_context.codec.canonical_name  # "mp3", not its decoder "mp3float"
        self._begin = clip.video_start + clip.begin  # the clip's begin and end in the file's time
        self._end = clip.video_start + clip.end
        self._copy = codec in movie_format.audio_copy and (
            _steady(clip.path, self._begin, self._end) if clip.jumps is None
            else steady_between(clip.jumps, self._begin, self._end))
        self._items: Iterator
        if self._copy:
            self._out_stream = output.add_stream_from_template(self._in_stream)
            self._items = self._input.demux(self._in_stream)
        else:
            self._layout, self._order = take_layout(self._in_stream)
            rate = movie_format.audio_rate or self._in_stream.codec_context.sample_rate
            self._out_stream = output.add_stream(movie_format.audio_encoder, rate=rate)
            channels = av.AudioLayout(self._layout).nb_channels
            # The source's channels as they are (5.1 stays 5.1) up to 7.1; an unnamed or larger layout is mixed down
            kept = self._layout if channels <= 8 and self._layout in _NAMED_LAYOUTS else "stereo"
            self._out_stream.layout = encoder_layout(movie_format.audio_encoder, kept)
            self._out_rate = rate
            encoded = {"format": self._out_stream.codec_context.codec.audio_formats[0].name,
                       "layout": self._out_stream.layout.name, "rate": rate}
            self._packer = _Resampler(_packed_target)
            self._resampler = _Resampler(lambda frame: encoded)
            self._items = self._input.decode(self._in_stream)
            self._samples_out = 0
            self._started = False
        self._pending = None  # the next packet or frame, read but not yet due
        self._done = False

    def mux_until(self, time: Fraction) -> None:
        """Mux the sound that starts before ``time`` seconds of the output."""
        while not self._done:
            item = self._pending if self._pending is not None else self._next()
            if item is None:
                self._done = True
                break
            start = item.pts * self._time_base - self._begin
            if start > time:
                self._pending = item
                return
            self._pending = None
            self._mux(item)

    def mux_rest(self) -> None:
        self.mux_until(self._end - self._begin)
        self._done = True
        if not self._copy:
            for frame in self._resampler.resample(None):
                self._encode(frame)
            self._output.mux(self._out_stream.encode(None))

    def _next(self):
        while True:
            try:
                item = next(self._items)
            except StopIteration:
                return None
            except av.error.FFmpegError:
                return None  # a damaged tail: the sound ends there
            if item.pts is None or (self._copy and item.size == 0):
                continue
            if item.pts * self._time_base >= self._end:
                return None
            return item

    def _mux(self, item) -> None:
        if self._copy:
            self._mux_packet(item)
        else:
            self._mux_frame(item)

    def _mux_packet(self, packet: av.Packet) -> None:
        start = packet.pts * self._time_base
        if start < self._begin:
            return
        shift = round(self._begin / self._time_base)
        packet.pts -= shift
        if packet.dts is not None:
            packet.dts -= shift
        packet.stream = self._out_stream
        self._output.mux(packet)

    def _mux_frame(self, frame: av.AudioFrame) -> None:
        start = frame.pts * self._time_base
        rate = frame.sample_rate
        first = max(0, round((self._begin - start) * rate))
        last = min(frame.samples, round((self._end - start) * rate))
        if first >= last:
            return
        frame.pts = None
        packed = self._packer.resample(frame)  # the conversion keeps the rate, so it holds nothing back
        if not packed:
            return
        if len(packed) > 1:
            packed = [_from_samples(np.concatenate([_samples(f) for f in packed]), packed[0])]
        frame = packed[0]
        if not self._started:
            self._started = True
            late = round((start - self._begin) * rate)
            if late > 0:  # the sound starts after the range does: silence until then keeps it in sync
                self._resample(_from_samples(np.zeros((late, frame.layout.nb_channels), _samples(frame).dtype), frame))
        if first > 0 or last < frame.samples or self._order is not None:
            samples = _samples(frame)
            if self._order is not None:
                samples = samples[:, self._order]
            frame = _from_samples(samples[first:last], frame)
        self._resample(frame)

    def _resample(self, frame: av.AudioFrame) -> None:
        for converted in self._resampler.resample(frame):
            self._encode(converted)

    def _encode(self, frame: av.AudioFrame) -> None:
        frame.pts = self._samples_out
        frame.time_base = Fraction(1, self._out_rate)
        self._samples_out += frame.samples
        self._output.mux(self._out_stream.encode(frame))

    def close(self) -> None:
        self._input.close()


def sound_delay(path: str) -> Fraction:
    """Seconds from a movie's first picture to the start of its first sound stream (0 without either, or without
    their start times): a sound placed at the picture's start would come out this much early."""
    container = open_container(path, headers_only=True)
    try:
        if not container.streams.video or not container.streams.audio:
            return Fraction(0)
        starts = []
        for stream in (container.streams.audio[0], container.streams.video[0]):
            if stream.start_time is None or stream.time_base is None:
                return Fraction(0)
            starts.append(stream.start_time * stream.time_base)
        return starts[0] - starts[1]
    finally:
        container.close()
