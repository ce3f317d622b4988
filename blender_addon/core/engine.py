"""The exact engine: frames in, motion frames out, streaming with bounded memory.

A :class:`FrameSource` opens independent sequential *read heads*. The engine resolves the render's
plan once (:mod:`.plan`: lags, shapes, the time plan of :mod:`.timing`), walks it and gets each frame
pair in one of two ways, with byte-identical results:

- **window**: one read head and a window of the last |N|+1 decoded frames, which is all a
  shift by N ever needs at once (with time colour: the frames up to the farthest channel lag);
- **two heads**: when that window would exceed the memory budget (and always in freeze
  mode), a second read head runs |N| frames behind (or ahead of) the first, or sits on the
  reference frame, so only two frames are held (one more head per extra time-colour lag).

With ``planar=True`` (:mod:`.planar`) the frames are never expanded: the look runs on the source's
4:2:0 planes (``read_planes``: the decoder's own pictures where the source lends them, held by the
window as they are) and the engine yields compact I420 buffers, for an encoder that takes them as
they are. Only a source whose heads yield planes (``yields_planes``) and settings that need no RGB
stage (:func:`.planar.rgb_reasons`) go that way.

Nothing here knows about files or Blender; the readers live in ``media``.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .effect import MotionEffect
from .measures import Measure
from .plan import ResolvedPlan, resolve
from .planar import Frame, PlanarEffect
from .settings import Settings
from .timing import FramePlan

if TYPE_CHECKING:
    from .align import Aligner, Alignment

DEFAULT_MAX_MEMORY = 1 << 30  # bytes of decoded frames the window may hold


class FrameSource(Protocol):
    """Anything with a known frame count and shape that can open sequential read heads."""

    frame_count: int
    width: int
    height: int

    def read_from(self, start: int) -> Iterator[np.ndarray]:
        """A new, independent read head yielding frames ``start``, ``start + 1``, ... as (H, W, 3) uint8.

        A source may also have ``expand(frame)``: then the engine reads with
        ``read_from(start, compact=True)``, which yields frames in a compact form of the source's
        own (``frame_bytes`` each), holds them so, and expands each when it is used. A source whose
        ``yields_planes`` is true also has ``read_planes(start)``, the planar path's read head.
        """
        ...


class SourceEndedEarly(Exception):
    """The source stopped delivering frames before its reported frame count."""

    def __init__(self, frames_read: int, frame_count: int) -> None:
        super().__init__(f"decoding stopped at frame {frames_read} of {frame_count}")
        self.frames_read = frames_read
        self.frame_count = frame_count


@dataclass
class EngineStats:
    """What a render did, for progress, tests and benchmarks."""

    strategy: str = ""
    frames_out: int = 0
    frames_decoded: int = 0
    max_frames_held: int = 0
    heads_opened: int = 0


def frame_bytes(source: FrameSource) -> int:
    """Bytes of one frame as the source's read heads yield it (the window holds that form)."""
    return getattr(source, "frame_bytes", source.width * source.height * 3)


class _Expander:
    """Frames from the heads as (H, W, 3) uint8; the last two expanded are kept, so each is expanded once at N=1
    and the reference once in freeze mode."""

    def __init__(self, source: FrameSource) -> None:
        self._expand = getattr(source, "expand", None)
        self._recent: OrderedDict[int, np.ndarray] = OrderedDict()

    def __call__(self, index: int, frame: np.ndarray) -> np.ndarray:
        if self._expand is None:
            return frame
        expanded = self._recent.get(index)
        if expanded is not None:
            self._recent.move_to_end(index)
        else:
            expanded = self._expand(frame)
            self._recent[index] = expanded
            while len(self._recent) > 2:  # the current frame and the latest partner (freeze: the reference)
                self._recent.popitem(last=False)
        return expanded


def _window_lags(resolved: ResolvedPlan) -> tuple[int, int]:
    """The lowest and highest lag, counting the current frame's own lag 0."""
    lags = resolved.partner_lags + (0,)
    return min(lags), max(lags)


def choose_strategy(resolved: ResolvedPlan, source: FrameSource, max_memory: int = DEFAULT_MAX_MEMORY) -> str:
    """``"window"`` when the frames between the farthest partners fit in ``max_memory`` bytes, else ``"two-heads"``."""
    if resolved.settings.mode == "freeze":
        return "two-heads"
    lowest, highest = _window_lags(resolved)
    needed = (highest - lowest + 1) * frame_bytes(source)
    return "window" if needed <= max_memory else "two-heads"


class _Head:
    """One sequential read head that hands out frames at non-decreasing indices."""

    def __init__(self, source: FrameSource, start: int, stats: EngineStats, planes: bool = False) -> None:
        if planes:
            self._frames = source.read_planes(start)
        elif hasattr(source, "expand"):
            self._frames = source.read_from(start, compact=True)
        else:
            self._frames = source.read_from(start)
        self._frame_count = source.frame_count
        self._stats = stats
        self.position = start  # index of the next frame the head will read
        stats.heads_opened += 1

    def next_frame(self) -> np.ndarray:
        try:
            frame = next(self._frames)
        except StopIteration:
            raise SourceEndedEarly(self.position, self._frame_count) from None
        self.position += 1
        self._stats.frames_decoded += 1
        return frame

    def close(self) -> None:
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()


class _Window:
    """Frames [lowest needed, highest needed] from one head; at most span + 1 of them."""

    def __init__(self, head: _Head, stats: EngineStats) -> None:
        self._head = head
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._stats = stats

    def frames(self, low: int, high: int) -> dict[int, np.ndarray]:
        while self._frames and next(iter(self._frames)) < low:
            self._frames.popitem(last=False)
        while self._head.position <= high:
            index = self._head.position
            frame = self._head.next_frame()
            if index >= low:
                self._frames[index] = frame
        self._stats.max_frames_held = max(self._stats.max_frames_held, len(self._frames))
        return self._frames


class _Cursor:
    """The frame at a non-decreasing index from its own head; holds one frame."""

    def __init__(self, head: _Head) -> None:
        self.head = head
        self.index = -1
        self.frame: np.ndarray | None = None

    def get(self, index: int) -> np.ndarray:
        while self.index < index:
            self.frame = None  # let the old frame go before decoding the next
            self.frame = self.head.next_frame()
            self.index = self.head.position - 1
        assert self.frame is not None and self.index == index, "cursor indices must not decrease"
        return self.frame


class _WindowFetcher:
    """Current and partner frames from one head and a window of recent frames."""

    def __init__(self, source: FrameSource, resolved: ResolvedPlan, first: FramePlan, stats: EngineStats,
                 planes: bool = False) -> None:
        self._lowest, self._highest = _window_lags(resolved)
        self._last = source.frame_count - 1
        self.heads = [_Head(source, self._low(first.frame), stats, planes)]
        self._window = _Window(self.heads[0], stats)

    def _low(self, frame: int) -> int:
        return max(0, frame - self._highest)

    def fetch(self, plan: FramePlan) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        # Keep what later frames will need even when this one has no partner (edges).
        frames = self._window.frames(self._low(plan.frame), min(self._last, plan.frame - self._lowest))
        partners = None if plan.partners is None else tuple(frames[index] for index in plan.partners)
        return frames[plan.frame], partners


class _HeadsFetcher:
    """Current and partner frames from one read head each: two to four frames held in all."""

    def __init__(self, source: FrameSource, resolved: ResolvedPlan, first: FramePlan, stats: EngineStats,
                 planes: bool = False) -> None:
        self._source, self._stats, self._planes = source, stats, planes
        self._current = _Cursor(_Head(source, first.frame, stats, planes))
        self._partners: list[_Cursor] = []
        self.heads = [self._current.head]

    def fetch(self, plan: FramePlan) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        frame = self._current.get(plan.frame)
        if plan.partners is None:
            return frame, None
        if not self._partners:
            self._partners = [_Cursor(_Head(self._source, index, self._stats, self._planes))
                              for index in plan.partners]
            self.heads += [cursor.head for cursor in self._partners]
            self._stats.max_frames_held = 1 + len(self._partners)
        return frame, tuple(cursor.get(index) for cursor, index in zip(self._partners, plan.partners, strict=True))


def extract_motion(
    source: FrameSource,
    settings: Settings,
    start: int = 0,
    stop: int | None = None,
    max_memory: int = DEFAULT_MAX_MEMORY,
    stats: EngineStats | None = None,
    measure: Measure | None = None,
    on_alignment: Callable[[FramePlan, tuple[Alignment, ...]], None] | None = None,
    planar: bool = False,
    on_frame: Callable[[FramePlan, Frame], None] | None = None,
    planar_target: Callable[[], Frame] | None = None,
) -> Iterator[np.ndarray]:
    """Yield output frames ``start`` to ``stop - 1`` of the motion clip.

    Each yielded array is valid until the next one is requested (buffers are reused):
    copy it to keep it. Raises :class:`~.settings.SettingsError` for settings that do not
    fit the clip and :class:`SourceEndedEarly` when the source delivers too few frames.
    ``measure`` (:mod:`.measures`) hears each yielded frame's motion just before it is yielded.
    Every output frame is the same whatever ``start``, ``stop`` and ``max_memory`` are:
    with trails, the frames they depend on before ``start`` are rendered and not yielded.
    With ``settings.align``, each partner is aligned onto its frame first (:mod:`.align`), and
    ``on_alignment`` hears each yielded frame's plan and the alignments of its partners (none for
    an edge frame without partners), before the frame is yielded.
    ``planar``: the planar path (see the module's notes), yielding compact I420 buffers; ValueError where the
    source or the settings need the RGB path, or with ``measure``.
    ``on_frame`` hears each yielded frame's plan and its current input frame as its read head gave it (the
    source's compact form, or planes on the planar path), before the frame is rendered: what else reads the
    input frames (the motion frequency) need not decode them again.
    ``planar_target``, on the planar path, gives where each output frame is to be rendered (a compact buffer or
    three planes, such as a movie writer's own picture): that frame is then yielded as the target itself, and
    reaches the encoder without a copy.
    """
    stats = stats if stats is not None else EngineStats()
    resolved = resolve(settings, (source.height, source.width), source.frame_count)
    stop = resolved.frame_range(start, stop).stop
    if planar:
        if not getattr(source, "yields_planes", False):
            raise ValueError("the planar path needs a source whose read heads yield 4:2:0 planes")
        if measure is not None:
            raise ValueError("the measures are defined on the RGB motion frame: the planar path has none")
        yield from _planar_motion(source, resolved, start, stop, max_memory, stats, on_frame, planar_target)
        return
    effect = MotionEffect(resolved)
    aligner = _aligner(settings)
    pairs = _frame_pairs(source, resolved, max(0, start - resolved.warmup), stop, max_memory, stats,
                         on_frame=on_frame, heard_from=start)
    with contextlib.closing(pairs):
        for plan, frame, partners in pairs:
            indices = None if plan.partners is None else (plan.frame, *plan.partners)
            if aligner is not None:
                alignments = ()  # an edge frame without partners
                if partners is not None:
                    alignments, partners = aligner.align_all(frame, partners, plan.frame, plan.partners)
                if on_alignment is not None and plan.index >= start:
                    on_alignment(plan, alignments)  # empty for an edge frame without partners
            result = effect.render(frame, partners, plan.fill, indices, measure if plan.index >= start else None)
            del frame, partners  # hold no decoded frame while the heads read on
            if plan.index >= start:
                stats.frames_out += 1
                yield result
            del result


def _planar_motion(source: FrameSource, resolved: ResolvedPlan, start: int, stop: int, max_memory: int,
                   stats: EngineStats, on_frame: Callable[[FramePlan, Frame], None] | None = None,
                   target: Callable[[], Frame] | None = None) -> Iterator[Frame]:
    """Output buffers ``start`` to ``stop - 1`` on the planar path (no warm-up: nothing there carries state),
    rendered where ``target`` says when given."""
    effect = PlanarEffect(resolved)
    pairs = _frame_pairs(source, resolved, start, stop, max_memory, stats, planar=True, on_frame=on_frame)
    with contextlib.closing(pairs):
        for plan, frame, partners in pairs:
            result = effect.render(frame, partners, plan.fill, None if target is None else target())
            del frame, partners
            stats.frames_out += 1
            yield result
            del result


def estimate_alignments(
    source: FrameSource, settings: Settings, start: int = 0, stop: int | None = None,
    max_memory: int = DEFAULT_MAX_MEMORY,
) -> Iterator[tuple[FramePlan, tuple[Alignment, ...]]]:
    """The plan of each output frame ``start`` to ``stop - 1`` and the alignments of its partners (none for
    an edge frame), exactly as :func:`extract_motion` estimates them, without rendering: the numbers the
    sequencer rig keys and the live preview shows. ``settings.align`` must not be ``none``."""
    aligner = _aligner(settings)
    if aligner is None:
        raise ValueError("estimate_alignments needs settings with an alignment model")
    resolved = resolve(settings, (source.height, source.width), source.frame_count)
    pairs = _frame_pairs(source, resolved, start, stop, max_memory, EngineStats())
    with contextlib.closing(pairs):
        for plan, frame, partners in pairs:
            yield plan, () if partners is None else aligner.estimate_all(frame, partners, plan.frame, plan.partners)


def _aligner(settings: Settings) -> Aligner | None:
    if settings.align == "none":
        return None
    from .align import Aligner  # OpenCV: only alignment needs it

    return Aligner(settings.align)


def _frame_pairs(
    source: FrameSource, resolved: ResolvedPlan, start: int, stop: int | None, max_memory: int, stats: EngineStats,
    planar: bool = False, on_frame: Callable[[FramePlan, Frame], None] | None = None, heard_from: int = 0,
) -> Iterator[tuple[FramePlan, np.ndarray, tuple[np.ndarray, ...] | None]]:
    """Each plan of output frames ``start`` to ``stop - 1`` (to the end for None) with its current frame and
    partners, expanded (``planar``: as the heads' ``read_planes`` yields them); ``on_frame`` hears the plans
    from output frame ``heard_from`` on with their current frames as the heads gave them."""
    plans = resolved.frames(start, stop)
    plan: FramePlan | None = next(plans)
    stats.strategy = choose_strategy(resolved, source, max_memory)
    fetcher_type = _WindowFetcher if stats.strategy == "window" else _HeadsFetcher
    fetcher = fetcher_type(source, resolved, plan, stats, planar)
    expander = None if planar else _Expander(source)
    try:
        while plan is not None:
            frame, partners = fetcher.fetch(plan)
            if on_frame is not None and plan.index >= heard_from:
                on_frame(plan, frame)
            if expander is not None:
                # Partners first: at N=1 this frame's partner is the last frame's current, still expanded.
                if partners is not None:
                    partners = tuple(expander(index, partner)
                                     for index, partner in zip(plan.partners, partners, strict=True))
                frame = expander(plan.frame, frame)
            yield plan, frame, partners
            del frame, partners
            plan = next(plans, None)
    finally:
        for head in fetcher.heads:
            head.close()
