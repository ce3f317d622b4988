"""The option table: every option of the effect, its default, range, help text and when it acts, in one place.

The command line, the Blender panel, the live viewer and the engines all read this table; none
of them defines an option of its own. :mod:`.settings` builds the validated settings from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class SettingsError(ValueError):
    """An option has a value outside its range or choices; the message names the option."""


class Colour(str):
    """The kind of a colour option: its value is ``"#rrggbb"`` (8-bit red, green, blue), see :func:`parse_colour`."""


COLOUR_NAMES = {
    "white": "#ffffff", "black": "#000000", "gray": "#808080", "grey": "#808080", "red": "#ff0000",
    "green": "#00ff00", "blue": "#0000ff", "cyan": "#00ffff", "magenta": "#ff00ff", "yellow": "#ffff00",
    "orange": "#ff8800", "pink": "#ff66cc", "purple": "#8800ff", "teal": "#00aaaa", "lime": "#aaff00",
}


def parse_colour(value: Any) -> str:
    """``"#rrggbb"`` (lower case) from ``#rrggbb``, ``rrggbb``, ``#rgb``, ``R,G,B`` (0-255), a name such as
    ``orange`` (:data:`COLOUR_NAMES`) or a sequence of three 0-255 integers; raises ``ValueError``."""
    if isinstance(value, (tuple, list)) and len(value) == 3:
        levels = [int(level) for level in value]
    else:
        text = str(value).strip().lower()
        text = COLOUR_NAMES.get(text, text)
        if re.fullmatch(r"#?[0-9a-f]{6}", text):
            return "#" + text.lstrip("#")
        if re.fullmatch(r"#?[0-9a-f]{3}", text):
            return "#" + "".join(digit * 2 for digit in text.lstrip("#"))
        match = re.fullmatch(r"(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})", text)
        if not match:
            raise ValueError(value)
        levels = [int(group) for group in match.groups()]
    if not all(0 <= level <= 255 for level in levels):
        raise ValueError(value)
    return "#" + "".join(f"{level:02x}" for level in levels)


def colour_levels(colour: str) -> tuple[int, int, int]:
    """The (red, green, blue) levels of a ``"#rrggbb"`` colour."""
    return tuple(int(colour[index : index + 2], 16) for index in (1, 3, 5))


@dataclass(frozen=True)
class Choice:
    """One value of an enumerated option."""

    value: str
    label: str
    description: str


@dataclass(frozen=True)
class When:
    """One condition on another setting for an option to act: the setting has one of ``values``, none
    of ``unless``, or a number ``above`` a bound (``When("glow", above=0)``)."""

    name: str
    values: tuple[Any, ...] = ()
    unless: tuple[Any, ...] = ()
    above: float | None = None

    def holds(self, settings: Any) -> bool:
        """Whether ``settings`` (a :class:`Settings`, or anything with the same attributes such as the
        panel's property group) meet the condition."""
        value = getattr(settings, self.name)
        if self.above is not None:
            return value > self.above
        return value not in self.unless if self.unless else value in self.values

    def text(self, name: Callable[[Option], str]) -> str:
        """The condition in words, with the setting written by ``name``: ``--glow above 0``, ``--look gray``."""
        option = OPTIONS_BY_NAME[self.name]
        if self.above is not None:
            return f"{name(option)} above {self.above:g}"
        if self.unless:
            return f"{name(option)} other than {' or '.join(map(str, self.unless))}"
        if self.values == (True,):
            return name(option)
        return f"{name(option)} {' or '.join(map(str, self.values))}"


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
    # A time option (offset, reference, channel delays) names its form in seconds, which the command
    # line takes as ``--offset 0.5s``; the seconds form names the unit option that switches to it.
    seconds: str | None = None
    unit: str | None = None
    # An option the command line takes as the value of another (on/off) option's flag: ``--tint orange``.
    value_of: str | None = None
    # The option acts (changes the output) only where the other settings meet all of these; the
    # command line refuses it given elsewhere, and the panel draws it only then.
    applies_with: tuple[When, ...] = ()

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    def acts(self, settings: Any) -> bool:
        """Whether this option changes the output with ``settings``' other values (see :meth:`unmet`)."""
        return not self.unmet(settings)

    def unmet(self, settings: Any) -> tuple[When, ...]:
        """The conditions of :attr:`applies_with` that ``settings`` fail, and those of each setting they
        name that does not act itself (a channel delay with time colour on, but in freeze mode)."""
        failed: list[When] = []
        for when in self.applies_with:
            for condition in (when,) if not when.holds(settings) else OPTIONS_BY_NAME[when.name].unmet(settings):
                if condition not in failed:
                    failed.append(condition)
        return tuple(failed)

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to this option's type, or raise :class:`SettingsError`."""
        if self.choices:
            if value not in self.choice_values:
                raise SettingsError(
                    f"{self.name} must be one of {', '.join(self.choice_values)}, not {value!r}"
                )
            return value
        if self.kind is Colour:
            try:
                return parse_colour(value)
            except (TypeError, ValueError):
                raise SettingsError(
                    f"{self.name} must be a colour such as #ff8800, 255,136,0 or orange, not {value!r}"
                ) from None
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
    Choice("matte", "Matte", "Moving on black: the motion is a soft matte over the frame, so what moves shows "
           "in its own colours and what stands still is black"),
    Choice("flow", "Flow", "Optical flow on a colour wheel: hue is the direction things move, brightness "
           "their speed (OpenCV's DIS flow; the sequencer bakes it)"),
)

DELAY_UNITS = (
    Choice("frames", "Frames", "The offset and the reference are counted in frames"),
    Choice("seconds", "Seconds", "The offset and the reference are times in seconds, turned into the nearest "
           "frame with the clip's exact frame rate"),
)

CHANNEL_DELAY_UNITS = (
    Choice("offset", "Times Offset", "Each channel's delay is a whole multiple of the offset"),
    Choice("seconds", "Seconds", "Each channel's delay is its own time in seconds, in the offset's direction"),
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

ALIGNMENTS = (
    Choice("none", "None", "Compare the frames as they are: for footage from a tripod or already stabilised"),
    Choice("shift", "Shift", "Handheld: move the partner frame onto the frame (camera pans and shake)"),
    Choice("similarity", "Similarity", "Handheld: move, turn and scale the partner frame onto the frame "
           "(shake, roll and zoom)"),
    Choice("perspective", "Perspective", "Handheld: map the partner frame onto the frame by a perspective "
           "transform (a camera that also tilts over flat scenes); the sequencer bakes it"),
)

LAYOUTS = (
    Choice("motion", "Motion", "The motion layer only"),
    Choice("side", "Side by Side", "Original on the left, motion on the right (twice as wide)"),
    Choice("stacked", "Stacked", "Original on top, motion below (twice as tall)"),
)

# Channel delays are multiples of the offset; delays given in seconds resolve to frame multiples up to this.
MAX_CHANNEL_DELAY = 100_000
MAX_SECONDS = 3600.0

# What options act with (see Option.applies_with).
_SHIFT, _FREEZE = When("mode", ("shift",)), When("mode", ("freeze",))
_IN_FRAMES, _IN_SECONDS = When("delay_unit", ("frames",)), When("delay_unit", ("seconds",))
_TIME_COLOUR = When("time_colour", (True,))
_CHANNELS_IN_FRAMES = (_TIME_COLOUR, When("channel_delay_unit", ("offset",)))
_CHANNELS_IN_SECONDS = (_TIME_COLOUR, When("channel_delay_unit", ("seconds",)))

OPTIONS: tuple[Option, ...] = (
    Option("mode", str, "shift", "Mode", "What each frame is compared with", choices=MODES),
    Option(
        "delay_unit", str, "frames", "Delay Unit", "Whether the offset and the reference are frames or seconds",
        choices=DELAY_UNITS,
    ),
    Option(
        "offset", int, 1, "Offset",
        "Shift mode: compare frame t with frame t-N; negative N compares with a future frame",
        minimum=-MAX_OFFSET, maximum=MAX_OFFSET, soft_minimum=-60, soft_maximum=60, seconds="offset_seconds",
        applies_with=(_SHIFT, _IN_FRAMES),
    ),
    Option(
        "offset_seconds", float, 0.5, "Offset (s)",
        "Shift mode, in seconds: compare with the frame this long before (negative: after)",
        minimum=-MAX_SECONDS, maximum=MAX_SECONDS, soft_minimum=-5.0, soft_maximum=5.0, unit="delay_unit",
        applies_with=(_SHIFT, _IN_SECONDS),
    ),
    Option(
        "reference", int, 0, "Reference Frame",
        "Freeze mode: the frame K (counted from 0) every frame is compared with",
        minimum=0, maximum=10_000_000, soft_maximum=1000, seconds="reference_seconds",
        applies_with=(_FREEZE, _IN_FRAMES),
    ),
    Option(
        "reference_seconds", float, 0.0, "Reference Time (s)",
        "Freeze mode, in seconds: every frame is compared with the frame at this time",
        minimum=0.0, maximum=10 * MAX_SECONDS, soft_maximum=60.0, unit="delay_unit",
        applies_with=(_FREEZE, _IN_SECONDS),
    ),
    Option(
        "align", str, "none", "Align",
        "Cancel the camera's motion between each frame and its partner before comparing them, so handheld "
        "footage extracts like a tripod shot",
        choices=ALIGNMENTS,
    ),
    Option("look", str, "gray", "Look", "How the two frames are combined", choices=LOOKS),
    Option(
        "mix", float, 0.5, "Mix",
        "Gray look: opacity of the inverted partner layer (0.5 cancels still areas exactly)",
        minimum=0.0, maximum=1.0,
        applies_with=(When("look", ("gray",)),),
    ),
    Option(
        "matte_threshold", int, 12, "Matte Threshold",
        "Matte look: a change of this many levels or less leaves the frame black",
        minimum=0, maximum=254,
        applies_with=(When("look", ("matte",)),),
    ),
    Option(
        "matte_softness", int, 24, "Matte Softness",
        "Matte look: how many levels above the threshold the matte takes to open fully (1: a hard edge)",
        minimum=1, maximum=255,
        applies_with=(When("look", ("matte",)),),
    ),
    Option(
        "flow_scale", float, 4.0, "Flow Scale",
        "Flow look: the speed (pixels per frame) that shows at full brightness",
        minimum=0.01, maximum=1000.0, soft_minimum=0.5, soft_maximum=32.0,
        applies_with=(When("look", ("flow",)),),
    ),
    Option(
        "flow_legend", bool, False, "Flow Legend",
        "Flow look: draw the colour wheel (direction as hue, speed up to the flow scale at its rim) in the "
        "bottom-right corner", applies_with=(When("look", ("flow",)),),
    ),
    Option(
        "amplify", float, 1.0, "Amplify",
        "Contrast gain around the still level (mid-gray, or black for difference/subtract/matte)",
        minimum=0.0, maximum=100.0, soft_maximum=10.0,
    ),
    Option(
        "pre_blur", float, 0.0, "Pre-blur",
        "Gaussian blur radius (sigma, in pixels) of both frames before they are compared, so sensor noise "
        "and compression grain do not light up still areas (0 off)",
        minimum=0.0, maximum=50.0, soft_maximum=10.0,
    ),
    Option(
        "edges", str, "hold", "Edges",
        "What the first |N| frames (the last |N| for N < 0), which have no partner, become",
        choices=EDGES,
        applies_with=(_SHIFT,),
    ),
    Option(
        "time_colour", bool, False, "Time Colour",
        "Each colour channel compares with its own delay (red t-N, green t-2N, blue t-3N by default): "
        "direction and speed show as colour fringes",
        applies_with=(_SHIFT, When("look", unless=("flow",))),
    ),
    Option(
        "channel_delay_unit", str, "offset", "Channel Delays",
        "Time colour: whether each channel's delay is a multiple of the offset or its own time in seconds",
        choices=CHANNEL_DELAY_UNITS,
        applies_with=(_TIME_COLOUR,),
    ),
    *(
        Option(
            f"{channel}_delay", int, default, f"{channel.title()} Delay",
            f"Time colour: {channel} compares with frame t - {channel}_delay x N",
            minimum=0, maximum=MAX_CHANNEL_DELAY, soft_maximum=16, seconds=f"{channel}_delay_seconds",
            applies_with=_CHANNELS_IN_FRAMES,
        )
        for channel, default in (("red", 1), ("green", 2), ("blue", 3))
    ),
    *(
        Option(
            f"{channel}_delay_seconds", float, default, f"{channel.title()} Delay (s)",
            f"Time colour, in seconds: {channel} compares with the frame this long before (after, for a negative "
            "offset)",
            minimum=0.0, maximum=MAX_SECONDS, soft_maximum=2.0, unit="channel_delay_unit",
            applies_with=_CHANNELS_IN_SECONDS,
        )
        for channel, default in (("red", 0.1), ("green", 0.2), ("blue", 0.3))
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
        applies_with=(When("glow", above=0),),
    ),
    Option(
        "glow_threshold", int, 8, "Glow Threshold", "Motion weaker than this many levels does not glow",
        minimum=0, maximum=255,
        applies_with=(When("glow", above=0),),
    ),
    Option(
        "saturation", float, 1.0, "Saturation",
        "Colour of the result around its luma: 0 gives gray motion, above 1 stronger colour",
        minimum=0.0, maximum=4.0, soft_maximum=2.0,
    ),
    Option("tint", bool, False, "Tint", "Colour the motion with the tint colour, by its strength"),
    Option(
        "tint_colour", Colour, "#ff8800", "Tint Colour",
        "The colour motion takes with tint on: strong motion shows it fully, still areas keep the still level",
        value_of="tint",
        applies_with=(When("tint", (True,)),),
    ),
    Option("overlay", str, "none", "Overlay", "Combine the motion layer with the original frame", choices=OVERLAYS),
    Option(
        "overlay_strength", float, 1.0, "Overlay Strength", "How much of the overlay is applied (0 to 1)",
        minimum=0.0, maximum=1.0,
        applies_with=(When("overlay", ("multiply", "screen")),),
    ),
    Option("layout", str, "motion", "Layout", "What the output frame shows", choices=LAYOUTS),
)

OPTIONS_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}


def acting_options(settings: Any) -> tuple[Option, ...]:
    """The options that change the output with ``settings``' values, in the table's order: what the panel draws."""
    return tuple(option for option in OPTIONS if option.acts(settings))
