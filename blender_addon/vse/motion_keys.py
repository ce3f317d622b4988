"""Key Motion Data: the exact engine's measures of a strip or rig, keyed as animation on custom properties.

The strip a bake would go above (the rig, a plain movie or image strip, or a baked strip) gets one
key per frame the sequencer shows of it, at the scene frame where it shows it, on these custom
properties (the columns of ``core.measures``): ``motion_quantity``, ``motion_active``,
``motion_x``, ``motion_y``, ``motion_box_x``, ``motion_box_y``, ``motion_box_width``,
``motion_box_height`` and, with the flow look, ``motion_speed`` and ``motion_direction``. A driver
that reads ``strips_all["Name"]["motion_quantity"]`` then follows the motion. A frame without a
value (no centroid in a still frame) gets no key, so the curve holds its last value. Keying again
replaces every key of every ``motion_*`` property of the strip.

It runs in the steps of a bake (``vse.bake``): the bake's plan says which file, which frames and
where they show; :func:`measure_plan` measures them (no bpy: any thread); :func:`key_measures` keys
them (main thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import bpy

from ..core.engine import SourceEndedEarly, extract_motion
from ..core.measures import FLOW_COLUMNS, MOTION_COLUMNS, MotionMeasures
from ..core.settings import SettingsError
from ..core.timing import plan_frame
from .bake import BakeCancelled, BakeError, BakePlan
from .strips import channelbag, fill_curve

PREFIX = "motion_"
# Measure column -> the strip's custom property (one table: the keys, the tests and the manual read it).
PROPERTIES = {
    "quantity": "motion_quantity", "active": "motion_active", "centroid_x": "motion_x", "centroid_y": "motion_y",
    "box_x": "motion_box_x", "box_y": "motion_box_y", "box_width": "motion_box_width",
    "box_height": "motion_box_height", "flow_speed": "motion_speed", "flow_direction": "motion_direction",
}
assert set(PROPERTIES) == {column.name for column in (*MOTION_COLUMNS, *FLOW_COLUMNS)}, "a measure has no property"
DESCRIPTIONS = {PROPERTIES[column.name]: f"{column.description} ({column.unit}; keyed by Key Motion Data)"
                for column in (*MOTION_COLUMNS, *FLOW_COLUMNS)}


@dataclass
class MeasuredFrames:
    """What :func:`measure_plan` found: for each shown frame, its scene frame and each property's value."""

    frames: list[int]
    values: dict[str, list[float | None]]  # property -> one value (or None) per frame


def measure_plan(plan: BakePlan, progress: Callable[[int], None] | None = None,
                 cancelled: threading.Event | None = None) -> MeasuredFrames:
    """The measures of the plan's frames, by the exact engine (no bpy, any thread).

    ``progress`` hears the frames done; ``cancelled`` stops it (:class:`~.bake.BakeCancelled`).
    Raises :class:`~.bake.BakeError` with one line when the file cannot be read.
    """
    from .. import media  # PyAV and OpenCV: the extension's bundled wheels

    try:
        source = media.open_source(plan.input_path, plan.fps)
        settings = plan.settings.in_frames(source.rate)
        measures = MotionMeasures(settings, (source.height, source.width))
    except (media.MediaError, SettingsError, ValueError) as error:
        raise BakeError(str(error)) from None
    start, stop = plan.frames
    first = plan_frame(settings, source.frame_count, start).frame
    names = [PROPERTIES[column.name] for column in measures.columns()[2:]]
    found = MeasuredFrames([], {name: [] for name in names})
    try:
        for index, _ in enumerate(extract_motion(source, settings, start, stop, measure=measures), start=start):
            if cancelled is not None and cancelled.is_set():
                raise BakeCancelled
            found.frames.append(plan.scene_start + plan_frame(settings, source.frame_count, index).frame - first)
            for name, value in zip(names, measures.values, strict=True):
                found.values[name].append(value)
            if progress is not None:
                progress(index - start + 1)
    except SourceEndedEarly as error:
        raise BakeError(f"{plan.input_path}: the video is truncated or corrupt ({error})") from None
    return found


def key_measures(scene: bpy.types.Scene, plan: BakePlan, measured: MeasuredFrames) -> bpy.types.Strip:
    """Key ``measured`` on the plan's strip (its rig, or the strip itself), replacing its old motion keys."""
    strip = scene.sequence_editor.strips_all.get(plan.anchor)
    if strip is None:
        raise BakeError(f"'{plan.anchor}' is gone")
    clear_keys(scene, strip)
    for name, values in measured.values.items():
        first = next((value for value in values if value is not None), 0.0)
        strip[name] = float(first)
        _describe(strip, name)
    strip.keyframe_insert(data_path=f'["{next(iter(measured.values))}"]', frame=measured.frames[0])  # action, slot
    channels = channelbag(scene, create=True)
    for name, values in measured.values.items():
        path = f'{strip.path_from_id()}["{name}"]'
        curve = channels.fcurves.find(path) or channels.fcurves.new(path, index=0)
        fill_curve(curve, [(frame, value) for frame, value in zip(measured.frames, values, strict=True)
                           if value is not None], "LINEAR")
        curve.group = channels.groups.get(strip.name) or channels.groups.new(strip.name)
    return strip


def clear_keys(scene: bpy.types.Scene, strip: bpy.types.Strip) -> int:
    """Remove the keys of every ``motion_*`` custom property of ``strip``; returns how many curves went."""
    channels = channelbag(scene)
    if channels is None:
        return 0
    prefix = f'{strip.path_from_id()}["{PREFIX}'
    gone = [curve for curve in channels.fcurves if curve.data_path.startswith(prefix)]
    for curve in gone:
        channels.fcurves.remove(curve)
    return len(gone)


def _describe(strip: bpy.types.Strip, name: str) -> None:
    """The property's tooltip, from the measures' own description."""
    try:
        strip.id_properties_ui(name).update(description=DESCRIPTIONS[name])
    except (AttributeError, TypeError):  # a Blender without UI data for this property: the key still works
        pass
