"""Live motion extraction, the pure parts: an incremental frame processor, the key state machine, an fps meter.

A live source (a camera, a stream) has no frame count and no future, so the file engine
(:mod:`.engine`) cannot serve it. Here frames are pushed one at a time and each push returns
its output frame at once:

- :class:`LiveMotion` keeps the last ``capacity + 1`` frames in a ring and renders each frame
  with the engine's own :class:`~.effect.MotionEffect`, so for the same frames a live frame
  equals the engine's (time colour, trails, glow, overlay and layout included). Frames are
  counted from 0 as they are pushed (a frame the capture dropped is never pushed).
- :class:`LiveState` turns key presses into new :class:`~.settings.Settings` and actions.
- :class:`FpsMeter` measures a rate from arrival times, for cameras that report 0 fps.

Negative offsets are refused: comparing with frame t+|N| would need frames that have not been
captured yet. Delaying the picture by |N| frames could fake it, but a live view should be live;
``+|N|`` compares the same two frames in the other order.

This module needs only numpy (the glow, as in the engine, imports OpenCV when it is on).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from .effect import MotionEffect
from .measures import Measure
from .settings import LOOKS, MODES, OPTIONS_BY_NAME, Settings, SettingsError
from .timing import COMBINE, SOURCE, STILL

DEFAULT_HISTORY = 30  # frames the offset can reach back: one second at 30 fps

# What handle_key asks the front end to do; SETTINGS means "hand state.settings to LiveMotion".
SETTINGS = "settings"
RECORD = "record"
DATA = "data"
SNAPSHOT = "snapshot"
HELP = "help"
QUIT = "quit"

ESCAPE = "\x1b"


def check_live(settings: Settings, capacity: int) -> None:
    """Raise :class:`SettingsError` for settings a live source cannot honour with ``capacity`` frames of history."""
    if settings.mode != "shift":
        return
    if settings.offset < 0:
        raise SettingsError(
            f"offset {settings.offset} compares with a frame {-settings.offset} frames ahead, which a live "
            f"source has not captured yet; use offset {-settings.offset} (the same two frames, the other way round)"
        )
    if settings.reach > capacity:
        what = f"offset {settings.offset}"
        if settings.time_colour:
            what = f"time colour reaches {settings.reach} frames back"
        raise SettingsError(
            f"{what}: that needs {settings.reach + 1} frames of history but only {capacity + 1} are kept "
            "(raise the history)"
        )


class LiveMotion:
    """Output frames from a stream of frames pushed one at a time, with the history bounded to a ring.

    Frame t is rendered like the engine's frame t: with t-N (one partner per time-colour lag)
    in shift mode, with frame K in freeze mode. A frame without its partners yet (t below the
    reach, or t < K) follows ``edges``: ``hold`` uses the nearest frames there are (frame 0; in
    freeze mode the frame itself, which shows the still level), ``source`` passes it through,
    ``gray`` shows the still level and ``trim`` outputs nothing (``push`` returns None), which
    is the engine's trimmed clip frame for frame.
    """

    def __init__(self, settings: Settings, capacity: int = DEFAULT_HISTORY) -> None:
        if capacity < 1:
            raise ValueError(f"the history must hold at least 1 frame besides the current one, not {capacity}")
        check_live(settings, capacity)
        self.capacity = capacity
        self._settings = settings
        self._ring: list[np.ndarray] = []  # frame t lives in slot t % (capacity + 1)
        self._count = 0
        self._reference: np.ndarray | None = None
        self._reference_index: int | None = None
        self._effect: MotionEffect | None = None
        self._aligner = None  # an align.Aligner while settings.align is on
        self.alignments: tuple = ()  # the latest frame's alignments (align.Alignment), for the status line

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def frames_seen(self) -> int:
        """Frames pushed since the stream started (or its frame size changed)."""
        return self._count

    def set_settings(self, settings: Settings) -> None:
        """Switch settings mid-stream. The frame history is kept, so a longer offset works at once;
        trails start afresh, as the engine's do at the start of a clip."""
        check_live(settings, self.capacity)
        if settings.mode == "freeze" and settings.reference != self._reference_index:
            self._reference, self._reference_index = None, None
            reference = settings.reference
            if reference < self._count:  # already seen: it must still be in the ring
                if reference < self._count - len(self._ring):
                    raise SettingsError(
                        f"reference frame {reference} is no longer held (frames {self._count - len(self._ring)} "
                        f"to {self._count - 1} are)"
                    )
                self._reference, self._reference_index = self._frame(reference).copy(), reference
        if self._aligner is not None and self._aligner.model != settings.align:
            self._aligner = None
        self._settings = settings
        self._effect = None

    def push(self, frame: np.ndarray, measure: Measure | None = None) -> np.ndarray | None:
        """Add the next frame and return its output frame (None while ``trim`` waits for partners);
        ``measure`` (:mod:`.measures`) hears its motion when there is an output frame.

        The returned array is valid until the next push (buffers are reused): copy it to keep it.
        A frame of another size starts the stream afresh: frame counting, history and the freeze
        reference restart.
        """
        if self._ring and frame.shape != self._ring[0].shape:
            self._ring, self._count = [], 0
            self._reference = self._reference_index = self._effect = self._aligner = None
        t = self._count
        if len(self._ring) <= self.capacity:
            self._ring.append(frame.copy())
        else:
            np.copyto(self._ring[t % (self.capacity + 1)], frame)
        self._count += 1
        current = self._frame(t)
        settings = self._settings
        if settings.mode == "freeze" and t == settings.reference:
            self._reference, self._reference_index = current.copy(), t

        lags = settings.partner_lags  # all >= 0: check_live refuses negative offsets
        if settings.mode == "freeze":
            partners = None if self._reference is None else (self._reference,)
            indices = None if self._reference is None else (t, self._reference_index)
        else:
            partners = tuple(self._frame(t - lag) for lag in lags) if t >= settings.reach else None
            indices = (t, *(t - lag for lag in lags))
        fill = COMBINE
        if partners is None:
            if settings.edges == "trim":
                return None
            if settings.edges == "hold" and settings.mode == "freeze":
                partners, indices = (current,), (t, t)
            elif settings.edges == "hold":
                partners = tuple(self._frame(max(t - lag, 0)) for lag in lags)
                indices = (t, *(max(t - lag, 0) for lag in lags))
            else:
                fill = SOURCE if settings.edges == "source" else STILL
        if self._effect is None:
            self._effect = MotionEffect(settings, current.shape)
        self.alignments = ()
        if fill == COMBINE and settings.align != "none":
            partners = self._aligned(current, partners, indices)
        return self._effect.render(current, partners, fill, indices if fill == COMBINE else None, measure)

    def _aligned(self, current: np.ndarray, partners: tuple, indices: tuple) -> tuple:
        """The partners aligned onto ``current`` as the engine aligns them (see ``core.align``)."""
        if self._aligner is None:
            from .align import Aligner  # OpenCV: only alignment needs it

            self._aligner = Aligner(self._settings.align)
        self.alignments, aligned = self._aligner.align_all(current, partners, indices[0], indices[1:])
        return aligned

    def _frame(self, index: int) -> np.ndarray:
        return self._ring[index % (self.capacity + 1)]


# --- keys ----------------------------------------------------------------------------------------


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


def describe_settings(settings: Settings) -> str:
    """The settings in a few words for the overlay: mode, look, and every other option not at its default."""
    head = f"shift {settings.offset}" if settings.mode == "shift" else f"freeze @{settings.reference}"
    others = [
        name if value is True else f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
        for name, value in settings.to_dict().items()
        if name not in ("mode", "offset", "reference", "look") and value != OPTIONS_BY_NAME[name].default
    ]
    return "  ".join([head, settings.look, *others])


def status_line(
    settings: Settings, fps: float | None, source_fps: float | None, dropped: int, recording: float | None
) -> str:
    """The overlay's status line: settings, measured fps, dropped frames, recording time (None: not recording)."""
    parts = [describe_settings(settings), "-- fps" if fps is None else f"{fps:.1f} fps"]
    if source_fps is not None:
        parts[-1] += f" (source {source_fps:.1f})"
    if dropped:
        parts.append(f"dropped {dropped}")
    if recording is not None:
        parts.append(f"REC {int(recording // 60)}:{int(recording % 60):02d}")
    return " | ".join(parts)


def alignment_status(alignments: tuple) -> str:
    """The latest frame's alignment in a few words for the overlay, such as
    ``aligned dx +3.1 dy -0.4 rot +0.12 (94% agree)``; empty without alignment."""
    if not alignments:
        return ""
    alignment = alignments[0]
    if alignment.failure:
        return f"not aligned: {alignment.failure}"
    dx, dy = alignment.shift
    return (f"aligned dx {dx:+.1f} dy {dy:+.1f} rot {alignment.rotation:+.2f} "
            f"({alignment.inlier_share:.0%} agree)")


# --- timing --------------------------------------------------------------------------------------


class FpsMeter:
    """A frame rate measured from arrival timestamps (seconds), over the last ``window`` intervals.

    ``rate`` is None until ``minimum`` intervals have been seen. Timestamps come from the caller,
    so tests can inject them; ``tick`` may run on another thread than ``rate``.
    """

    def __init__(self, window: int = 30, minimum: int = 5) -> None:
        if not 1 <= minimum <= window:
            raise ValueError(f"minimum must be between 1 and window ({window}), not {minimum}")
        self.minimum = minimum
        self._times: deque[float] = deque(maxlen=window + 1)

    def tick(self, timestamp: float) -> None:
        self._times.append(timestamp)

    @property
    def rate(self) -> float | None:
        times = tuple(self._times)  # one consistent copy while another thread ticks
        if len(times) <= self.minimum or times[-1] <= times[0]:
            return None
        return (len(times) - 1) / (times[-1] - times[0])


# --- the quantity of motion over time ------------------------------------------------------------


class QuantityHistory:
    """The last ``length`` quantities of motion, for the live view's moving graph, and the scale to draw them at.

    The scale follows the largest value shown, with a floor of ``floor`` levels so that sensor
    noise on a still scene stays a flat line near the bottom instead of filling the graph.
    """

    def __init__(self, length: int = 120, floor: float = 2.0) -> None:
        if length < 2:
            raise ValueError(f"a graph needs at least 2 values, not {length}")
        self.floor = floor
        self._values: deque[float] = deque(maxlen=length)
        self.length = length

    def add(self, quantity: float) -> None:
        self._values.append(float(quantity))

    def clear(self) -> None:
        self._values.clear()

    @property
    def values(self) -> tuple[float, ...]:
        return tuple(self._values)

    @property
    def latest(self) -> float | None:
        return self._values[-1] if self._values else None

    @property
    def top(self) -> float:
        """The value at the top of the graph: the largest shown, at least ``floor``."""
        return max([self.floor, *self._values])

    def points(self, width: int, height: int) -> np.ndarray:
        """The values as (x, y) pixel points of a ``width`` x ``height`` graph, newest at the right, y down."""
        values = np.array(self._values, dtype=np.float64)
        if values.size == 0:
            return np.zeros((0, 2), np.int32)
        x = (width - 1) - (values.size - 1 - np.arange(values.size)) * (width - 1) / (self.length - 1)
        y = (height - 1) * (1.0 - values / self.top)
        return np.round(np.stack([x, y], axis=1)).astype(np.int32)

