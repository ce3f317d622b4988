"""Live motion extraction's renderer: an incremental frame processor over a bounded ring of frames.

A live source (a camera, a stream) has no frame count and no future, so the file engine
(``core.engine``) cannot serve it. Here frames are pushed one at a time and each push returns
its output frame at once: :class:`LiveMotion` keeps the last ``capacity + 1`` frames in a ring and
renders each frame with the engine's own :class:`~..core.effect.MotionEffect`, so for the same
frames a live frame equals the engine's (time colour, trails, glow, overlay and layout included).
Frames are counted from 0 as they are pushed (a frame the capture dropped is never pushed).

Negative offsets are refused: comparing with frame t+|N| would need frames that have not been
captured yet. Delaying the picture by |N| frames could fake it, but a live view should be live;
``+|N|`` compares the same two frames in the other order.

This module needs only numpy (the glow, as in the engine, imports OpenCV when it is on).
"""

from __future__ import annotations

import numpy as np

from ..core.effect import MotionEffect
from ..core.measures import Measure
from ..core.plan import resolve
from ..core.settings import Settings, SettingsError
from ..core.timing import COMBINE, SOURCE, STILL

DEFAULT_HISTORY = 30  # frames the offset can reach back: one second at 30 fps


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
            self._effect = MotionEffect(resolve(settings, current.shape))
        self.alignments = ()
        if fill == COMBINE and settings.align != "none":
            partners = self._aligned(current, partners, indices)
        return self._effect.render(current, partners, fill, indices if fill == COMBINE else None, measure)

    def _aligned(self, current: np.ndarray, partners: tuple, indices: tuple) -> tuple:
        """The partners aligned onto ``current`` as the engine aligns them (see ``core.align``)."""
        if self._aligner is None:
            from ..core.align import Aligner  # OpenCV: only alignment needs it

            self._aligner = Aligner(self._settings.align)
        self.alignments, aligned = self._aligner.align_all(current, partners, indices[0], indices[1:])
        return aligned

    def _frame(self, index: int) -> np.ndarray:
        return self._ring[index % (self.capacity + 1)]

