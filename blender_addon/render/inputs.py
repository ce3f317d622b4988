"""What a render needs to open its input: the media package (PyAV and OpenCV), the settings in frames at the
input's rate, the output frames a request renders, and the failure of an input that ends early. Shared by the
render, its ``--jobs`` children, Key Motion Data and the front ends that split a render into chunks."""

from __future__ import annotations

import logging
from fractions import Fraction
from types import ModuleType

from ..core.engine import SourceEndedEarly
from ..core.frequency import FrequencyError, sampling, spectrum_band
from ..core.settings import Settings, SettingsError
from ..core.timing import FrameRangeError, frame_range, output_frame_count
from .request import RenderError, RenderRequest, RequestError, in_flag_terms

logger = logging.getLogger(__name__)


def load_media() -> ModuleType:
    """The ``media`` package, once PyAV and OpenCV are known to import (:class:`RenderError` otherwise)."""
    try:
        from .. import media

        media.MovieWriter  # noqa: B018 (imports PyAV and OpenCV now, so a missing one is reported here)
    except ImportError as error:
        raise RenderError(
            f"the exact engine needs PyAV, OpenCV and numpy ({error}); install them with "
            "'pip install -r requirements.txt'"
        ) from None
    return media


def truncated(path: object, error: SourceEndedEarly) -> RenderError:
    """The failure of a render whose input ended before the frames its length promised."""
    return RenderError(f"{path}: the video is truncated or corrupt ({error})")


def sequencer_frames_problem(path: object, frame_count: int, variable: bool, shown: int | None) -> str | None:
    """Why Blender's sequencer shows other frames of a movie than the exact engine decodes, or ``None``: one rule
    for the vse engine, Bake Motion and Key Motion Data. Blender spaces a movie's frames evenly (a variable rate
    is shown at a constant one) and counts them its own way (an edit list or damage can make them differ);
    ``shown`` is Blender's count, when known."""
    if shown is not None and shown != frame_count:
        return (f"{path}: the file holds {frame_count} frames where Blender shows {shown} (an edit list, damage or "
                "a variable frame rate)")
    if variable:
        return f"{path}: has a variable frame rate, which Blender's sequencer shows at a constant one"
    return None


def check_for_clip(path: object, settings: Settings, frame_count: int) -> None:
    """Refuse ``settings`` (in frames) a clip of ``frame_count`` frames cannot take: a :class:`RequestError` when
    the options ask too much of it, a :class:`RenderError` when the defaults cannot render it either (a 1-frame
    movie: the input's failure)."""
    try:
        settings.validate_for_clip(frame_count)
    except SettingsError as error:
        try:
            Settings().validate_for_clip(frame_count)
        except SettingsError:
            raise RenderError(f"{path}: {error}") from None
        raise RequestError(f"{path}: {error}") from None


def in_frames(settings: Settings, rate: Fraction) -> Settings:
    """``settings`` with its times in seconds turned into frames at ``rate``; what each became is logged as a note."""
    try:
        frames = settings.in_frames(rate)
    except SettingsError as error:
        raise RequestError(in_flag_terms(str(error))) from None
    for line in settings.seconds_in_frames(rate):
        logger.info("%s", line)
    return frames


def planned_frames(request: RenderRequest) -> tuple[int, int, Settings]:
    """The output frames ``[start, stop)`` ``request`` renders and its settings in frames, from the input's
    headers and packets (nothing decoded): what a front end needs to split a render into chunks
    (:class:`RequestError` or :class:`RenderError` as :func:`render` would raise them)."""
    media = load_media()
    try:
        source = media.open_source(request.input, request.fps)
    except media.MediaError as error:
        raise RenderError(str(error)) from None
    settings = in_frames(request.settings, source.rate)
    check_for_clip(source.path, settings, source.frame_count)
    try:
        frames = frame_range(output_frame_count(settings, source.frame_count), request.frames[0] or 0,
                             request.frames[1])
    except SettingsError as error:
        raise RequestError(f"{source.path}: {error}") from None
    except FrameRangeError as error:
        raise RequestError(str(error)) from None
    band = request.frequency.band
    if band is not None and request.frequency.wanted:
        try:
            rate, nyquist = sampling(source.rate, source.timestamps)
            spectrum_band(band, frames.stop - frames.start, rate, nyquist)
        except FrequencyError as error:
            raise RequestError(f"--band: {error}") from None
    return frames.start, frames.stop, settings
