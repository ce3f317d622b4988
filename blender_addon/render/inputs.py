"""What a render needs to open its input: the media package (PyAV and OpenCV), the settings in frames at the
input's rate, and the failure of an input that ends early. Shared by the render, its ``--jobs`` children and
Key Motion Data."""

from __future__ import annotations

import logging
from fractions import Fraction
from types import ModuleType

from ..core.engine import SourceEndedEarly
from ..core.settings import Settings, SettingsError
from .request import RenderError, RequestError, in_flag_terms

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


def in_frames(settings: Settings, rate: Fraction) -> Settings:
    """``settings`` with its times in seconds turned into frames at ``rate``; what each became is logged as a note."""
    try:
        frames = settings.in_frames(rate)
    except SettingsError as error:
        raise RequestError(in_flag_terms(str(error))) from None
    for line in settings.seconds_in_frames(rate):
        logger.info("%s", line)
    return frames
