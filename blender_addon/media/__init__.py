"""Media I/O for the exact engine: movies through FFmpeg's libraries (PyAV), image sequences through OpenCV.

- :func:`open_source` opens a movie (or anything FFmpeg opens, such as a stream URL), a folder
  of images or a numbered pattern such as ``frames/%05d.png`` as a
  :class:`~.streams.VideoSource`, the ``FrameSource`` of ``core.engine``.
- :func:`open_writer` writes a movie (``.mp4``, ``.mov``, ``.mkv``, ``.webm``, ``.avi``; see
  ``formats.MOVIE_FORMATS``) or a numbered image sequence (``.png``, ``.jpg``, ``.tif``) to a
  hidden temporary beside the output, published only when the ``with`` block ends cleanly.

Frames are (H, W, 3) BGR uint8 arrays once expanded (see ``streams``). Every failure the user
can cause raises :class:`MediaError` with a one-line message naming the file. File names live in
``names``, the formats in ``formats``, and writing outputs whole (temporaries, pending files,
publishing) in ``publish``: the sequencer engine shares all three. Nothing here imports bpy.
"""

from __future__ import annotations

import importlib
import os
import stat
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

from ..core.rates import exact_rate, usable_fps
from .errors import MediaError
from .formats import MOVIE_FORMATS, PLANE_CODECS, check_encoder_options, check_picture_size, movie_codec
from .names import FLOAT_IMAGE_EXTENSIONS, extension, float_images_error, image_sequence_files, is_url, output_kind
from .publish import PendingFile

if TYPE_CHECKING:
    from ..core.settings import Settings
    from .encode import MovieWriter
    from .movie import MovieSource
    from .sequence import ImageSequence
    from .sound import SoundClip
    from .streams import FrameWriter, VideoSource

# The readers and writers import PyAV and OpenCV on first use, so that ``media.names`` and ``media.publish`` serve
# the sequencer engine in a Blender that has neither.
_LAZY = {
    "MovieWriter": "encode", "SoundClip": "sound", "MovieSource": "movie",
    "ImageSequence": "sequence", "FrameWriter": "streams", "VideoSource": "streams", "READ_AHEAD": "streams",
    "WRITE_BEHIND": "streams",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MOVIE_FORMATS", "READ_AHEAD", "WRITE_BEHIND", "FrameWriter", "ImageSequence",
    "MediaError", "MovieSource", "MovieWriter", "SoundClip", "VideoSource", "check_encoder_options",
    "open_source", "open_writer", "output_kind", "planar_reasons",
]


def open_source(path: str | os.PathLike, fps: float | Fraction | None = None) -> VideoSource:
    """Open a movie or stream, a folder of images or a numbered pattern such as ``frames/%05d.png``.

    Everything is checked up front (the file exists, decodes, has frames; a sequence's images
    all have one size and no number is missing), so reading later fails only if the files
    change. ``fps`` replaces the file's frame rate; image sequences have none and default to
    :data:`core.rates.DEFAULT_FPS`.
    """
    text = os.fspath(path)
    rate = None
    if fps is not None:
        if usable_fps(float(fps)) is None:
            raise ValueError(f"{text}: invalid frame rate {fps}")
        rate = exact_rate(fps)
    if not is_url(text):
        if extension(text) in FLOAT_IMAGE_EXTENSIONS:
            raise float_images_error(text)
        files = image_sequence_files(text)
        if files is not None:
            from .sequence import open_sequence

            return open_sequence(text, files, rate)
        if not os.path.lexists(text):
            if "%" in os.path.basename(text) or "#" in os.path.basename(text):
                raise MediaError(
                    f"{text}: no such file, and not a numbered pattern this reads (use one %0Nd, %d or run of # "
                    "in the file name, such as frames/%05d.png)"
                )
            raise MediaError(f"{text}: no such file")
        if not os.path.isfile(text) and not stat.S_ISFIFO(os.stat(text).st_mode):
            raise MediaError(f"{text}: is a device or special file, not a movie (cameras are read by scripts/live.py)")
    from .movie import open_movie

    return open_movie(text, rate)


def open_writer(
    path: str | os.PathLike,
    fps: float | Fraction,
    width: int,
    height: int,
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike] = (),
    first_number: int = 0,
    frame_count: int | None = None,
    codec: str | None = None,
    crf: int | None = None,
    encoder_preset: str | None = None,
    sound: SoundClip | None = None,
    time_base: Fraction | None = None,
    start: Fraction = Fraction(0),
    encoder_options: dict[str, str] | None = None,
    whole: bool = False,
    metadata: dict[str, str] | None = None,
    planes: bool = False,
    sample_aspect: Fraction | None = None,
) -> FrameWriter:
    """A :class:`FrameWriter` for ``path``; use it as a context manager.

    Image sequences number their files from ``first_number`` (the output frame index of the
    first frame, so chunks of one render fit together). Refuses, with :class:`MediaError`, an
    existing output unless ``overwrite`` (for a sequence: a file among the ``frame_count``
    numbers it will write, or any number from ``first_number`` on when the count is unknown),
    an output that is one of the ``protect`` paths (the inputs), an unwritable folder, and a
    codec, CRF or encoder preset the container does not take. Missing folders are created.
    Movies: ``time_base`` keeps the source's timestamps (variable frame rate; ``write`` then
    takes each frame's time, and ``start`` is the time that becomes 0), ``sound`` the source's
    audio for the rendered range. ``whole``: this is a whole render, so overwriting a numbered
    sequence also removes the old render's frames of other numbers. ``metadata``: tags written into a
    movie's container (image sequences have none). ``planes``: the writer takes the engine's planar path's compact
    I420 buffers (a movie of a codec in ``formats.PLANE_CODECS`` only).
    """
    text = os.fspath(path)
    kind = output_kind(text)
    rate = exact_rate(fps)
    if rate <= 0 or width <= 0 or height <= 0:
        raise ValueError(f"{text}: invalid frame rate or size {fps} fps, {width}x{height}")
    from .encode import MovieWriter
    from .sequence import SequenceWriter

    if kind == "movie":
        check_picture_size(text, width, height, check_encoder_options(text, codec, crf, encoder_preset))
    elif (codec, crf, encoder_preset) != (None, None, None):
        raise MediaError(f"{text}: --codec, --crf and --encoder-preset apply to movie outputs, not image sequences")
    numbers = None
    if kind == "sequence":
        numbers = range(first_number, first_number + (1 << 62 if frame_count is None else frame_count))
        if planes:
            raise ValueError(f"{text}: an image sequence does not take 4:2:0 planes")
    pending = PendingFile(text, overwrite, list(protect), numbers, whole)
    try:
        if kind == "sequence":
            return SequenceWriter(pending, width, height, first_number)
        return MovieWriter(pending, width, height, rate, codec, crf, encoder_preset, sound, time_base, start,
                           encoder_options, metadata, planes, sample_aspect)
    except BaseException:
        pending.discard()
        raise


def planar_reasons(source: VideoSource, output: str | os.PathLike | None, codec: str | None = None,
                   settings: Settings | None = None) -> list[str]:
    """Why rendering ``source`` to ``output`` (with ``codec``; ``None``: no output, a null sink) needs the RGB path
    (empty: the reader's 4:2:0 planes go through the look, ``core.planar``, to the writer as they are), with
    what ``settings`` need (:func:`..core.planar.rgb_reasons`) when given."""
    from ..core.planar import rgb_reasons

    reasons = []
    if not getattr(source, "yields_planes", False):
        reasons.append("an input read as RGB (an RGB, gray or transparent picture, or a rotated movie)")
    if getattr(source, "matrix", "bt601") != "bt601":
        reasons.append("an input whose planes are BT.709 (the planar path writes the planes it reads as BT.601)")
    if output is not None:
        text = os.fspath(output)
        if output_kind(text) != "movie":
            reasons.append("an image-sequence output")
        else:
            chosen = movie_codec(text, codec).name
            if chosen not in PLANE_CODECS:
                reasons.append(f"the {chosen} codec (not 8-bit limited-range 4:2:0 or lossless)")
    if settings is not None:
        reasons += rgb_reasons(settings, source.width, source.height)
    return reasons
