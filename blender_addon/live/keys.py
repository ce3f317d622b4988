"""The live viewer's keys: what each key does to the settings, and the help overlay's lines.

:class:`LiveState` turns key presses into new :class:`~..core.settings.Settings` (always valid for a
:class:`~.motion.LiveMotion` of its history) and into actions for the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.settings import LOOKS, MODES, OPTIONS_BY_NAME, Settings, SettingsError
from .motion import DEFAULT_HISTORY, check_live

# What handle_key asks the front end to do; SETTINGS means "hand state.settings to LiveMotion".
SETTINGS = "settings"
RECORD = "record"
DATA = "data"
SNAPSHOT = "snapshot"
WHOLE_FRAME = "whole frame"
HELP = "help"
QUIT = "quit"

ESCAPE = "\x1b"


@dataclass(frozen=True)
class Toggle:
    """A key that switches a settings option between its default (off) and ``on``.

    An option that the settings model does not have yet reports "not available yet", so a
    toggle starts working the moment its option is added to ``settings.OPTIONS``.
    """

    key: str
    option: str
    on: Any
    label: str


TOGGLES: tuple[Toggle, ...] = (
    Toggle("g", "glow", 1.5, "glow"),
    Toggle("c", "time_colour", True, "time colour"),
    Toggle("b", "pre_blur", 2.0, "pre-blur"),
    Toggle("t", "tint", True, "tint"),
    Toggle("a", "align", "similarity", "alignment (handheld)"),
)


@dataclass(frozen=True)
class Binding:
    """Keys (any one of the characters) that run ``command`` with ``argument``; ``label`` is for the help overlay."""

    keys: str
    label: str
    command: str
    argument: Any = None


BINDINGS: tuple[Binding, ...] = (
    Binding("-", "offset -1", "offset", -1),
    Binding("+=", "offset +1", "offset", 1),
    Binding("[", "offset -10", "offset", -10),
    Binding("]", "offset +10", "offset", 10),
    Binding("m", "cycle mode (shift / freeze)", "mode"),
    Binding("l", "cycle look", "look"),
    Binding("f", "freeze this frame as the reference", "freeze"),
    *(Binding(toggle.key, f"toggle {toggle.label}", "toggle", toggle) for toggle in TOGGLES),
    Binding("r", "start / stop recording", RECORD),
    Binding("d", "start / stop recording the motion data (CSV)", DATA),
    Binding("s", "save a PNG snapshot", SNAPSHOT),
    Binding("w", "read the rhythm of the whole frame (drag a rectangle to read a region)", WHOLE_FRAME),
    Binding("h?", "show / hide this help", HELP),
    Binding("q" + ESCAPE, "quit", QUIT),
)

_BINDINGS_BY_KEY = {key: binding for binding in BINDINGS for key in binding.keys}


def key_char(key: int | str) -> str | None:
    """The character of a key code from ``cv2.waitKey`` (-1: no key), or the character itself."""
    if isinstance(key, str):
        return key or None
    return None if key < 0 else chr(key & 0xFF)


def help_lines() -> list[str]:
    """One line per binding for the help overlay, such as ``+ =   offset +1``."""
    names = {ESCAPE: "Esc"}
    return [f"{' '.join(names.get(key, key) for key in binding.keys):<6}{binding.label}" for binding in BINDINGS]


class LiveState:
    """The settings of a live view and what key presses do to them.

    ``settings`` is replaced (never mutated) on every change and is always valid for a
    :class:`LiveMotion` of ``capacity``: the offset keys clamp to [1, capacity] (with time
    colour, to what its farthest channel can reach), and a change the settings refuse (such
    as freezing with time colour on) leaves them as they were. ``message`` is one line of
    feedback for the overlay about the last key.
    """

    def __init__(self, settings: Settings, capacity: int = DEFAULT_HISTORY) -> None:
        check_live(settings, capacity)
        self.settings = settings
        self.capacity = capacity
        self.show_help = False
        self.message = ""
        self._toggled_on: dict[str, Any] = {}

    def handle_key(self, key: int | str, frame_index: int = 0) -> str | None:
        """Apply one key press; returns SETTINGS, RECORD, SNAPSHOT, HELP, QUIT or None (nothing to do).

        ``frame_index`` is the latest frame shown (``LiveMotion.frames_seen - 1``): freezing uses it.
        """
        char = key_char(key)
        binding = _BINDINGS_BY_KEY.get(char) if char is not None else None
        if binding is None:
            return None
        self.message = ""
        settings = self.settings
        if binding.command == "offset":
            offset = self._clamp(settings.offset + binding.argument, settings)
            if offset == settings.offset:
                self.message = f"offset stays {offset} (1 to {self._clamp(self.capacity, settings)})"
                return None
            if settings.mode == "freeze":
                self.message = f"offset {offset} applies in shift mode"
            return self._change(offset=offset)
        if binding.command == "mode":
            mode = _next_choice(MODES, settings.mode)
            if mode == "shift":
                return self._change(mode=mode)
            return self._change(mode=mode, reference=frame_index)  # the command line's reference K is long gone
        if binding.command == "freeze":
            return self._change(mode="freeze", reference=frame_index)
        if binding.command == "look":
            return self._change(look=_next_choice(LOOKS, settings.look))
        if binding.command == "toggle":
            return self._toggle(binding.argument)
        if binding.command == HELP:
            self.show_help = not self.show_help
        return binding.command

    def _clamp(self, offset: int, settings: Settings) -> int:
        """``offset`` within 1 and the largest offset whose farthest partner the history holds."""
        farthest_delay = max(settings.red_delay, settings.green_delay, settings.blue_delay, 1)
        return min(max(offset, 1), max(self.capacity // (farthest_delay if settings.time_colour else 1), 1))

    def _change(self, **changes: Any) -> str | None:
        try:
            settings = self.settings.replace(**changes)
            if settings.mode == "shift":  # e.g. time colour switched on: its farthest lag must fit the history
                settings = settings.replace(offset=self._clamp(settings.offset, settings))
            check_live(settings, self.capacity)
        except SettingsError as error:
            self.message = str(error)
            return None
        if settings.offset != self.settings.offset and "offset" not in changes:
            self.message = f"offset set to {settings.offset} to fit the history"
        self.settings = settings
        return SETTINGS

    def _toggle(self, toggle: Toggle) -> str | None:
        option = OPTIONS_BY_NAME.get(toggle.option)
        if option is None:
            self.message = f"{toggle.label}: not available yet"
            return None
        current = getattr(self.settings, toggle.option)
        if current != option.default:
            self._toggled_on[toggle.option] = current  # switching back on restores this
            return self._change(**{toggle.option: option.default})
        return self._change(**{toggle.option: self._toggled_on.get(toggle.option, toggle.on)})


def _next_choice(choices: tuple, value: str) -> str:
    values = [choice.value for choice in choices]
    return values[(values.index(value) + 1) % len(values)]

