"""The settings model: a complete, validated set of the option table's values (:mod:`.options`).

A :class:`Settings` object is immutable and always valid. The option table's names are
imported from here as well, so a caller needs one module for both.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .options import (
    LOOKS,
    MODES,
    OPTIONS,
    OPTIONS_BY_NAME,
    Colour,
    Option,
    SettingsError,
    acting_options,
    colour_levels,
    parse_colour,
)
from .rates import exact_rate, frames_from_seconds, rate_text

__all__ = [
    "LOOKS", "MODES", "OPTIONS", "OPTIONS_BY_NAME", "Colour", "Option", "Settings", "SettingsError", "acting_options",
    "colour_levels", "parse_colour",
]


@dataclass(frozen=True)
class Settings:
    """A complete, validated set of options. Create with keywords; unknown names are rejected."""

    mode: str = OPTIONS_BY_NAME["mode"].default
    delay_unit: str = OPTIONS_BY_NAME["delay_unit"].default
    offset: int = OPTIONS_BY_NAME["offset"].default
    offset_seconds: float = OPTIONS_BY_NAME["offset_seconds"].default
    reference: int = OPTIONS_BY_NAME["reference"].default
    reference_seconds: float = OPTIONS_BY_NAME["reference_seconds"].default
    align: str = OPTIONS_BY_NAME["align"].default
    look: str = OPTIONS_BY_NAME["look"].default
    mix: float = OPTIONS_BY_NAME["mix"].default
    matte_threshold: int = OPTIONS_BY_NAME["matte_threshold"].default
    matte_softness: int = OPTIONS_BY_NAME["matte_softness"].default
    flow_scale: float = OPTIONS_BY_NAME["flow_scale"].default
    flow_legend: bool = OPTIONS_BY_NAME["flow_legend"].default
    amplify: float = OPTIONS_BY_NAME["amplify"].default
    pre_blur: float = OPTIONS_BY_NAME["pre_blur"].default
    edges: str = OPTIONS_BY_NAME["edges"].default
    time_colour: bool = OPTIONS_BY_NAME["time_colour"].default
    channel_delay_unit: str = OPTIONS_BY_NAME["channel_delay_unit"].default
    red_delay: int = OPTIONS_BY_NAME["red_delay"].default
    green_delay: int = OPTIONS_BY_NAME["green_delay"].default
    blue_delay: int = OPTIONS_BY_NAME["blue_delay"].default
    red_delay_seconds: float = OPTIONS_BY_NAME["red_delay_seconds"].default
    green_delay_seconds: float = OPTIONS_BY_NAME["green_delay_seconds"].default
    blue_delay_seconds: float = OPTIONS_BY_NAME["blue_delay_seconds"].default
    trails: float = OPTIONS_BY_NAME["trails"].default
    glow: float = OPTIONS_BY_NAME["glow"].default
    glow_radius: float = OPTIONS_BY_NAME["glow_radius"].default
    glow_threshold: int = OPTIONS_BY_NAME["glow_threshold"].default
    saturation: float = OPTIONS_BY_NAME["saturation"].default
    tint: bool = OPTIONS_BY_NAME["tint"].default
    tint_colour: str = OPTIONS_BY_NAME["tint_colour"].default
    overlay: str = OPTIONS_BY_NAME["overlay"].default
    overlay_strength: float = OPTIONS_BY_NAME["overlay_strength"].default
    layout: str = OPTIONS_BY_NAME["layout"].default

    def __post_init__(self) -> None:
        for option in OPTIONS:
            object.__setattr__(self, option.name, option.validate(getattr(self, option.name)))
        if self.mode == "shift" and self.delay_unit == "frames" and self.offset == 0:
            raise SettingsError("offset must not be 0 in shift mode (every frame would cancel itself)")
        if self.mode == "shift" and self.delay_unit == "seconds" and self.offset_seconds == 0:
            raise SettingsError("offset_seconds must not be 0 in shift mode (every frame would cancel itself)")
        if self.time_colour and self.mode != "shift":
            raise SettingsError("time colour needs shift mode (freeze compares every channel with one frame)")
        if self.time_colour and self.look == "flow":
            raise SettingsError("time colour does not apply to the flow look (the flow is found on the luma of "
                                "two frames, not per channel)")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Build settings from a mapping; missing names take their defaults, unknown names are an error."""
        unknown = sorted(set(values) - set(OPTIONS_BY_NAME))
        if unknown:
            raise SettingsError(f"unknown setting: {', '.join(unknown)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def still_level(self) -> int:
        """The 8-bit value that still areas take: mid-gray for the gray look, black otherwise."""
        return 128 if self.look == "gray" else 0

    @property
    def needs_rate(self) -> bool:
        """Whether a time is given in seconds, so the clip's frame rate must turn it into frames
        (:meth:`in_frames`) before anything can pair frames."""
        return self.delay_unit == "seconds" or (self.time_colour and self.channel_delay_unit == "seconds")

    def in_frames(self, rate: Fraction | float) -> Settings:
        """These settings with every time in seconds turned into frames at ``rate`` frames per second.

        THE rule, for every renderer: a time of s seconds is the whole number of frames nearest
        to ``s * rate``, computed exactly (``s`` as written in decimal, ``rate`` as a fraction;
        halves round away from zero), see :func:`frames_from_seconds`. Channel delays in seconds
        become whole multiples of an offset of their greatest common divisor, with the sign of
        the offset. Settings without seconds come back unchanged.
        """
        if not self.needs_rate:
            return self
        rate = exact_rate(rate)
        changes: dict[str, Any] = {"delay_unit": "frames"}
        direction = 1
        if self.delay_unit == "seconds":
            offset = frames_from_seconds(self.offset_seconds, rate)
            if self.mode == "shift" and offset == 0:
                raise SettingsError(
                    f"offset {self.offset_seconds:g} s is less than half a frame at {rate_text(rate)} fps: "
                    "make it longer"
                )
            changes["offset"] = offset
            changes["reference"] = frames_from_seconds(self.reference_seconds, rate)
            direction = -1 if self.offset_seconds < 0 else 1
        else:
            direction = -1 if self.offset < 0 else 1
        if self.time_colour and self.channel_delay_unit == "seconds":
            frames = [frames_from_seconds(getattr(self, f"{name}_delay_seconds"), rate) for name in _CHANNELS]
            step = math.gcd(*frames)
            if step == 0:
                raise SettingsError(
                    f"the channel delays are all below half a frame at {rate_text(rate)} fps: make one longer"
                )
            changes["offset"] = direction * step
            changes["channel_delay_unit"] = "offset"
            changes.update({f"{name}_delay": count // step for name, count in zip(_CHANNELS, frames, strict=True)})
        return self.replace(**changes)

    def seconds_in_frames(self, rate: Fraction | float) -> list[str]:
        """What :meth:`in_frames` chose, one line per time given in seconds, such as
        ``offset 0.5 s = 15 frames at 29.97 fps``; empty when nothing is in seconds."""
        if not self.needs_rate:
            return []
        rate = exact_rate(rate)
        at = f"at {rate_text(rate)} fps"
        lines = []
        channels_in_seconds = self.time_colour and self.channel_delay_unit == "seconds"
        if self.delay_unit == "seconds" and self.mode == "shift" and not channels_in_seconds:  # else: its sign only
            lines.append(f"offset {self.offset_seconds:g} s = {_frames_text(self.offset_seconds, rate)} {at}")
        if self.delay_unit == "seconds" and self.mode == "freeze":
            frame = frames_from_seconds(self.reference_seconds, rate)
            lines.append(f"reference {self.reference_seconds:g} s = frame {frame} {at}")
        if channels_in_seconds:
            for name in _CHANNELS:
                seconds = getattr(self, f"{name}_delay_seconds")
                lines.append(f"{name} delay {seconds:g} s = {_frames_text(seconds, rate)} {at}")
        return lines

    def _require_frames(self) -> None:
        if self.needs_rate:
            raise SettingsError(
                "a time is given in seconds: the clip's frame rate must turn it into frames first (in_frames)"
            )

    @property
    def lag(self) -> int:
        """How many frames the partner trails the current frame in shift mode (negative: leads)."""
        self._require_frames()
        return self.offset if self.mode == "shift" else 0

    @property
    def channel_lags(self) -> tuple[int, int, int]:
        """The lag of each channel in OpenCV's (blue, green, red) order; all equal without time colour."""
        self._require_frames()
        if not self.time_colour:
            return (self.lag,) * 3
        return (self.blue_delay * self.lag, self.green_delay * self.lag, self.red_delay * self.lag)

    @property
    def partner_lags(self) -> tuple[int, ...]:
        """The distinct lags of :attr:`channel_lags`, in ascending order (shift mode only)."""
        return tuple(sorted(set(self.channel_lags)))

    @property
    def reach(self) -> int:
        """The largest distance from a frame to any partner it needs (shift mode)."""
        return max(abs(lag) for lag in self.channel_lags)

    def validate_for_clip(self, frame_count: int) -> None:
        """Check the options that depend on the clip's length; raise :class:`SettingsError`."""
        if frame_count <= 0:
            raise SettingsError("the clip has no frames")
        self._require_frames()
        if self.mode == "shift" and abs(self.offset) >= frame_count:
            raise SettingsError(
                f"offset {self.offset} is out of range for a {frame_count}-frame clip "
                f"(|offset| must be below {frame_count})"
            )
        if self.mode == "shift" and self.reach >= frame_count:
            raise SettingsError(
                f"time colour reaches {self.reach} frames away, beyond a {frame_count}-frame clip "
                "(lower the offset or the channel delays)"
            )
        if self.mode == "freeze" and self.reference >= frame_count:
            raise SettingsError(
                f"reference frame {self.reference} is outside the clip (frames 0 to {frame_count - 1})"
            )

    def describe(self) -> str:
        """A short tag such as ``gray_shift5``, ``difference_freeze120`` or ``gray_shift0.5s`` for file names."""
        if self.delay_unit == "seconds":
            number = f"{self.offset_seconds if self.mode == 'shift' else self.reference_seconds:g}s"
        else:
            number = self.offset if self.mode == "shift" else self.reference
        return f"{self.look}_{self.mode}{number}"


_CHANNELS = ("red", "green", "blue")


def _frames_text(seconds: float, rate: Fraction) -> str:
    count = frames_from_seconds(seconds, rate)
    return f"{count} frame{'' if abs(count) == 1 else 's'}"


assert [field.name for field in dataclasses.fields(Settings)] == [option.name for option in OPTIONS], (
    "Settings fields and OPTIONS must list the same names in the same order"
)
