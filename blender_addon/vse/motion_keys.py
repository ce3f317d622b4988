"""Key Motion Data: the exact engine's measures of a strip or rig, keyed as animation on custom properties.

The strip a bake would go above (the rig, a plain movie or image strip, or a baked strip) gets one
key per frame the sequencer shows of it, at the scene frame where it shows it, on these custom
properties (the columns of ``core.measures``): ``motion_quantity``, ``motion_active``,
``motion_x``, ``motion_y``, ``motion_box_x``, ``motion_box_y``, ``motion_box_width``,
``motion_box_height`` and, with the flow look, ``motion_speed`` and ``motion_direction``; and the
rhythm of the whole picture over the last seconds (:class:`FrameRhythm`, refitted four times a second of
the source and held between): ``motion_frequency_hz`` where it is a clear rhythm, ``motion_frequency_strength``
wherever the window holds enough frames. A driver
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

from ..core.engine import FrameSource, SourceEndedEarly, extract_motion
from ..core.frequency import (
    CONFIDENT_STRENGTH,
    FIRST_READING,
    Peak,
    RegionDisplacement,
    SlidingFrequency,
    refit_interval,
)
from ..core.measures import FLOW_COLUMNS, MOTION_COLUMNS, MotionMeasures
from ..core.timing import plan_frame
from ..render import RenderError, RequestError, in_frames, load_media
from ..render.inputs import truncated
from .bake import BakeCancelled, BakeError, BakePlan, check_frames
from .strips import channelbag, fill_curve

PREFIX = "motion_"
# Measure column -> the strip's custom property (one table: the keys, the tests and the manual read it).
PROPERTIES = {
    "quantity": "motion_quantity", "active": "motion_active", "centroid_x": "motion_x", "centroid_y": "motion_y",
    "box_x": "motion_box_x", "box_y": "motion_box_y", "box_width": "motion_box_width",
    "box_height": "motion_box_height", "flow_speed": "motion_speed", "flow_direction": "motion_direction",
}
assert set(PROPERTIES) == {column.name for column in (*MOTION_COLUMNS, *FLOW_COLUMNS)}, "a measure has no property"
FREQUENCY_WINDOW = 10.0  # seconds the keyed rhythm looks back, by default
FREQUENCY, STRENGTH = "motion_frequency_hz", "motion_frequency_strength"
RHYTHM_NOTE = "motion_extraction_rhythm"  # why the last keying has no rhythm reading (not keyed: no curve)
DESCRIPTIONS = {PROPERTIES[column.name]: f"{column.description} ({column.unit}; keyed by Key Motion Data)"
                for column in (*MOTION_COLUMNS, *FLOW_COLUMNS)} | {
    FREQUENCY: "dominant frequency of the whole picture's back-and-forth motion over the seconds before this frame, "
               "where it is a clear rhythm (Hz; times 60: per minute; keyed by Key Motion Data)",
    STRENGTH: "how far that frequency's peak stands above the spectrum around it "
              f"({CONFIDENT_STRENGTH:g} and more: a clear rhythm; keyed by Key Motion Data)",
}


@dataclass
class MeasuredFrames:
    """What :func:`measure_plan` found: for each shown frame, its scene frame and each property's value."""

    frames: list[int]
    values: dict[str, list[float | None]]  # property -> one value (or None) per frame
    rhythm_note: str | None = None  # why the rhythm asked for has no reading, for the panel

    def keyed(self) -> list[str]:
        """The properties that get keys: those with a value somewhere (a curve of no keys is not made)."""
        return [name for name, values in self.values.items() if any(value is not None for value in values)]

    def summary(self) -> str:
        """What keying these does, in the Info line's words: the properties and frames keyed, and why the rhythm
        asked for was not."""
        line = f"{len(self.keyed())} properties, {len(self.frames)} frames"
        if self.rhythm_note:
            return f"{line}; no rhythm: {self.rhythm_note}"
        if FREQUENCY in self.values and FREQUENCY not in self.keyed():
            return f"{line}; no clear rhythm, so {FREQUENCY} is not keyed"
        return line


class FrameRhythm:
    """The dominant frequency of the whole picture over the last ``seconds`` at each frame shown (no bpy): the
    source's frames, read from ``first`` by a head of their own, give their displacement (``core.frequency``)
    to a sliding window refitted a few times a second of the source, as the live readout is
    (``core.frequency.refit_interval``); between refits the reading is held."""

    def __init__(self, source: FrameSource, rate: float, first: int, seconds: float) -> None:
        self._source, self._next = source, first
        self._frames = source.read_from(first)
        self._displacement = RegionDisplacement((source.height, source.width), [(0, 0, source.width, source.height)])
        self._sliding = SlidingFrequency(rate, seconds, min(FIRST_READING, seconds))
        self._every, self._since_fit, self._peak = refit_interval(rate), 0, None

    def at(self, frame: int) -> Peak | None:
        """The reading over the frames up to ``frame`` (frames are asked for in order), as last refitted; None
        until the window holds enough of them."""
        while self._next <= frame:
            picture = next(self._frames, None)
            if picture is None:
                raise SourceEndedEarly(self._next, self._source.frame_count)
            self._sliding.add(self._displacement.add(picture)[0])
            self._next += 1
            self._since_fit += 1
        if self._peak is None or self._since_fit >= self._every:  # before the first reading a fit costs nothing
            self._peak, self._since_fit = self._sliding.current(), 0
        return self._peak

    def values(self, frame: int) -> dict[str, float | None]:
        """The keyed properties' values at ``frame``: the frequency only where the rhythm is clear."""
        peak = self.at(frame)
        return {FREQUENCY: peak.hz if peak is not None and peak.confident else None,
                STRENGTH: None if peak is None else peak.strength}

    def close(self) -> None:
        self._frames.close()


def measure_plan(plan: BakePlan, progress: Callable[[int], None] | None = None,
                 cancelled: threading.Event | None = None, frequency_window: float = FREQUENCY_WINDOW
                 ) -> MeasuredFrames:
    """The measures of the plan's frames, by the exact engine, and their rhythm over the last
    ``frequency_window`` seconds (0: none) (no bpy, any thread).

    ``progress`` hears the frames done; ``cancelled`` stops it (:class:`~.bake.BakeCancelled`).
    Raises :class:`~.bake.BakeError` with one line when the file cannot be read.
    """
    try:
        media = load_media()  # PyAV and OpenCV: the extension's bundled wheels
        try:
            source = media.open_source(plan.input_path, plan.fps)
        except media.MediaError as error:
            raise RenderError(str(error)) from None
        check_frames(plan, source.frame_count, source.timestamps is not None)
        settings = in_frames(plan.settings, source.rate)
        measures = MotionMeasures(settings, (source.height, source.width))
    except (RenderError, RequestError, ValueError) as error:
        raise BakeError(str(error)) from None
    start, stop = plan.frames
    first = plan_frame(settings, source.frame_count, start).frame
    names = [PROPERTIES[column.name] for column in measures.columns()[2:]]
    rhythm = FrameRhythm(source, float(source.rate), first, frequency_window) if frequency_window > 0 else None
    found = MeasuredFrames([], {name: [] for name in [*names, *([FREQUENCY, STRENGTH] if rhythm else [])]})
    try:
        for index, _ in enumerate(extract_motion(source, settings, start, stop, measure=measures), start=start):
            if cancelled is not None and cancelled.is_set():
                raise BakeCancelled
            shown = plan_frame(settings, source.frame_count, index).frame
            found.frames.append(plan.scene_start + shown - first)
            values = dict(zip(names, measures.values, strict=True)) | (rhythm.values(shown) if rhythm else {})
            for name, value in values.items():
                found.values[name].append(value)
            if progress is not None:
                progress(index - start + 1)
    except SourceEndedEarly as error:
        raise BakeError(str(truncated(plan.input_path, error))) from None
    finally:
        if rhythm is not None:
            rhythm.close()
    if rhythm is not None and not any(value is not None for value in found.values[STRENGTH]):
        needed = min(FIRST_READING, frequency_window)
        found.rhythm_note = (f"the {len(found.frames) / float(source.rate):.1f} s shown are less than the {needed:g} s "
                             "its first reading needs")
    return found


def key_measures(scene: bpy.types.Scene, plan: BakePlan, measured: MeasuredFrames) -> bpy.types.Strip:
    """Key ``measured`` on the plan's strip (its rig, or the strip itself), replacing its old motion keys."""
    strip = scene.sequence_editor.strips_all.get(plan.anchor)
    if strip is None:
        raise BakeError(f"'{plan.anchor}' is gone")
    clear_keys(scene, strip)
    if measured.rhythm_note:
        strip[RHYTHM_NOTE] = measured.rhythm_note
    elif RHYTHM_NOTE in strip:
        del strip[RHYTHM_NOTE]
    measured = MeasuredFrames(measured.frames, {name: measured.values[name] for name in measured.keyed()})
    for name in (FREQUENCY, STRENGTH):
        if name not in measured.values and name in strip:
            del strip[name]  # a rhythm not read this time is not left to be shown
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
