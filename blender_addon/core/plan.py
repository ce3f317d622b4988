"""The resolved plan: what one render's settings come to for its clip, made once and read by every stage.

:func:`resolve` turns settings (every time already in frames) and the clip's frame shape and length
into a :class:`ResolvedPlan`: the output's shape and length, the lags of the partners, the trails'
pre-roll, the still level and the amplify table. The engine, the effect's stages and the flow look
read these instead of deriving them again from :class:`~.settings.Settings`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .pixels import amplify_table
from .settings import Settings
from .timing import FramePlan, frame_range, output_frame_count, output_size, plan_frame, plan_frames, trail_length


@dataclass(frozen=True, eq=False)
class ResolvedPlan:
    """One render's settings resolved against its clip; see :func:`resolve`."""

    settings: Settings  # every time in frames
    input_shape: tuple[int, int, int]  # (height, width, 3) of an input frame
    output_shape: tuple[int, int, int]  # twice as wide (side) or tall (stacked) as the input for those layouts
    frame_count: int | None  # input frames; None for a live stream, whose length is not known
    output_frames: int | None  # output frames; None for a live stream
    channel_lags: tuple[int, int, int]  # in OpenCV's (blue, green, red) order (Settings.channel_lags)
    partner_lags: tuple[int, ...]  # the distinct channel lags, ascending
    reach: int  # the farthest partner from its frame (shift mode)
    warmup: int  # frames a chunk renders and drops before its first, for whole trails
    still_level: int
    amplify: np.ndarray  # stage 2 (amplify) as a read-only 256-entry uint8 table
    still_value: int  # the still level after amplify: what still areas and flat edge frames show

    def frame(self, index: int) -> FramePlan:
        """The plan of output frame ``index``."""
        return plan_frame(self.settings, self._lengths()[0], index)

    def frame_range(self, start: int = 0, stop: int | None = None) -> range:
        """Output frames ``start`` to ``stop - 1``, checked by :func:`.timing.frame_range`."""
        return frame_range(self._lengths()[1], start, stop)

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[FramePlan]:
        """Plans of output frames ``start`` to ``stop - 1`` (a half-open range, like a Python slice)."""
        return plan_frames(self.settings, self._lengths()[0], start, stop)

    def _lengths(self) -> tuple[int, int]:
        if self.frame_count is None or self.output_frames is None:
            raise ValueError("a live stream has no frame plan: its length is not known")
        return self.frame_count, self.output_frames


def resolve(settings: Settings, shape: tuple[int, ...], frame_count: int | None = None) -> ResolvedPlan:
    """The plan of a render of ``settings`` (every time in frames, see :meth:`Settings.in_frames`) over frames of
    ``shape`` (height, width[, 3]) from a clip of ``frame_count`` frames (None: a live stream).

    Raises :class:`~.settings.SettingsError` when the settings do not fit the clip.
    """
    height, width = shape[:2]
    output_frames = None if frame_count is None else output_frame_count(settings, frame_count)
    output_width, output_height = output_size(settings, width, height)
    amplify = amplify_table(settings)
    amplify.flags.writeable = False
    return ResolvedPlan(
        settings=settings,
        input_shape=(height, width, 3),
        output_shape=(output_height, output_width, 3),
        frame_count=frame_count,
        output_frames=output_frames,
        channel_lags=settings.channel_lags,
        partner_lags=settings.partner_lags,
        reach=settings.reach,
        warmup=trail_length(settings.trails),
        still_level=settings.still_level,
        amplify=amplify,
        still_value=int(amplify[settings.still_level]),
    )
