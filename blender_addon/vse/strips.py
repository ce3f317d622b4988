"""Small bpy helpers for sequencer strips: copying a strip with its settings, curves, scenes.

Nothing here knows about motion extraction; :mod:`.rig` composes these into the rig.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterator
from fractions import Fraction

import bpy
from bpy_extras import anim_utils

from ..core.rates import exact_rate, rate_of_blender_fps
from ..core.timing import Span
from ..media.errors import MediaError
from ..media.names import image_sequence_files
from .compat import PLACEMENT, is_deprecated, timing

MAX_CHANNEL = 128
# The inputs of an effect strip (a transition, a blur, a speed change).
EFFECT_INPUTS = ("input_1", "input_2")

# Properties a copy must not take from its source: identity, placement and media, which
# :func:`copy_strip` sets itself, and collections handled separately.
_NOT_COPIED = PLACEMENT | {
    "rna_type", "name", "type", "select", "select_left_handle", "select_right_handle", "channel",
    "elements", "modifiers", "retiming_keys", "filepath", "show_retiming_keys", "fps",
}


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
    """Copy every writable RNA property of ``source`` to ``target``, recursing into nested structs.

    Deprecated properties are left out: the property that replaces them is copied. Only values that differ
    are set: setting some of a movie strip's properties, even to the value they have, makes Blender reopen
    its movie.
    """
    for prop in source.bl_rna.properties:
        name = prop.identifier
        if name in skip or name == "rna_type" or is_deprecated(prop):
            continue
        if prop.type == "POINTER":
            value = getattr(source, name)
            if prop.is_readonly:
                if value is not None and not isinstance(value, bpy.types.ID):
                    copy_properties(value, getattr(target, name))
            elif getattr(target, name) != value:
                setattr(target, name, value)
        elif prop.type == "COLLECTION":
            if name == "curves" and isinstance(source, bpy.types.CurveMapping):
                _copy_curves(source, target)
        elif not prop.is_readonly:
            value, current = getattr(source, name), getattr(target, name)
            if getattr(prop, "is_array", False):
                value, current = tuple(value), tuple(current)
            if value != current:
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


def copy_modifiers(scene: bpy.types.Scene, source: bpy.types.Strip, target: bpy.types.Strip,
                   names: Collection[str] | None = None) -> None:
    """Append copies of ``source``'s modifiers (those named in ``names``, else all), in order, to ``target``."""
    with sequencer_scene(scene):
        for modifier in source.modifiers:
            if names is not None and modifier.name not in names:
                continue
            copy = target.modifiers.new(name=modifier.name, type=modifier.type)
            copy_properties(modifier, copy, skip=frozenset({"name", "type", "is_active"}))


def channelbag(scene: bpy.types.Scene, create: bool = False) -> bpy.types.ActionChannelbag | None:
    """Where the F-curves animating ``scene`` (and so its strips) are, made when ``create`` (the scene needs
    its action and slot: one key made the usual way makes them); ``None`` when nothing is animated."""
    animation = scene.animation_data
    if animation is None or animation.action is None or animation.action_slot is None:
        return None
    if create:
        return anim_utils.action_ensure_channelbag_for_slot(animation.action, animation.action_slot)
    return anim_utils.action_get_channelbag_for_slot(animation.action, animation.action_slot)


def fill_curve(curve: bpy.types.FCurve, keys: list[tuple[int, float]], interpolation: str) -> None:
    """Replace ``curve``'s keys with ``keys`` (scene frame, value), each with ``interpolation`` (``LINEAR``...)."""
    value = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items[interpolation].value
    curve.keyframe_points.clear()
    curve.keyframe_points.add(len(keys))
    curve.keyframe_points.foreach_set("co", [number for key in keys for number in key])
    curve.keyframe_points.foreach_set("interpolation", [value] * len(keys))
    curve.update()


def key_every_frame(strip: bpy.types.Strip, name: str, keys: list[tuple[int, float]], index: int = -1) -> None:
    """Key ``strip``'s property ``name`` (a path from the strip, such as ``transform.offset_x``) at each
    (scene frame, value) of ``keys``, with constant interpolation: the value holds until the next key.
    Keys it had before go. ``index`` is the element of an array property (-1: not an array)."""
    owner, _, leaf = name.rpartition(".")
    # One key the usual way makes the scene's action and slot if they are new; the curve is then refilled.
    (strip.path_resolve(owner) if owner else strip).keyframe_insert(data_path=leaf, index=index, frame=keys[0][0])
    curve = channelbag(strip.id_data, create=True).fcurves.find(f"{strip.path_from_id()}.{name}", index=max(index, 0))
    fill_curve(curve, keys, "CONSTANT")


def strip_fcurves(strip: bpy.types.Strip) -> list[bpy.types.FCurve]:
    """The F-curves animating ``strip``'s own properties (and its modifiers')."""
    bag = channelbag(strip.id_data)
    prefix = strip.path_from_id()
    return [fcurve for fcurve in bag.fcurves if fcurve.data_path.startswith(prefix + ".")] if bag else []


def animated_property(strip: bpy.types.Strip, fcurve: bpy.types.FCurve) -> str:
    """The path of the property ``fcurve`` animates, from ``strip`` (``transform.offset_x``)."""
    return fcurve.data_path[len(strip.path_from_id()) + 1:]


def copy_animation(source: bpy.types.Strip, target: bpy.types.Strip, shift: int,
                   skip: Collection[str] = ()) -> None:
    """Animate ``target`` as ``source`` is, ``shift`` frames later; properties named in ``skip`` are left alone."""
    bag = channelbag(source.id_data)
    for fcurve in strip_fcurves(source):
        name = animated_property(source, fcurve)
        if name in skip:
            continue
        copy = bag.fcurves.new(f"{target.path_from_id()}.{name}", index=fcurve.array_index)
        copy.extrapolation = fcurve.extrapolation
        copy.keyframe_points.add(len(fcurve.keyframe_points))
        for point, new in zip(fcurve.keyframe_points, copy.keyframe_points, strict=True):
            copy_properties(point, new, skip=frozenset({"select_control_point", "select_left_handle",
                                                        "select_right_handle"}))
            for vector in (new.co, new.handle_left, new.handle_right):
                vector[0] += shift
        copy.update()


def hold_animation(source: bpy.types.Strip, target: bpy.types.Strip, frame: float,
                   skip: Collection[str] = ()) -> None:
    """Set ``target``'s properties that ``source`` animates to their values at scene ``frame``, unanimated;
    properties named in ``skip`` are left alone."""
    for fcurve in strip_fcurves(source):
        name = animated_property(source, fcurve)
        if name in skip:
            continue
        path, _, prop = name.rpartition(".")
        owner = target.path_resolve(path) if path else target
        value = fcurve.evaluate(frame)
        current = getattr(owner, prop)
        if isinstance(current, (bool, int, float)):
            setattr(owner, prop, _like(current, value))
        else:  # an array: the F-curve animates one of its items
            current[fcurve.array_index] = _like(current[fcurve.array_index], value)


def _like(current: bool | int | float, value: float) -> bool | int | float:
    """An F-curve's value as the type of the property it animates."""
    if isinstance(current, bool):
        return value >= 0.5
    return round(value) if isinstance(current, int) else value


def move_animation(source: bpy.types.Strip, target: bpy.types.Strip, names: Collection[str]) -> None:
    """Hand the F-curves of ``source``'s properties named in ``names`` over to ``target``."""
    for fcurve in strip_fcurves(source):
        name = animated_property(source, fcurve)
        if name in names:
            fcurve.data_path = f"{target.path_from_id()}.{name}"


def remove_animation(strip: bpy.types.Strip) -> None:
    """Delete the F-curves animating ``strip`` (before the strip itself goes)."""
    bag = channelbag(strip.id_data)
    for fcurve in strip_fcurves(strip):
        bag.fcurves.remove(fcurve)


def absolute_path(strip: bpy.types.Strip, path: str) -> str:
    """``path``, one of ``strip``'s (possibly blend-relative), as an absolute path: from the library file its
    scene is linked from, as Blender itself reads it, else from the open file."""
    return os.path.normpath(bpy.path.abspath(path, library=strip.id_data.library))


def scene_edit_problem(scene: bpy.types.Scene) -> str | None:
    """Why ``scene``'s strips cannot be changed (it is linked from a library, or otherwise read-only), or ``None``."""
    if scene.library is not None:
        return f"'{scene.name}' is a linked scene: make it local first"
    if not scene.is_editable:
        return f"'{scene.name}' is not editable here: make it local first"
    return None


def media_path(strip: bpy.types.Strip) -> str:
    """The (possibly blend-relative) path of a movie or of an image sequence's first image."""
    if strip.type == "MOVIE":
        return strip.filepath
    return os.path.join(strip.directory, strip.elements[0].filename)


def missing_media(strip: bpy.types.Strip) -> list[str]:
    """The absolute paths of a movie's file or an image sequence's images that are not on disk."""
    if strip.type == "MOVIE":
        paths = [strip.filepath]
    else:
        paths = [os.path.join(strip.directory, element.filename) for element in strip.elements]
    return [path for path in (absolute_path(strip, path) for path in paths) if not os.path.isfile(path)]


def copy_strip(scene: bpy.types.Scene, source: bpy.types.Strip, name: str, channel: int,
               strips: bpy.types.bpy_prop_collection | None = None) -> bpy.types.Strip:
    """A new movie or image strip showing the same media as ``source`` with the same settings.

    Placement and trims are copied too; the caller moves the copy where it belongs.
    ``strips`` is the collection to create it in (the top level by default).
    """
    strips = scene.sequence_editor.strips if strips is None else strips
    start = int(timing(source).content_start)
    if source.type == "MOVIE":
        copy = strips.new_movie(name=name, filepath=source.filepath, channel=channel, frame_start=start)
    elif source.type == "IMAGE":
        copy = strips.new_image(name=name, filepath=media_path(source), channel=channel, frame_start=start)
        for element in source.elements[1:]:
            copy.elements.append(element.filename)
    else:
        raise ValueError(f"cannot copy a {source.type.lower()} strip")
    copy_properties(source, copy, skip=_NOT_COPIED)
    if source.use_proxy:  # the proxy's folder is reset by the switches copied after it: set it again
        copy.proxy.directory = source.proxy.directory
        if source.proxy.use_proxy_custom_file:  # the folder and the file's name in one
            copy.proxy.filepath = source.proxy.filepath
    copy_time, source_time = timing(copy), timing(source)
    copy_time.left_handle_offset = source_time.left_handle_offset
    copy_time.right_handle_offset = source_time.right_handle_offset
    copy_modifiers(scene, source, copy)
    return copy


def media_frame_count(strip: bpy.types.Strip) -> int:
    """How many frames the strip's media holds (its length before trimming)."""
    return int(timing(strip).content_duration)


def media_rate(scene: bpy.types.Scene, strip: bpy.types.Strip) -> Fraction:
    """Frames per second of the strip's media, exactly: a movie's own rate, else (images) the scene's.

    A movie's rate is read from its file's headers, as the exact engine reads it; Blender's ``strip.fps``
    (read only where the extension's PyAV is missing, or the headers give no rate) reopens the movie on
    every read, which on a large movie takes seconds: callers read the rate once.
    """
    if strip.type == "MOVIE":
        rate = file_rate(absolute_path(strip, strip.filepath))
        if rate is not None:
            return rate
        fps = strip.fps
        if fps > 0:
            return exact_rate(float(fps))
    return rate_of_blender_fps(scene.render.fps, scene.render.fps_base)


def file_rate(path: str) -> Fraction | None:
    """A movie file's rate from its headers (``media.movie.file_rate``), or ``None`` in a Blender without the
    extension's PyAV and OpenCV, or when the headers give none."""
    try:
        from ..media import movie
    except ImportError:
        return None
    return movie.file_rate(path)


def context_scene(context: bpy.types.Context) -> bpy.types.Scene | None:
    """The scene whose sequencer the user works in: the sequencer scene, else the active scene."""
    return getattr(context, "sequencer_scene", None) or context.scene


def active_strip(scene: bpy.types.Scene | None) -> bpy.types.Strip | None:
    editor = scene.sequence_editor if scene is not None else None
    return editor.active_strip if editor is not None else None


def add_modifier(scene: bpy.types.Scene, strip: bpy.types.Strip, name: str, kind: str) -> bpy.types.StripModifier:
    """A new modifier of type ``kind`` at the end of ``strip``'s stack (safely: see :func:`sequencer_scene`)."""
    with sequencer_scene(scene):
        return strip.modifiers.new(name=name, type=kind)


def set_range(strip: bpy.types.Strip, start: int, end: int) -> None:
    """Show scene frames ``start`` to ``end - 1`` of ``strip`` (a META strip does not grow to fit its content)."""
    time = timing(strip)
    if end <= time.left_handle:
        time.left_handle = start
        time.right_handle = end
    else:
        time.right_handle = end
        time.left_handle = start


def media_size(strip: bpy.types.Strip) -> tuple[int, int]:
    """The pixel size (width, height) of a movie or image strip's media: the size Blender noted when it read it,
    else read from the file."""
    element = strip.elements[0] if len(strip.elements) else None
    if element is not None and element.orig_width and element.orig_height:
        return int(element.orig_width), int(element.orig_height)
    if strip.type == "MOVIE":
        clip = bpy.data.movieclips.load(absolute_path(strip, strip.filepath), check_existing=True)
        try:
            return int(clip.size[0]), int(clip.size[1])
        finally:
            if clip.users == 0:
                bpy.data.movieclips.remove(clip)
    image = bpy.data.images.load(absolute_path(strip, media_path(strip)), check_existing=False)
    try:
        return int(image.size[0]), int(image.size[1])
    finally:
        bpy.data.images.remove(image)


def container(strip: bpy.types.Strip) -> bpy.types.bpy_prop_collection:
    """The strips ``strip`` is one of: its META's, else its scene's top level."""
    parent = strip.parent_meta()
    return parent.strips if parent is not None else strip.id_data.sequence_editor.strips


def effect_users(strip: bpy.types.Strip) -> list[bpy.types.Strip]:
    """The effect strips (transitions, blurs, speed) that take ``strip`` as an input."""
    return [other for other in strip.id_data.sequence_editor.strips_all
            if any(getattr(other, name, None) == strip for name in EFFECT_INPUTS)]


def free_channel(strips: bpy.types.bpy_prop_collection, span: Span, lowest: int = 1) -> int | None:
    """The lowest channel from ``lowest`` up where none of ``strips`` shows during ``span``; None if all are taken."""
    used = {strip.channel for strip in strips if visible_span(strip).within(span)}
    return next((channel for channel in range(lowest, MAX_CHANNEL + 1) if channel not in used), None)


def make_active(scene: bpy.types.Scene, strip: bpy.types.Strip) -> None:
    """Select ``strip`` alone and make it the active strip."""
    for other in scene.sequence_editor.strips_all:
        other.select = False
    strip.select = True
    scene.sequence_editor.active_strip = strip


def forget_cached_pictures(strips: list[bpy.types.Strip]) -> None:
    """Drop the sequencer's cached pictures of ``strips`` (and what uses them). Blender 5.1 otherwise showed a
    rig built after one was removed with the removed rig's pictures in places, until the file was reopened."""
    for strip in strips:
        strip.invalidate_cache("RAW")


def visible_span(strip: bpy.types.Strip) -> Span:
    """The scene frames ``strip`` shows."""
    time = timing(strip)
    return Span(time.left_handle, time.right_handle)


def media_span(strip: bpy.types.Strip) -> Span:
    """The scene frames ``strip``'s whole media would cover, untrimmed."""
    start = int(timing(strip).content_start)
    return Span(start, start + media_frame_count(strip))



def strip_input(scene: bpy.types.Scene, source: bpy.types.Strip) -> tuple[str, Fraction | None]:
    """The file (or image folder) the exact engine reads for ``source``, and the rate to read it at;
    raises :class:`MediaError` when the strip shows images that are not its whole folder."""
    if source.type == "MOVIE":
        return absolute_path(source, source.filepath), None
    folder = absolute_path(source, source.directory)
    shown = [os.path.join(folder, element.filename) for element in source.elements]
    files = image_sequence_files(folder)
    if [os.path.normpath(file) for file in files or ()] != [os.path.normpath(file) for file in shown]:
        raise MediaError(f"'{source.name}': the exact engine reads whole image folders, and its images are not all of "
                         f"{folder}")
    return folder, rate_of_blender_fps(scene.render.fps, scene.render.fps_base)
