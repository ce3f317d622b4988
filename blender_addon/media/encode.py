"""Movie files written with FFmpeg's own libraries (PyAV): H.264, HEVC, AV1, VP9, ProRes, FFV1 and MJPG, with sound.

The extension picks the container and its default codec, and the codec every encoder setting
(``media.formats``); ``codec`` overrides the default where the container takes another.
Colour: the engine's BGR frames go to 8-bit 4:2:0 with OpenCV's BT.601 limited-range
``COLOR_BGR2YUV_I420`` (the inverse of how frames are read, so a round trip keeps levels), and
the stream is tagged BT.601 matrix, limited range, BT.709 primaries and transfer, so players
show the levels the engine computed. ProRes (4:2:2 10-bit) and MJPG (full-range 4:2:0) are
converted by swscale with the same matrix; FFV1 stores BGR losslessly. Every codec but FFV1
needs an even frame size (``Codec.even_size``): an odd last row or column is repeated (the movie
is one line larger).

With ``planes=True`` a writer of those four codecs, MPEG-4 part 2 and FFV1 takes the engine's planar path's
compact I420 buffers (:mod:`..core.planar`, padded to the stored size) as they are: no conversion (FFV1
then stores them losslessly as limited-range 4:2:0, tagged as the others are, ``formats.storing_planes``).

Sound (:class:`~.sound.SoundClip`, carried by :mod:`.sound`): the source's first audio stream, cut
to the rendered range and shifted with the pictures, copied or re-encoded (AAC in MP4, PCM in MOV,
FLAC in MKV, Opus in WebM).

The file is written to its :class:`~.publish.PendingFile`'s hidden temporary and published only
once the container is finalised and its trailer written; any error on the way (a full disk
included) deletes it.
"""

from __future__ import annotations

import errno
import os
from fractions import Fraction

import av
import cv2
import numpy as np

from ..core.planar import planes as plane_views
from .colour import plane_pixels
from .errors import MediaError
from .formats import (
    COLOUR_MATRIX,
    COLOUR_PRIMARIES,
    COLOUR_TRANSFER,
    MOVIE_FORMATS,
    PLANAR_CODECS,
    Codec,
    check_encoder_options,
    encoder_options,
    storing_planes,
)
from .names import extension
from .publish import PendingFile
from .sound import SoundClip, SoundMuxer
from .streams import FrameWriter

# FFmpeg's colour tags by name (AVColorSpace, AVColorPrimaries, AVColorTransferCharacteristic, AVColorRange)
_COLOUR_NUMBERS = {"smpte170m": 6, "bt709": 1, "tv": 1, "pc": 2}
_SMPTE170M, _MPEG_RANGE = _COLOUR_NUMBERS[COLOUR_MATRIX], _COLOUR_NUMBERS["tv"]


def padded_size(codec: Codec, width: int, height: int) -> tuple[int, int]:
    """The stored frame size: even where the codec needs it (``Codec.even_size``)."""
    if codec.even_size:
        return width + width % 2, height + height % 2
    return width, height


class MovieWriter(FrameWriter):
    """A movie through PyAV; see the module's notes. ``time`` of :meth:`write` is seconds from ``start``.

    ``metadata``: tags for the container (such as a chunk's record, which ``join`` reads back).
    ``planes``: :meth:`write` takes compact I420 buffers (see the module's notes); ValueError for other codecs.
    ``sample_aspect``: a pixel's width over its height where not square (an anamorphic input's, kept).
    """

    def __init__(
        self, pending: PendingFile, width: int, height: int, rate: Fraction, codec: str | None = None,
        crf: int | None = None, encoder_preset: str | None = None, sound: SoundClip | None = None,
        time_base: Fraction | None = None, start: Fraction = Fraction(0),
        encoder_options: dict[str, str] | None = None, metadata: dict[str, str] | None = None,
        planes: bool = False, sample_aspect: Fraction | None = None,
    ) -> None:
        super().__init__(pending, width, height)
        self._sample_aspect = sample_aspect
        path = pending.path
        self._container: av.container.OutputContainer | None = None
        self._sound: SoundMuxer | None = None
        try:
            self._codec = check_encoder_options(path, codec, crf, encoder_preset)
            self.codec = self._codec.name
            self._format = MOVIE_FORMATS[extension(path)]
            self._rate = Fraction(rate)
            self._start = Fraction(start)
            # AVI stores a constant rate only: frames are numbered there.
            variable = time_base is not None and self._format.container != "avi"
            self._time_base = Fraction(time_base) if variable else 1 / self._rate
            self._last_pts = -1
            if planes:
                try:
                    self._codec = storing_planes(self._codec)
                except ValueError as error:
                    raise ValueError(f"{path}: {error}") from None
            self._stored_width, self._stored_height = padded_size(self._codec, width, height)
            self.planes = planes
            if planes:
                self.frame_shape = (self._stored_height * 3 // 2, self._stored_width)
            # MP4 and MOV keep tags of other names than their own only when asked to.
            options = {"movflags": "use_metadata_tags"} if metadata and self._format.container in ("mp4", "mov") else {}
            self._container = av.open(pending.temp, "w", format=self._format.container, options=options)
            self._container.metadata.update(metadata or {})
            self._stream = self._add_video(crf, encoder_preset, encoder_options or {})
            if sound is not None:
                self._sound = SoundMuxer(self._container, sound, self._format)
        except BaseException as error:
            self._close_after_failure()
            self._discard()
            if isinstance(error, av.error.FFmpegError | OSError):
                raise _media_error(path, error) from None
            raise

    def _add_video(self, crf: int | None, preset: str | None, extra: dict[str, str]) -> av.VideoStream:
        codec = self._codec
        stream = self._container.add_stream(codec.encoder, rate=self._rate)
        stream.width, stream.height = self._stored_width, self._stored_height
        stream.time_base = self._time_base
        stream.pix_fmt = codec.pixel_format
        context = stream.codec_context
        context.time_base = self._time_base
        if self._sample_aspect is not None:  # anamorphic pixels, shown as wide as the input's
            context.sample_aspect_ratio = self._sample_aspect
        # Frame threads where the encoder has them (x264: as ffmpeg's command line; PyAV's default
        # would make x264 use slower slice threads), else slice threads (MPEG-4 part 2).
        context.thread_type = "AUTO"
        context.thread_count = 0  # the encoder's own choice for this machine
        if codec.name == "av1":
            os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its settings to stderr unless told errors only
        if codec.colour_range is not None:
            context.colorspace = _COLOUR_NUMBERS[COLOUR_MATRIX]
            context.color_range = _COLOUR_NUMBERS[codec.colour_range]
            context.color_primaries = _COLOUR_NUMBERS[COLOUR_PRIMARIES]
            context.color_trc = _COLOUR_NUMBERS[COLOUR_TRANSFER]
        options = encoder_options(codec, crf, preset, (self._stored_width, self._stored_height))
        if codec.qscale is not None:
            # ffmpeg's -q:v sets each frame's quality, which PyAV cannot: the quantiser's bounds fix it instead.
            context.qscale = True
            options.update(qmin=str(codec.qscale), qmax=str(codec.qscale))
        options.update(extra)
        stream.options = options
        return stream

    def _new_buffer(self) -> np.ndarray | av.VideoFrame:
        if not self.planes:
            return super()._new_buffer()
        # The encoder's own frames, reused: the planes are copied into them once, on the caller's thread.
        return self._tagged(av.VideoFrame(self._stored_width, self._stored_height, "yuv420p"))

    def _fill(self, buffer: np.ndarray | av.VideoFrame, frame: np.ndarray) -> None:
        if not self.planes:
            super()._fill(buffer, frame)
            return
        for target, plane in zip(self._lent_view(buffer), plane_views(frame), strict=True):
            np.copyto(target, plane)

    def _lent_view(self, buffer: np.ndarray | av.VideoFrame) -> object:
        """With ``planes``: the Y, U and V planes of the picture the encoder is handed (a frame rendered into them
        is written without a copy)."""
        if not self.planes:
            return super()._lent_view(buffer)
        buffer.make_writable()  # an encoder still referring to the last picture (B-frames) keeps it: new planes
        return tuple(plane_pixels(buffer, index) for index in range(3))

    def _picture(self, frame: np.ndarray | av.VideoFrame) -> av.VideoFrame:
        if self.planes:
            return frame
        pad_rows, pad_columns = self._stored_height - self.height, self._stored_width - self.width
        if pad_rows or pad_columns:
            frame = cv2.copyMakeBorder(frame, 0, pad_rows, 0, pad_columns, cv2.BORDER_REPLICATE)
        codec = self._codec
        if codec.name in PLANAR_CODECS:
            planes = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
            return self._tagged(av.VideoFrame.from_ndarray(planes, format="yuv420p"))
        picture = av.VideoFrame.from_ndarray(frame, format="bgr24")
        if codec.colour_range is None:
            return picture.reformat(format=codec.pixel_format)
        colour_range = _COLOUR_NUMBERS[codec.colour_range]
        converted = picture.reformat(format=codec.pixel_format, dst_colorspace=_SMPTE170M, dst_color_range=colour_range)
        converted.color_range = colour_range
        converted.colorspace = _SMPTE170M
        # ProRes writes its frame header's tags from the frame, not the stream.
        converted.color_primaries = _COLOUR_NUMBERS[COLOUR_PRIMARIES]
        converted.color_trc = _COLOUR_NUMBERS[COLOUR_TRANSFER]
        return converted

    @staticmethod
    def _tagged(picture: av.VideoFrame) -> av.VideoFrame:
        picture.color_range = _MPEG_RANGE
        picture.colorspace = _SMPTE170M
        return picture

    def _write(self, frame: np.ndarray | av.VideoFrame, index: int, time: Fraction | None) -> None:
        picture = self._picture(frame)
        if time is None or self._format.container == "avi":  # AVI numbers its frames at a constant rate
            pts = index
        else:
            pts = round((time - self._start) / self._time_base)
        pts = max(pts, self._last_pts + 1)  # never two frames at one time
        self._last_pts = pts
        picture.pts = pts
        picture.time_base = self._time_base
        try:
            self._container.mux(self._stream.encode(picture))
            if self._sound is not None:
                self._sound.mux_until(pts * self._time_base)
        except (av.error.FFmpegError, OSError) as error:
            raise _media_error(self.path, error) from None

    def _finish(self) -> None:
        if self._container is None:
            return
        container, self._container = self._container, None
        try:
            if self.frames_written and not self._dropping:
                container.mux(self._stream.encode(None))
                if self._sound is not None:
                    self._sound.mux_rest()
        except (av.error.FFmpegError, OSError) as error:
            _close_quietly(container, self._sound)
            raise _media_error(self.path, error) from None
        try:
            if self._sound is not None:
                self._sound.close()
            container.close()  # writes the trailer (an MP4's index): a full disk fails here
        except (av.error.FFmpegError, OSError) as error:
            raise _media_error(self.path, error) from None
        if not self._dropping and self.frames_written and os.path.getsize(self._pending.temp) == 0:
            raise MediaError(f"{self.path}: nothing was written (is the disk full?)")

    def _close_after_failure(self) -> None:
        if self._container is not None:
            _close_quietly(self._container, self._sound)
            self._container = None


def _close_quietly(container: av.container.OutputContainer, sound: SoundMuxer | None) -> None:
    if sound is not None:
        sound.close()
    try:
        container.close()
    except (av.error.FFmpegError, OSError):
        pass


def _media_error(path: str, error: BaseException) -> MediaError:
    number = getattr(error, "errno", None)
    if number in (errno.ENOSPC, errno.EDQUOT):
        return MediaError(f"{path}: the disk is full")
    if isinstance(error, av.error.FFmpegError):
        reason = (error.strerror or type(error).__name__).lower()
        return MediaError(f"{path}: FFmpeg cannot write it ({reason})")
    return MediaError(f"{path}: {(getattr(error, 'strerror', None) or str(error)).lower()}")
