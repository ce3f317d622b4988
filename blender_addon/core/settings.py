"""The settings model: every option of the effect, its default, range and validation, in one place.

The command line, the Blender panel and the engines all read this table; none of them
defines an option of its own. A :class:`Settings` object is immutable and always valid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SettingsError(ValueError):
    """An option has a value outside its range or choices; the message names the option."""


@dataclass(frozen=True)
class Choice:
    """One value of an enumerated option."""

    value: str
    label: str
    description: str


@dataclass(frozen=True)
class Option:
    """Describes one setting: its type, default, range and help text."""

    name: str
    kind: type  # bool, int, float or str (str options are enumerations)
    default: Any
    label: str
    description: str
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    # Soft range for sliders; the hard range above is what validation enforces.
    soft_minimum: float | None = None
    soft_maximum: float | None = None

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to this option's type, or raise :class:`SettingsError`."""
        if self.choices:
            if value not in self.choice_values:
                raise SettingsError(
                    f"{self.name} must be one of {', '.join(self.choice_values)}, not {value!r}"
                )
            return value
        if self.kind is bool:
            if value in (True, False, 0, 1):
                return bool(value)
            raise SettingsError(f"{self.name} must be true or false, not {value!r}")
        try:
            if self.kind is int:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                converted = int(value)
            else:
                converted = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{self.name} must be a number, not {value!r}") from None
        if converted != converted:  # NaN
            raise SettingsError(f"{self.name} must be a number, not NaN")
        low, high = self.minimum, self.maximum
        if (low is not None and converted < low) or (high is not None and converted > high):
            raise SettingsError(
                f"{self.name} must be between {_format(low)} and {_format(high)}, not {_format(converted)}"
            )
        return converted


def _format(number: float | None) -> str:
    if number is None:
        return "any"
    return f"{number:g}"


MAX_OFFSET = 100_000

MODES = (
    Choice("shift", "Shift", "Compare each frame t with frame t-N (N < 0 looks ahead into the future)"),
    Choice("freeze", "Freeze", "Compare every frame with one fixed reference frame K"),
)

LOOKS = (
    Choice("gray", "Gray", "Invert the partner frame and mix it over at 'mix' opacity: still areas go mid-gray"),
    Choice("difference", "Difference", "Absolute difference |A-B| on black"),
    Choice("subtract", "Subtract", "A-B clipped at 0: only what got brighter shows"),
)

EDGES = (
    Choice("hold", "Hold", "Frames without a partner use the nearest frame there is (the first; the last for N < 0)"),
    Choice("source", "Source", "Frames without a partner are passed through untouched"),
    Choice("gray", "Flat", "Frames without a partner show the flat still level (mid-gray; black for other looks)"),
    Choice("trim", "Trim", "Frames without a partner are dropped: the output is |N| frames shorter"),
)

OVERLAYS = (
    Choice("none", "None", "Output the motion layer alone"),
    Choice("multiply", "Multiply", "Multiply the original by the motion layer around the still level"),
    Choice("screen", "Screen", "Screen the motion's strength over the original: moving parts glow"),
)

LAYOUTS = (
    Choice("motion", "Motion", "The motion layer only"),
    Choice("side", "Side by Side", "Original on the left, motion on the right (twice as wide)"),
    Choice("stacked", "Stacked", "Original on top, motion below (twice as tall)"),
)

MAX_CHANNEL_DELAY = 16

OPTIONS: tuple[Option, ...] = (
    Option("mode", str, "shift", "Mode", "What each frame is compared with", choices=MODES),
    Option(
        "offset", int, 1, "Offset",
        "Shift mode: compare frame t with frame t-N; negative N compares with a future frame",
        minimum=-MAX_OFFSET, maximum=MAX_OFFSET, soft_minimum=-60, soft_maximum=60,
    ),
    Option(
        "reference", int, 0, "Reference Frame",
        "Freeze mode: the frame K (counted from 0) every frame is compared with",
        minimum=0, maximum=10_000_000, soft_maximum=1000,
    ),
    Option("look", str, "gray", "Look", "How the two frames are combined", choices=LOOKS),
    Option(
        "mix", float, 0.5, "Mix",
        "Gray look: opacity of the inverted partner layer (0.5 cancels still areas exactly)",
        minimum=0.0, maximum=1.0,
    ),
    Option(
        "amplify", float, 1.0, "Amplify",
        "Contrast gain around the still level (mid-gray, or black for difference/subtract)",
        minimum=0.0, maximum=100.0, soft_maximum=10.0,
    ),
    Option(
        "edges", str, "hold", "Edges",
        "What the first |N| frames (the last |N| for N < 0), which have no partner, become",
        choices=EDGES,
    ),
    Option(
        "time_colour", bool, False, "Time Colour",
        "Each colour channel compares with its own delay (red t-N, green t-2N, blue t-3N by default): "
        "direction and speed show as colour fringes",
    ),
    Option(
        "red_delay", int, 1, "Red Delay", "Time colour: red compares with frame t - red_delay x N",
        minimum=0, maximum=MAX_CHANNEL_DELAY,
    ),
    Option(
        "green_delay", int, 2, "Green Delay", "Time colour: green compares with frame t - green_delay x N",
        minimum=0, maximum=MAX_CHANNEL_DELAY,
    ),
    Option(
        "blue_delay", int, 3, "Blue Delay", "Time colour: blue compares with frame t - blue_delay x N",
        minimum=0, maximum=MAX_CHANNEL_DELAY,
    ),
    Option(
        "trails", float, 0.0, "Trails",
        "How much of the motion stays from one frame to the next (0 off, 0.9 long trails)",
        minimum=0.0, maximum=0.99,
    ),
    Option(
        "glow", float, 0.0, "Glow",
        "Strength of the blurred motion added back as a halo (0 off)",
        minimum=0.0, maximum=20.0, soft_maximum=4.0,
    ),
    Option(
        "glow_radius", float, 8.0, "Glow Radius", "Blur radius of the glow (Gaussian sigma, in pixels)",
        minimum=0.5, maximum=200.0, soft_maximum=50.0,
    ),
    Option(
        "glow_threshold", int, 8, "Glow Threshold", "Motion weaker than this many levels does not glow",
        minimum=0, maximum=255,
    ),
    Option("overlay", str, "none", "Overlay", "Combine the motion layer with the original frame", choices=OVERLAYS),
    Option(
        "overlay_strength", float, 1.0, "Overlay Strength", "How much of the overlay is applied (0 to 1)",
        minimum=0.0, maximum=1.0,
    ),
    Option("layout", str, "motion", "Layout", "What the output frame shows", choices=LAYOUTS),
)

OPTIONS_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}


@dataclass(frozen=True)
class Settings:
    """A complete, validated set of options. Create with keywords; unknown names are rejected."""

    mode: str = OPTIONS_BY_NAME["mode"].default
    offset: int = OPTIONS_BY_NAME["offset"].default
    reference: int = OPTIONS_BY_NAME["reference"].default
    look: str = OPTIONS_BY_NAME["look"].default
    mix: float = OPTIONS_BY_NAME["mix"].default
    amplify: float = OPTIONS_BY_NAME["amplify"].default
    edges: str = OPTIONS_BY_NAME["edges"].default
    time_colour: bool = OPTIONS_BY_NAME["time_colour"].default
    red_delay: int = OPTIONS_BY_NAME["red_delay"].default
    green_delay: int = OPTIONS_BY_NAME["green_delay"].default
    blue_delay: int = OPTIONS_BY_NAME["blue_delay"].default
    trails: float = OPTIONS_BY_NAME["trails"].default
    glow: float = OPTIONS_BY_NAME["glow"].default
    glow_radius: float = OPTIONS_BY_NAME["glow_radius"].default
    glow_threshold: int = OPTIONS_BY_NAME["glow_threshold"].default
    overlay: str = OPTIONS_BY_NAME["overlay"].default
    overlay_strength: float = OPTIONS_BY_NAME["overlay_strength"].default
    layout: str = OPTIONS_BY_NAME["layout"].default

    def __post_init__(self) -> None:
        for option in OPTIONS:
            object.__setattr__(self, option.name, option.validate(getattr(self, option.name)))
        if self.mode == "shift" and self.offset == 0:
            raise SettingsError("offset must not be 0 in shift mode (every frame would cancel itself)")
        if self.time_colour and self.mode != "shift":
            raise SettingsError("time colour needs shift mode (freeze compares every channel with one frame)")

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
    def lag(self) -> int:
        """How many frames the partner trails the current frame in shift mode (negative: leads)."""
        return self.offset if self.mode == "shift" else 0

    @property
    def channel_lags(self) -> tuple[int, int, int]:
        """The lag of each channel in OpenCV's (blue, green, red) order; all equal without time colour."""
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
        """A short tag such as ``gray_shift5`` or ``difference_freeze120`` for file names."""
        number = self.offset if self.mode == "shift" else self.reference
        return f"{self.look}_{self.mode}{number}"


assert [field.name for field in dataclasses.fields(Settings)] == [option.name for option in OPTIONS], (
    "Settings fields and OPTIONS must list the same names in the same order"
)
