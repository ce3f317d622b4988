"""Key Motion Data: the operator and its menu entry; it calls ``vse.motion_keys``."""

from __future__ import annotations

import functools

import bpy

from ..core.settings import Settings
from ..vse import bake, motion_keys
from ..vse.strips import context_scene
from .bake import PlanJobOperator, SEQUENCER_OT_motion_bake, _settings_owner  # a bake's settings: the keys' too
from .props import PROPERTY_NAME, fill_unset_properties, settings_annotations, settings_from_operator
from .registration import classes_with_strip_menu


class SEQUENCER_OT_motion_key(PlanJobOperator, bpy.types.Operator):
    """Measure the motion of the active rig or strip with the exact engine and key it on the strip's custom \
properties (motion_quantity, motion_x, ..., and the rhythm: motion_frequency_hz), one key per frame it shows, for \
drivers; keying again replaces the keys. Esc cancels"""

    bl_idname = "sequencer.motion_key"
    bl_label = "Key Motion Data"
    bl_options = {"REGISTER", "UNDO"}
    cancelled_text = "Key Motion Data cancelled: the keys are as they were"
    # Every setting, as Extract Motion and Bake Motion take them; options not given are the strip's, rig's or panel's.
    __annotations__ = settings_annotations() | {"frequency_window": bpy.props.FloatProperty(
        name="Frequency Window", default=motion_keys.FREQUENCY_WINDOW, min=0.0, max=60.0, unit="TIME_ABSOLUTE",
        description="Seconds before each frame whose rhythm (the dominant frequency of the whole picture's "
        "back-and-forth motion) is keyed as motion_frequency_hz and motion_frequency_strength; 0: no rhythm keys",
    )}

    # Greyed out for the reasons Bake Motion is, told as this operator's own message.
    poll = classmethod(SEQUENCER_OT_motion_bake.poll.__func__)

    def plan_settings(self, scene: bpy.types.Scene) -> Settings:
        return settings_from_operator(self, getattr(_settings_owner(scene), PROPERTY_NAME))  # no file: no format

    def execute(self, context: bpy.types.Context) -> set[str]:
        """Measure and key to completion (scripts, EXEC_DEFAULT, background mode)."""
        plan = self.plan(context)
        if plan is None:
            return {"CANCELLED"}
        manager = context.window_manager
        manager.progress_begin(0, plan.frame_count)
        try:
            measured = motion_keys.measure_plan(plan, manager.progress_update, frequency_window=self.frequency_window)
        except bake.BakeError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        finally:
            manager.progress_end()
        return self.finish(context, plan, measured)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        fill_unset_properties(self, getattr(_settings_owner(context_scene(context)), PROPERTY_NAME))
        work = functools.partial(motion_keys.measure_plan, frequency_window=self.frequency_window)
        return self.start_job(context, work, "Measuring motion")

    def finish(self, context: bpy.types.Context, plan: bake.BakePlan,
               measured: motion_keys.MeasuredFrames) -> set[str]:
        """Key the measures on the plan's strip."""
        try:
            strip = motion_keys.key_measures(context_scene(context), plan, measured)
        except bake.BakeError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Keyed the motion of '{strip.name}': {measured.summary()}")
        return {"FINISHED"}


def draw_strip_menu(menu: bpy.types.Menu, context: bpy.types.Context) -> None:
    menu.layout.operator(SEQUENCER_OT_motion_key.bl_idname)


classes = (SEQUENCER_OT_motion_key,)

register, unregister = classes_with_strip_menu(classes, draw_strip_menu)
