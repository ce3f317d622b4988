"""The live viewer's status: the overlay's status line, measured frame rates, the motion graph's history."""

from __future__ import annotations

from collections import deque

import numpy as np

from ..core.settings import OPTIONS_BY_NAME, Settings, acting_options


def describe_settings(settings: Settings) -> str:
    """The settings in a few words for the overlay: mode, look, and every other option that acts (its
    ``applies_with``) and is not at its default."""
    head = f"shift {settings.offset}" if settings.mode == "shift" else f"freeze @{settings.reference}"
    values = settings.to_dict()
    others = [
        name if value is True else f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
        for name, value in ((option.name, values[option.name]) for option in acting_options(settings))
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

