"""The sequencer rig in numbers: the scene frames its layers cover, the curves that re-map 8-bit
levels, and how trails unroll. No bpy: ``vse.rig`` turns these into strips and modifiers.

**Curves.** A strip's CURVES modifier evaluates a 257-entry table spanning the clip range; with the
range 256/255 wide, table entries fall exactly on the 8-bit levels. The tiny lift makes values that
are exactly x.5 round up as ``round_half_up`` does, not down through float error.

**Trails** cannot feed a frame back into the next one in the sequencer, so the rig unrolls the
engine's recursion: the trail at frame t is the strongest of ``q^k(|D(t-k)|)`` over k (``q`` the
engine's decay; taking the maximum commutes with ``q``). Copy k of the motion, k frames later, maps
each level to its k-times decayed level (:func:`trail_tables`) and the copies are combined by their
maximum (LIGHTEN). For the gray look the levels around the still level are first re-coded so that
the code grows with the distance from it (:func:`trail_code`), and decoded after the maximum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .effect import trail_decay_table
from .settings import Settings
from .timing import Span, paired_frames, trail_length

CURVE_RANGE = 256.0 / 255.0
ROUNDING_LIFT = 0.002  # in 8-bit levels
# Each trail frame is a full copy of the motion: this many at most (longer trails are cut off).
MAX_TRAIL_COPIES = 24
LEVELS = np.arange(256)

Points = list[tuple[float, float]]


# --- spans ----------------------------------------------------------------------------------------


def paired_span(settings: Settings, media: Span) -> Span:
    """The scene frames whose media frame has a partner (``core.timing.paired_frames``), for the
    whole media placed at ``media``; the rig shows them where the strip does."""
    paired = paired_frames(settings, len(media))
    return Span(media.start + paired.start, media.start + paired.stop)


def shown_span(settings: Settings, visible: Span, paired: Span) -> Span:
    """The scene frames the rig shows: the strip's, less the frames ``edges=trim`` drops."""
    return paired if settings.mode == "shift" and settings.edges == "trim" else visible


def staged_span(settings: Settings, visible: Span, paired: Span) -> Span:
    """The scene frames the finishing stages (trails, glow, colour, overlay) cover: the paired ones, and under
    ``edges=gray`` also the flat frames (``edges=source`` passes its frames through untouched)."""
    return visible if settings.edges == "gray" else paired


# --- curves ---------------------------------------------------------------------------------------


def amplify_points(settings: Settings) -> Points:
    """Points (normalized) of the curve ``clip(P + amplify * (x - P))`` around the still level P."""
    gain = settings.amplify
    pivot = float(settings.still_level)

    def line(x: float) -> float:
        return pivot + gain * (x - pivot) + ROUNDING_LIFT

    xs = [0.0, 255.0]
    if gain > 1.0:  # the line leaves [0, 255]: add the corners where it is clipped
        low = pivot - (pivot + ROUNDING_LIFT) / gain
        high = pivot + (255.0 - pivot - ROUNDING_LIFT) / gain
        xs = [0.0] + ([low] if low > 0.0 else []) + [high, 255.0]
    return [(x / 255.0, min(max(line(x), 0.0), 255.0) / 255.0) for x in xs]


def table_points(table: Sequence[int]) -> Points:
    """Points (normalized) of a curve taking 8-bit level i to ``table[i]``: one per change of slope."""
    values = [int(value) for value in table]
    keep = [0] + [
        level for level in range(1, 255)
        if values[level] - values[level - 1] != values[level + 1] - values[level]
    ] + [255]
    return [(level / 255.0, (values[level] + ROUNDING_LIFT) / 255.0) for level in keep]


# --- trails ---------------------------------------------------------------------------------------


def trail_copies(settings: Settings, frame_count: int) -> int:
    """How many trail frames the rig builds: as many as the engine's trails last, within limits."""
    return min(trail_length(settings.trails), max(frame_count - 1, 0), MAX_TRAIL_COPIES)


def trail_code(settings: Settings) -> np.ndarray:
    """The trail code of each level: it grows with the distance from the still level, so LIGHTEN
    (the maximum) keeps the strongest motion. Identity when the still level is black; around
    mid-gray: 128 -> 0, 129 -> 2, 127 -> 1, 130 -> 4, 126 -> 3, ..., 0 -> 255 (a bijection)."""
    pivot = settings.still_level
    if pivot == 0:
        return LEVELS.copy()
    deviation = LEVELS - pivot
    return np.where(deviation > 0, 2 * deviation, -2 * deviation - 1).clip(0, 255)


def trail_tables(settings: Settings, copies: int) -> list[np.ndarray]:
    """For k = 1..copies: level -> the level k frames of trail decay later, in trail code."""
    pivot = settings.still_level
    decay = trail_decay_table(settings.trails)
    code = trail_code(settings)
    deviation = LEVELS - pivot
    magnitude = np.abs(deviation)
    tables = []
    for _ in range(copies):
        magnitude = decay[magnitude]
        tables.append(code[np.clip(pivot + np.sign(deviation) * magnitude, 0, 255)])
    return tables


def composites_look(settings: Settings) -> bool:
    """Whether the rig computes the look in a compositor group on the partner: no blend does the matte look, or
    blurs the frames first."""
    return settings.look == "matte" or settings.pre_blur > 0


def colours(settings: Settings) -> bool:
    """Whether the rig has a Colour group (tint, saturation)."""
    return settings.tint or settings.saturation != 1.0


def compositor_passes(settings: Settings) -> list[str]:
    """The rig's stages done by compositor groups, in the order they apply: each works in float and comes back
    to whole levels, a level or two from the exact engine, so stacked ones add up."""
    return list(_pass_levels(settings))


def _pass_levels(settings: Settings) -> dict[str, int]:
    """Each compositor pass of the rig and how many levels, at most, it puts the rig from the exact engine, as
    measured on lossless footage: the matte look 2 (times the amplify that follows it), tint or saturation 2 and
    3 together with a saturation above 1 (which widens the tint's rounding), glow and overlay 1."""
    amplified = max(settings.amplify, 1.0) if settings.look == "matte" else 1.0
    colour = 3 if settings.tint and settings.saturation > 1.0 else 2
    stages = (("the look", composites_look(settings), math.ceil(2 * amplified)), ("glow", settings.glow > 0, 1),
              ("colour", colours(settings), colour), ("overlay", settings.overlay != "none", 1))
    return {name: levels for name, used, levels in stages if used}


# From this many levels of estimated difference the rig is said to be approximate.
APPROXIMATE_LEVELS = 4


def compositor_levels(settings: Settings) -> int:
    """The most levels the rig's compositor passes put it from the exact engine: the worst pass's, and a level for
    each other pass's rounding (0 without compositor passes). An estimate from measurement, on the safe side."""
    levels = _pass_levels(settings)
    return max(levels.values()) + len(levels) - 1 if levels else 0


def approximations(settings: Settings, frame_count: int) -> list[str]:
    """Where the rig's render differs from the exact engine's by more than a level of rounding."""
    notes = []
    if settings.pre_blur > 0:
        notes.append("Pre-blur is Blender's Gaussian in the sequencer: a few levels from the exact engine's")
    levels = compositor_levels(settings)
    if levels >= APPROXIMATE_LEVELS:
        stacked = compositor_passes(settings)
        if settings.look == "matte" and settings.amplify > 1.0:
            stacked[0] = f"the look (amplified {settings.amplify:g}x)"
        names = f"{', '.join(stacked[:-1])} and {stacked[-1]}" if len(stacked) > 1 else stacked[0]
        kind = "are stacked compositor passes" if len(stacked) > 1 else "is a compositor pass"
        notes.append(f"{names[:1].upper()}{names[1:]} {kind}: the rig is up to about {levels} levels from the exact "
                     "engine")
    if settings.trails > 0:
        lasting = min(trail_length(settings.trails), max(frame_count - 1, 0))
        if trail_copies(settings, frame_count) < lasting:
            notes.append(
                f"Trails are cut after {MAX_TRAIL_COPIES} frames in the sequencer (they fade over {lasting})"
            )
    return notes
