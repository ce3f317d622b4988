"""Bake Motion: the operator (modal, with progress and Esc), its sub-panel and menu entry; it calls ``vse.bake``."""

from __future__ import annotations

import bpy

from ..core.settings import Settings, SettingsError
from ..vse import bake
from ..vse.rig.record import rig_of
from ..vse.strips import active_strip, context_scene
from .panel import SEQUENCER_PT_motion_extraction, draw_settings
from .preferences import addon_preferences, bake_extension, bake_sound
from .props import PROPERTY_NAME, fill_unset_properties, settings_annotations, settings_from_operator, settings_to_group
from .registration import classes_with_strip_menu

TIMER_INTERVAL = 0.1  # seconds between progress updates


def _settings_owner(scene: bpy.types.Scene) -> bpy.types.ID | bpy.types.Strip:
    """Whose settings a bake takes when not given: the baked strip's own, the rig's, else the scene's."""
    strip = active_strip(scene)
    if bake.is_baked(strip):
        return strip
    found = rig_of(strip)
    return found if found is not None else scene


class BakeRun:
    """A bake (or other work on a plan) under way in the interface: the job on its thread, Blender's progress
    bar, the status text, a timer."""

    def __init__(self, context: bpy.types.Context, plan: bake.BakePlan, work: bake.Work | None = None,
                 doing: str = "Baking motion") -> None:
        self.job = bake.BakeJob(plan, work)
        self._doing = doing
        self._manager, self._workspace = context.window_manager, context.workspace
        self._timer = self._manager.event_timer_add(TIMER_INTERVAL, window=context.window)
        self._manager.progress_begin(0, plan.frame_count)
        self.job.start()
        self.show()

    def show(self) -> None:
        job = self.job
        self._manager.progress_update(job.done)
        self._workspace.status_text_set(
            f"{self._doing} of '{job.plan.source}': {job.done}/{job.plan.frame_count} frames (Esc to cancel)"
        )

    def end(self) -> None:
        """Take down the timer, progress bar and status text (the render has ended)."""
        self._manager.event_timer_remove(self._timer)
        self._manager.progress_end()
        self._workspace.status_text_set(None)

    def cancel(self) -> None:
        """Stop the work after the frame under way (a render's temporary file is deleted), then :meth:`end`."""
        self.job.cancel()
        self.job.wait()
        self.end()


class PlanJobOperator:
    """The modal part Bake Motion and Key Motion Data share: the plan's work runs on a thread while the timer
    shows its progress and the interface stays responsive; Esc cancels; :meth:`finish` takes the result."""

    cancelled_text = ""  # reported after Esc

    def plan_settings(self, scene: bpy.types.Scene) -> Settings:
        """The settings the plan renders with (``SettingsError`` when they are wrong)."""
        raise NotImplementedError

    def plan_extension(self, context: bpy.types.Context) -> str:
        """The movie format of the plan's file."""
        return next(iter(bake.BAKE_FORMATS))

    def plan_sound(self, context: bpy.types.Context) -> bool:
        """Whether the plan's file carries the source's sound."""
        return False

    def plan(self, context: bpy.types.Context) -> bake.BakePlan | None:
        """The plan for the active strip, or ``None`` with the reason reported."""
        scene = context_scene(context)
        try:
            return bake.plan_bake(scene, active_strip(scene), self.plan_settings(scene), self.plan_extension(context),
                                  self.plan_sound(context))
        except (SettingsError, bake.BakeError) as error:
            self.report({"ERROR"}, str(error))
            return None

    def start_job(self, context: bpy.types.Context, work: bake.Work | None = None,
                  doing: str = "Baking motion") -> set[str]:
        """What ``invoke`` does: the work on a thread, the operator modal (to completion, by :meth:`execute`,
        where there is no window to send it events: background mode)."""
        if bpy.app.background or context.window is None:
            return self.execute(context)
        plan = self.plan(context)
        if plan is None:
            return {"CANCELLED"}
        self._run = BakeRun(context, plan, work, doing)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        run = self._run
        if event.type == "ESC" and event.value == "PRESS":
            run.cancel()
            self.report({"INFO"}, self.cancelled_text)
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}  # the interface stays responsive
        if run.job.running:
            run.show()
            return {"RUNNING_MODAL"}
        run.end()
        if run.job.error is not None:
            self.report({"ERROR"}, run.job.error)
            return {"CANCELLED"}
        return self.finish(context, run.job.plan, run.job.result)

    def cancel(self, context: bpy.types.Context) -> None:
        """Blender ends the operator (a file loaded, the window closed): stop the work (no partial file is left)."""
        self._run.cancel()

    def finish(self, context: bpy.types.Context, plan: bake.BakePlan, result: object) -> set[str]:
        raise NotImplementedError


class SEQUENCER_OT_motion_bake(PlanJobOperator, bpy.types.Operator):
    """Render the exact engine's motion of the active strip or rig into a movie, added as a strip above it \
(on a baked strip: re-bake it in place). Esc cancels"""

    bl_idname = "sequencer.motion_bake"
    bl_label = "Bake Motion"
    bl_options = {"REGISTER", "UNDO"}
    cancelled_text = "Bake cancelled: no file written, no strip added"
    # Every setting, as Extract Motion takes them; options not given are the baked strip's, rig's or panel's.
    __annotations__ = settings_annotations()

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        scene = context_scene(context)
        if scene is None or scene.sequence_editor is None:
            cls.poll_message_set("The scene has no sequencer strips")
            return False
        problem = bake.bake_problem(scene, active_strip(scene))
        if problem:
            cls.poll_message_set(problem)
            return False
        return True

    def plan_settings(self, scene: bpy.types.Scene) -> Settings:
        return settings_from_operator(self, getattr(_settings_owner(scene), PROPERTY_NAME))

    def plan_extension(self, context: bpy.types.Context) -> str:
        return bake_extension(context)

    def plan_sound(self, context: bpy.types.Context) -> bool:
        return bake_sound(context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        """Bake to completion (scripts, EXEC_DEFAULT, the redo panel, background mode)."""
        plan = self.plan(context)
        if plan is None:
            return {"CANCELLED"}
        try:
            notes = bake.render_bake(plan)
        except bake.BakeError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        return self.finish(context, plan, notes)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        fill_unset_properties(self, getattr(_settings_owner(context_scene(context)), PROPERTY_NAME))
        return self.start_job(context)

    def finish(self, context: bpy.types.Context, plan: bake.BakePlan, notes: list[str]) -> set[str]:
        """Place the baked movie (a new strip, or the Re-bake's strip updated) and report the render's notes."""
        try:
            strip = bake.place_bake(context_scene(context), plan)
        except bake.BakeError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        settings_to_group(plan.settings, getattr(strip, PROPERTY_NAME))
        verb = "Re-baked" if plan.target else "Baked"
        self.report({"INFO"}, f"{verb} '{strip.name}': {plan.frame_count} frames to {plan.output}")
        for warning in (*plan.warnings, *notes):  # after the INFO line, so the status bar shows them
            self.report({"WARNING"}, warning)
        return {"FINISHED"}


class SEQUENCER_PT_motion_bake(bpy.types.Panel):
    """Bake Motion in the Motion tab: a baked strip's own settings and Re-bake, else the Bake button"""

    bl_space_type = "SEQUENCE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Motion"
    bl_label = "Bake"
    bl_parent_id = SEQUENCER_PT_motion_extraction.__name__

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        scene = context_scene(context)
        strip = active_strip(scene)
        if bake.is_baked(strip):
            try:
                name = bake.baked_source(scene, strip).name  # renamed since: its name now
            except bake.BakeError:  # gone: the operator's greyed-out button says so
                name = strip[bake.BAKE_KEY]["source"]
            layout.label(text=f"Baked from '{name}'", icon="FILE_MOVIE")
            draw_settings(layout.column(), getattr(strip, PROPERTY_NAME))
            layout.operator(SEQUENCER_OT_motion_bake.bl_idname, text="Re-bake", icon="FILE_REFRESH")
        else:
            layout.operator(SEQUENCER_OT_motion_bake.bl_idname, icon="RENDER_ANIMATION")
        preferences = addon_preferences(context)
        if preferences is not None:
            layout.prop(preferences, "bake_format")
            layout.prop(preferences, "bake_sound")


def draw_strip_menu(menu: bpy.types.Menu, context: bpy.types.Context) -> None:
    menu.layout.operator(SEQUENCER_OT_motion_bake.bl_idname)


classes = (SEQUENCER_OT_motion_bake, SEQUENCER_PT_motion_bake)

register, unregister = classes_with_strip_menu(classes, draw_strip_menu)
