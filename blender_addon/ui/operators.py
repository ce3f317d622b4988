"""Operators: Extract Motion, Update, Remove, the output colour fix, Fit Scene to Layout. Thin: they call ``vse``."""

from __future__ import annotations

from collections.abc import Callable

import bpy

from ..core import rig_plan
from ..core.settings import OPTIONS_BY_NAME, Settings, SettingsError
from ..core.timing import output_size
from ..vse import align_keys, colors
from ..vse.rig import build, checks, record
from ..vse.strips import active_strip, context_scene, media_frame_count, media_size, scene_edit_problem
from .props import (
    PROPERTY_NAME,
    fill_unset_properties,
    settings_annotations,
    settings_from_operator,
    settings_to_group,
)


def _editable_scene(cls: type[bpy.types.Operator], context: bpy.types.Context,
                    needs_strips: bool = True) -> bpy.types.Scene | None:
    """The context's scene when the operator may change it, else None with the reason as the poll message."""
    scene = context_scene(context)
    if scene is None or (needs_strips and scene.sequence_editor is None):
        cls.poll_message_set("The scene has no sequencer strips" if needs_strips else "No scene")
        return None
    problem = scene_edit_problem(scene)
    if problem:
        cls.poll_message_set(problem)
        return None
    return scene


def _active_rig(cls: type[bpy.types.Operator], context: bpy.types.Context) -> bpy.types.MetaStrip | None:
    scene = _editable_scene(cls, context)
    if scene is None:
        return None
    strip = active_strip(scene)
    if strip is None:
        cls.poll_message_set("No active strip")
        return None
    found = record.rig_of(strip)
    if found is None:
        cls.poll_message_set(f"'{strip.name}' is not a motion rig")
    return found


def rig_limits(scene: bpy.types.Scene, found: bpy.types.MetaStrip) -> list[str]:
    """What keeps the rig's render from matching the exact engine: approximations and the scene's size."""
    problem = checks.rig_problem(found)
    if problem:
        return [problem]
    source = record.rig_source(found)
    notes = [f"Approximate in the sequencer: {note}" for note in
             rig_plan.approximations(record.rig_settings(found), media_frame_count(source))]
    framing = checks.framing_note(source, record.rig_settings(found))
    notes += [note for note in (checks.media_problem(source), framing) if note]
    failed = align_keys.failed_frames(found)
    if failed:
        notes.append(f"Alignment failed on {len(failed)} frames (the first at {failed[0]}): they are compared as "
                     "they are")
    problem = checks.layout_problem(scene, found)
    if problem:
        notes.append(f"{problem}: use Fit Scene to Layout")
    return notes


def report_limits(operator: bpy.types.Operator, scene: bpy.types.Scene, found: bpy.types.MetaStrip) -> None:
    """Report each of :func:`rig_limits` as a warning (after the INFO line, so the status bar shows it)."""
    for note in rig_limits(scene, found):
        operator.report({"WARNING"}, note)


def report_notes(operator: bpy.types.Operator, notes: list[str]) -> None:
    for note in notes:
        operator.report({"WARNING"}, note)


def other_selected(scene: bpy.types.Scene, strip: bpy.types.Strip) -> list[bpy.types.Strip]:
    """The selected strips beside the active ``strip``, at its level of the edit."""
    parent = strip.parent_meta()
    strips = parent.strips if parent is not None else scene.sequence_editor.strips
    return [other for other in strips if other.select and other != strip]


def report_others_left(operator: bpy.types.Operator, others: list[bpy.types.Strip], name: str, done: str) -> None:
    """Say that the operator worked on the active rig ``name`` only, when ``others`` are selected too."""
    if others:
        operator.report({"WARNING"}, f"Only the active rig '{name}' was {done}: {len(others)} other selected "
                        "strip(s) left as they were")


def _summary(settings: Settings) -> str:
    """The settings as the Info line names them: the file-name tag, time colour and the alignment when they act."""
    parts = [settings.describe()]
    if settings.time_colour and OPTIONS_BY_NAME["time_colour"].acts(settings):
        seconds = settings.channel_delay_unit == "seconds"
        delays = ", ".join(f"{getattr(settings, f'{channel}_delay' + ('_seconds' if seconds else '')):g}"
                           for channel in ("red", "green", "blue"))
        parts.append(f"time colour: red, green, blue at {delays} {'s' if seconds else 'x the offset'}")
    if settings.align != "none":
        parts.append(f"aligned by {settings.align}")
    return ", ".join(parts)


def update_rig(operator: bpy.types.Operator, scene: bpy.types.Scene, found: bpy.types.MetaStrip,
               message: str) -> set[str]:
    """Rebuild the rig ``found`` with the operator's settings (those not given are the rig's own) and report it:
    ``message`` with ``{name}`` and ``{settings}``, then the rig's limits."""
    group = getattr(found, PROPERTY_NAME)

    def rebuild() -> None:
        settings = settings_from_operator(operator, group)
        notes = build.update_rig(scene, found, settings)
        settings_to_group(settings, group)
        operator.report({"INFO"}, message.format(name=found.name, settings=_summary(settings)))
        report_notes(operator, notes)

    return act_on_rig(operator, scene, found, rebuild, "changed", after=lambda: report_limits(operator, scene, found))


def _panel_settings(scene: bpy.types.Scene) -> bpy.types.PropertyGroup:
    """The settings the panel shows: the active rig's own, else the scene's."""
    existing = record.rig_of(active_strip(scene))
    return getattr(existing if existing is not None else scene, PROPERTY_NAME)


class SEQUENCER_OT_motion_extract(bpy.types.Operator):
    """Build a motion rig from the active movie or image strip and the other selected ones, from native \
sequencer strips"""

    bl_idname = "sequencer.motion_extract"
    bl_label = "Extract Motion"
    bl_options = {"REGISTER", "UNDO"}
    # Every setting, from the option table: scripts pass them as keywords, and Adjust Last
    # Operation (F9) rebuilds the rig with changed ones. Options not given come from the panel.
    __annotations__ = settings_annotations()

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        scene = _editable_scene(cls, context)
        if scene is None:
            return False
        strip = active_strip(scene)
        if record.rig_of(strip) is not None:
            return True  # extracting again updates the rig instead of stacking a second one
        problem = checks.source_problem(strip)
        if problem:
            cls.poll_message_set(problem)
            return False
        return True

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        fill_unset_properties(self, _panel_settings(context_scene(context)))
        return self.execute(context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        scene = context_scene(context)
        strip = active_strip(scene)
        existing = record.rig_of(strip)
        if existing is not None:  # extracting again updates the rig, as Update does
            return update_rig(self, scene, existing, "'{name}' is already a motion rig: updated it")
        group = getattr(scene, PROPERTY_NAME)
        try:
            settings = settings_from_operator(self, group)
            others = other_selected(scene, strip)
            built = build.build_rig(scene, strip, settings)
        except (SettingsError, record.RigError) as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        settings_to_group(settings, getattr(built, PROPERTY_NAME))
        rigs, skipped = [built], []
        for other in others:  # every selected strip gets a rig of its own, or a word why not
            try:
                problem = checks.source_problem(other) if record.rig_of(other) is None else f"'{other.name}' is a rig"
                if problem:
                    raise record.RigError(problem)
                rigs.append(build.build_rig(scene, other, settings))
                settings_to_group(settings, getattr(rigs[-1], PROPERTY_NAME))
            except record.RigError as error:
                skipped.append(f"Not extracted: {error}")
        for made in rigs:
            made.select = True
        scene.sequence_editor.active_strip = built
        names = ", ".join(f"'{made.name}'" for made in rigs)
        self.report({"INFO"}, f"Built motion rig{'s' if len(rigs) > 1 else ''} {names} ({_summary(settings)})")
        report_notes(self, skipped)
        report_limits(self, scene, built)
        return {"FINISHED"}


def act_on_rig(operator: bpy.types.Operator, scene: bpy.types.Scene, found: bpy.types.MetaStrip,
               act: Callable[[], None], done: str, after: Callable[[], None] | None = None) -> set[str]:
    """An operator's work on the rig ``found``: ``act`` does and reports it; a refusal (``SettingsError``,
    ``RigError``) is one error line and cancels; other selected strips are named as left alone (the rig was
    ``done``); then ``after`` reports what the status bar should show last."""
    name, others = found.name, other_selected(scene, found)
    try:
        act()
    except (SettingsError, record.RigError) as error:
        operator.report({"ERROR"}, str(error))
        return {"CANCELLED"}
    report_others_left(operator, others, name, done)
    if after is not None:
        after()
    return {"FINISHED"}


class _ActiveRigOperator:
    """Update and Remove: available with an active rig (greyed out, saying why, without one), and run
    through :func:`act_on_rig`."""

    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _active_rig(cls, context) is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        scene = context_scene(context)
        return self.run(scene, record.rig_of(active_strip(scene)))


class SEQUENCER_OT_motion_extract_update(_ActiveRigOperator, bpy.types.Operator):
    """Rebuild the active motion rig with the settings shown in the panel"""

    bl_idname = "sequencer.motion_extract_update"
    bl_label = "Update Motion Rig"
    __annotations__ = settings_annotations()  # as Extract Motion's; options not given are the rig's own

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        fill_unset_properties(self, getattr(record.rig_of(active_strip(context_scene(context))), PROPERTY_NAME))
        return self.execute(context)

    def run(self, scene: bpy.types.Scene, found: bpy.types.MetaStrip) -> set[str]:
        return update_rig(self, scene, found, "Updated '{name}' ({settings})")


class SEQUENCER_OT_motion_extract_remove(_ActiveRigOperator, bpy.types.Operator):
    """Delete the active motion rig and give its original strip back"""

    bl_idname = "sequencer.motion_extract_remove"
    bl_label = "Remove Motion Rig"

    def run(self, scene: bpy.types.Scene, found: bpy.types.MetaStrip) -> set[str]:
        name = found.name

        def remove() -> None:
            source, notes = build.remove_rig(scene, found)
            if source is None:
                self.report({"WARNING"}, f"Removed '{name}', whose source strip was already gone")
            else:
                self.report({"INFO"}, f"Removed the motion rig of '{source.name}'")
            report_notes(self, notes)

        return act_on_rig(self, scene, found, remove, "removed")


class SEQUENCER_OT_motion_extract_output_colors(bpy.types.Operator):
    """Render this scene's output with Standard colours in sRGB, as the exact engine computes them. \
The preview keeps its own colour settings"""

    bl_idname = "sequencer.motion_extract_output_colors"
    bl_label = "Use Exact Colors for Output"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _editable_scene(cls, context, needs_strips=False) is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        scene = context_scene(context)
        colors.use_exact_colors_on_output(scene)
        remaining = colors.color_problems(scene)
        if remaining:  # only the sequencer's own colour space is left, which we do not touch
            self.report({"WARNING"}, remaining[0])
        else:
            self.report({"INFO"}, "Output now renders with the Standard view transform")
        return {"FINISHED"}


class SEQUENCER_OT_motion_extract_fit_layout(bpy.types.Operator):
    """Set the scene's resolution to the active rig's layout: twice the source's width (side by side) \
or height (stacked)"""

    bl_idname = "sequencer.motion_extract_fit_layout"
    bl_label = "Fit Scene to Layout"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        found = _active_rig(cls, context)
        if found is None:
            return False
        problem = checks.rig_problem(found)
        if problem:
            cls.poll_message_set(problem)
            return False
        if checks.layout_problem(context_scene(context), found) is None:
            cls.poll_message_set("The scene already fits the rig's layout")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> set[str]:
        scene = context_scene(context)
        found = record.rig_of(active_strip(scene))
        width, height = output_size(record.rig_settings(found), *media_size(record.rig_source(found)))
        render = scene.render
        render.resolution_x, render.resolution_y, render.resolution_percentage = width, height, 100
        self.report({"INFO"}, f"Scene resolution set to {width}x{height}")
        return {"FINISHED"}


classes = (
    SEQUENCER_OT_motion_extract,
    SEQUENCER_OT_motion_extract_update,
    SEQUENCER_OT_motion_extract_remove,
    SEQUENCER_OT_motion_extract_output_colors,
    SEQUENCER_OT_motion_extract_fit_layout,
)

register, unregister = bpy.utils.register_classes_factory(classes)
