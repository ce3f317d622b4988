"""The rig's checks: why a strip cannot be a rig's source, its media cannot be read, its edit cannot be shown,
or a rig is damaged; each as one line for the panel, and raised as :class:`~.record.RigError` by the builders."""

from __future__ import annotations

import bpy

from ...core.settings import Settings, SettingsError
from ...core.timing import output_size
from .. import align_keys
from ..compat import timing
from ..strips import (
    animated_property,
    effect_users,
    media_frame_count,
    media_rate,
    media_size,
    missing_media,
    scene_edit_problem,
    strip_fcurves,
)
from .record import BLEND, SOURCE_TYPES, RigError, rig_settings, rig_source


def rig_problem(rig: bpy.types.MetaStrip) -> str | None:
    """What is wrong with a rig and how to recover, in one line; ``None`` when it is whole."""
    try:
        rig_source(rig)
    except RigError as error:
        return f"{_sentence(error)}: Remove deletes what is left of the rig, Undo may bring the source back"
    try:
        rig_settings(rig)
    except RigError as error:
        return f"{_sentence(error)}: Update rebuilds it with the settings shown here"
    return None


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:]


def source_problem(strip: bpy.types.Strip | None) -> str | None:
    """Why ``strip`` cannot be the source of a new rig, or ``None`` when it can."""
    if strip is None:
        return "No active strip"
    if strip.type not in SOURCE_TYPES:
        return f"'{strip.name}' is a {strip.type.lower()} strip, not a movie or image strip"
    if strip.lock:
        return f"'{strip.name}' is locked: unlock it to extract its motion"
    return None


def media_problem(strip: bpy.types.Strip) -> str | None:
    """Why the sequencer cannot read ``strip``'s media now (missing files), or ``None``."""
    missing = missing_media(strip)
    if not missing:
        return None
    more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
    return f"'{strip.name}': its media is missing ({missing[0]}{more}): relink it or put it back, then try again"


def placement(source: bpy.types.Strip) -> str | None:
    """``"moved"`` when ``source`` is moved, scaled or cropped in the frame, ``"animated"`` when that is
    animated, else ``None``."""
    if any(animated_property(source, fcurve).startswith(("transform.", "crop.")) for fcurve in strip_fcurves(source)):
        return "animated"
    move, crop = source.transform, source.crop
    placed = (move.offset_x, move.offset_y, move.rotation, move.scale_x - 1.0, move.scale_y - 1.0,
              crop.min_x, crop.max_x, crop.min_y, crop.max_y)
    return "moved" if any(placed) else None


def framing_note(source: bpy.types.Strip, settings: Settings) -> str | None:
    """Where the rig differs from the exact engine because the source does not fill the frame (it is moved,
    scaled or cropped, or smaller than its scene), or ``None``."""
    if placement(source):
        return (f"'{source.name}' is moved, scaled or cropped in the frame: where that leaves the frame empty, the "
                "rig is transparent and the exact engine sees black")
    if settings.layout != "motion":
        return None  # the layout's own size check (layout_problem) says what the scene needs
    try:
        width, height = media_size(source)
    except RuntimeError:  # its media is missing: media_problem says so
        return None
    render = source.id_data.render
    if width >= render.resolution_x and height >= render.resolution_y:
        return None
    return (f"'{source.name}' ({width}x{height}) does not fill the {render.resolution_x}x{render.resolution_y} "
            "frame: the rig leaves transparent bars, which the exact engine (at the clip's own size) has not")


def edit_problem(strip: bpy.types.Strip, settings: Settings) -> str | None:
    """Why the rig cannot show ``strip`` as the edit does (its retiming, its held frames, for alignment its
    transform), or ``None``."""
    speed = [other.name for other in effect_users(strip) if other.type == "SPEED"]
    if len(strip.retiming_keys) or speed:
        by = f" by '{speed[0]}'" if speed else ""
        return (f"'{strip.name}' is retimed{by}: the rig cannot pair retimed frames yet; bake it without the "
                "retiming (Bake Motion) and retime the baked strip")
    time = timing(strip)
    held = time.left_handle_offset < 0 or time.right_handle_offset < 0
    if held and (settings.trails > 0 or (settings.mode == "shift" and settings.edges != "hold")):
        return (f"'{strip.name}' holds frames past the ends of its media: the rig pairs them with edges hold or in "
                "freeze mode, without trails; trim it to its media, or use Bake Motion")
    animated = [animated_property(strip, fcurve) for fcurve in strip_fcurves(strip)]
    animated = [name for name in animated if name not in BLEND]
    if settings.align != "none":
        return align_keys.align_problem(strip, settings, animated)
    return None


def layout_problem(scene: bpy.types.Scene, rig: bpy.types.MetaStrip) -> str | None:
    """Why ``scene``'s resolution does not show the whole of the rig's layout, or ``None``."""
    settings = rig_settings(rig)
    if settings.layout == "motion":
        return None
    wanted = output_size(settings, *media_size(rig_source(rig)))
    render = scene.render
    if (render.resolution_x, render.resolution_y) != wanted:
        return (
            f"The {settings.layout} layout needs a {wanted[0]}x{wanted[1]} scene "
            f"(it is {render.resolution_x}x{render.resolution_y})"
        )
    return None


def check_settings(scene: bpy.types.Scene, source: bpy.types.Strip, settings: Settings) -> Settings:
    """``settings`` with times in seconds turned into frames at the source's rate, checked against its length."""
    try:
        frames = settings.in_frames(media_rate(scene, source))
        frames.validate_for_clip(media_frame_count(source))
    except SettingsError as error:
        raise RigError(f"'{source.name}': {error}") from None
    if frames.look == "flow":
        raise RigError("look flow: the sequencer rig cannot compute optical flow; use Bake Motion or the exact engine")
    return frames


def check_scene(scene: bpy.types.Scene) -> None:
    """Refuse to change a scene linked from a library (or otherwise read-only)."""
    problem = scene_edit_problem(scene)
    if problem:
        raise RigError(problem)


def check_media(source: bpy.types.Strip) -> None:
    problem = media_problem(source)
    if problem:
        raise RigError(problem)


def check_edit(source: bpy.types.Strip, settings: Settings) -> None:
    problem = edit_problem(source, settings)
    if problem:
        raise RigError(problem)

