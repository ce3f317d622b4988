"""Small bpy helpers for sequencer strips: copying a strip with its settings, curves, scenes.

Nothing here knows about motion extraction; :mod:`.rig` composes these into the rig.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import bpy

# Properties a copy must not take from its source: identity, placement and media, which
# :func:`copy_strip` sets itself, and collections handled separately.
_NOT_COPIED = frozenset({
    "rna_type", "name", "type", "select", "select_left_handle", "select_right_handle", "channel",
    "frame_start", "frame_final_start", "frame_final_end", "frame_final_duration", "frame_duration",
    "frame_offset_start", "frame_offset_end", "elements", "modifiers", "retiming_keys", "filepath",
    "show_retiming_keys", "fps",
})


@contextlib.contextmanager
def sequencer_scene(scene: bpy.types.Scene) -> Iterator[None]:
    """Make ``scene`` the context's sequencer scene.

    Blender 5.0 crashes in ``StripModifiers.new`` when the context has no sequencer scene,
    so every modifier is added inside this block.
    """
    with bpy.context.temp_override(scene=scene, sequencer_scene=scene):
        yield


def copy_properties(
    source: bpy.types.bpy_struct, target: bpy.types.bpy_struct, skip: frozenset[str] = frozenset()
) -> None:
    """Copy every writable RNA property of ``source`` to ``target``, recursing into nested structs."""
    for prop in source.bl_rna.properties:
        name = prop.identifier
        if name in skip or name == "rna_type":
            continue
        if prop.type == "POINTER":
            value = getattr(source, name)
            if prop.is_readonly:
                if value is not None and not isinstance(value, bpy.types.ID):
                    copy_properties(value, getattr(target, name))
            else:
                setattr(target, name, value)
        elif prop.type == "COLLECTION":
            if name == "curves" and isinstance(source, bpy.types.CurveMapping):
                _copy_curves(source, target)
        elif not prop.is_readonly:
            value = getattr(source, name)
            if getattr(prop, "is_array", False):
                value = tuple(value)
            with contextlib.suppress(AttributeError, TypeError, ValueError):
                setattr(target, name, value)


def _copy_curves(source: bpy.types.CurveMapping, target: bpy.types.CurveMapping) -> None:
    for source_curve, target_curve in zip(source.curves, target.curves, strict=True):
        set_curve_points(target_curve, [tuple(point.location) for point in source_curve.points])
        for source_point, target_point in zip(source_curve.points, target_curve.points, strict=True):
            target_point.handle_type = source_point.handle_type
    target.update()


def set_curve_points(curve: bpy.types.CurveMap, points: list[tuple[float, float]], handle: str | None = None) -> None:
    """Replace the points of ``curve`` (a curve keeps at least two points)."""
    while len(curve.points) > 2:
        curve.points.remove(curve.points[-1])
    curve.points[0].location = points[0]
    curve.points[1].location = points[-1]
    for x, y in points[1:-1]:
        curve.points.new(x, y)
    if handle is not None:
        for point in curve.points:
            point.handle_type = handle


def copy_modifiers(scene: bpy.types.Scene, source: bpy.types.Strip, target: bpy.types.Strip) -> None:
    """Append copies of ``source``'s modifiers, in order, to ``target``."""
    with sequencer_scene(scene):
        for modifier in source.modifiers:
            copy = target.modifiers.new(name=modifier.name, type=modifier.type)
            copy_properties(modifier, copy, skip=frozenset({"name", "type", "is_active"}))


def media_path(strip: bpy.types.Strip) -> str:
    """The (possibly blend-relative) path of a movie or of an image sequence's first image."""
    if strip.type == "MOVIE":
        return strip.filepath
    return os.path.join(strip.directory, strip.elements[0].filename)


def copy_strip(scene: bpy.types.Scene, source: bpy.types.Strip, name: str, channel: int,
               strips: bpy.types.bpy_prop_collection | None = None) -> bpy.types.Strip:
    """A new movie or image strip showing the same media as ``source`` with the same settings.

    Placement and trims are copied too; the caller moves the copy where it belongs.
    ``strips`` is the collection to create it in (the top level by default).
    """
    strips = scene.sequence_editor.strips if strips is None else strips
    start = int(source.frame_start)
    if source.type == "MOVIE":
        copy = strips.new_movie(name=name, filepath=source.filepath, channel=channel, frame_start=start)
    elif source.type == "IMAGE":
        copy = strips.new_image(name=name, filepath=media_path(source), channel=channel, frame_start=start)
        for element in source.elements[1:]:
            copy.elements.append(element.filename)
    else:
        raise ValueError(f"cannot copy a {source.type.lower()} strip")
    copy_properties(source, copy, skip=_NOT_COPIED)
    copy.frame_offset_start = source.frame_offset_start
    copy.frame_offset_end = source.frame_offset_end
    copy_modifiers(scene, source, copy)
    return copy


def media_frame_count(strip: bpy.types.Strip) -> int:
    """How many frames the strip's media holds (its length before trimming)."""
    return int(strip.frame_duration)


def context_scene(context: bpy.types.Context) -> bpy.types.Scene | None:
    """The scene whose sequencer the user works in: the sequencer scene, else the active scene."""
    return getattr(context, "sequencer_scene", None) or context.scene


def active_strip(scene: bpy.types.Scene | None) -> bpy.types.Strip | None:
    editor = scene.sequence_editor if scene is not None else None
    return editor.active_strip if editor is not None else None
