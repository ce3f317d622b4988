"""Alignment in the rig: the exact engine's estimates (``core.align``) keyed on the partner's transform.

For ``align`` ``shift`` or ``similarity`` the rig's partner is a META of two copies of the source:
the partner itself, whose transform (offset, rotation, scale) is keyed at every frame it shows
with the alignment of that pair, and under it the current frame (the *fill*), which shows where
the moved partner has no pixels, so those pixels take the still level as the engine's do. The
keys are constant (one value per frame) and editable like any other; Update estimates again.
A perspective alignment has no strip transform: the rig refuses it and Bake Motion renders it.
"""

from __future__ import annotations

import math

import bpy

from ..core.engine import SourceEndedEarly, estimate_alignments
from ..core.settings import Settings, SettingsError
from .compat import timing
from .strips import key_every_frame, strip_input

KEYED_MODELS = ("shift", "similarity")
TRANSFORM_PROPERTIES = ("offset_x", "offset_y", "rotation", "scale_x", "scale_y")
FAILED_KEY = "motion_align_failed"  # on the partner META: scene frames left unaligned (too little texture)


class AlignKeysError(Exception):
    """The alignment could not be estimated (no PyAV or OpenCV, an unreadable file); one line."""


def partner_keys(scene: bpy.types.Scene, source: bpy.types.Strip, settings: Settings,
                 partner_index: int = 0) -> tuple[list[tuple[int, tuple[float, ...]]], list[int]]:
    """Per scene frame where the source's whole media (untrimmed) would show, the partner's transform
    values (see :data:`TRANSFORM_PROPERTIES`); and the scene frames where the pair could not be aligned.
    Estimated once per rig build: its trail copies show the same media at the same frames.

    ``settings`` have their times in frames. ``partner_index`` picks a time-colour lag.
    """
    try:
        from .. import media  # PyAV and OpenCV: the extension's bundled wheels
        from ..core.align import IDENTITY, strip_transform
    except ImportError as error:
        raise AlignKeysError(f"aligning needs OpenCV and PyAV ({error})") from None
    try:
        path, fps = strip_input(scene, source)
        clip = media.open_source(path, fps)
    except media.MediaError as error:
        raise AlignKeysError(str(error)) from None
    content_start = int(timing(source).content_start)
    keys, failed = [], []
    try:
        for plan, alignments in estimate_alignments(clip, settings):
            frame = content_start + plan.frame
            alignment = alignments[partner_index] if alignments else None
            matrix = alignment.matrix if alignment is not None else IDENTITY
            if alignment is not None and alignment.failure:
                failed.append(frame)
            moved = strip_transform(matrix, clip.width, clip.height)
            keys.append((frame, (moved.offset_x, moved.offset_y, moved.rotation, moved.scale, moved.scale)))
    except (SettingsError, ValueError) as error:
        raise AlignKeysError(f"'{source.name}': {error}") from None
    except SourceEndedEarly as error:
        raise AlignKeysError(f"{path}: the video is truncated or corrupt ({error})") from None
    return keys, failed


def align_problem(source: bpy.types.Strip, settings: Settings, animated: list[str]) -> str | None:
    """Why the rig cannot align ``source`` with ``settings`` (``animated``: its animated properties), or ``None``."""
    if settings.align not in KEYED_MODELS:
        return f"align {settings.align}: a strip's transform cannot take a perspective; use Bake Motion"
    if settings.time_colour:
        return "align with time colour: the rig aligns one partner; use Bake Motion"
    moving = [name for name in animated if name.startswith(("transform.", "crop."))]
    if moving:
        return (f"'{source.name}' has its {moving[0]} animated, and alignment keys the partner's transform; "
                "use Bake Motion")
    problem = transform_problem(source)
    return None if problem is None else f"{problem}, which the rig cannot align; use Bake Motion"


def transform_problem(source: bpy.types.Strip) -> str | None:
    """Why the rig cannot key an alignment on top of ``source``'s own transform, or ``None``."""
    transform = source.transform
    if transform.scale_x != transform.scale_y:
        return f"'{source.name}' is scaled unevenly (x {transform.scale_x:g}, y {transform.scale_y:g})"
    if tuple(transform.origin) != (0.5, 0.5):
        return f"'{source.name}' turns about an origin off its centre"
    crop = source.crop
    if (crop.min_x, crop.max_x, crop.min_y, crop.max_y) != (0, 0, 0, 0):
        return f"'{source.name}' is cropped"
    return None


def key_partner(partner: bpy.types.Strip, keys: list[tuple[int, tuple[float, ...]]], shown: range) -> None:
    """Key ``partner``'s transform with those of ``keys`` (from :func:`partner_keys`) at the scene frames
    ``shown``, on top of the transform it has (the source's own: its scale to fit, say), replacing any keys it had."""
    keys = [(frame, values) for frame, values in keys if frame in shown]
    if not keys:
        return
    own = partner.transform
    scale, turn = own.scale_x, own.rotation
    cos, sin = math.cos(turn), math.sin(turn)
    composed = []
    for frame, (offset_x, offset_y, rotation, scale_x, scale_y) in keys:
        # The source's transform after the alignment's: scales multiply, turns add, and the alignment's
        # offset is scaled and turned by the source's (all about the same centre).
        composed.append((frame, (own.offset_x + scale * (cos * offset_x - sin * offset_y),
                                 own.offset_y + scale * (sin * offset_x + cos * offset_y),
                                 turn + rotation, scale * scale_x, scale * scale_y)))
    for position, name in enumerate(TRANSFORM_PROPERTIES):
        key_every_frame(partner, f"transform.{name}", [(frame, values[position]) for frame, values in composed])


def failed_frames(rig: bpy.types.MetaStrip) -> list[int]:
    """The scene frames whose pair the rig could not align when it was last built (too little texture)."""
    for strip in rig.strips:
        if FAILED_KEY in strip:
            return [int(frame) for frame in strip[FAILED_KEY]]
    return []
