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
    kind: type  # int, float or str (str options are enumerations)
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

    def __post_init__(self) -> None:
        for option in OPTIONS:
            object.__setattr__(self, option.name, option.validate(getattr(self, option.name)))
        if self.mode == "shift" and self.offset == 0:
            raise SettingsError("offset must not be 0 in shift mode (every frame would cancel itself)")

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

    def validate_for_clip(self, frame_count: int) -> None:
        """Check the options that depend on the clip's length; raise :class:`SettingsError`."""
        if frame_count <= 0:
            raise SettingsError("the clip has no frames")
        if self.mode == "shift" and abs(self.offset) >= frame_count:
            raise SettingsError(
                f"offset {self.offset} is out of range for a {frame_count}-frame clip "
                f"(|offset| must be below {frame_count})"
            )
        if self.mode == "freeze" and self.reference >= frame_count:
            raise SettingsError(
                f"reference frame {self.reference} is outside the clip (frames 0 to {frame_count - 1})"
            )

    def describe(self) -> str:
        """A short tag such as ``gray_shift5`` or ``difference_freeze120`` for file names."""
        number = self.offset if self.mode == "shift" else self.reference
        return f"{self.look}_{self.mode}{number}"
