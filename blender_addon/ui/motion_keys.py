"""Key Motion Data: the operator and its menu entry; it calls ``vse.motion_keys``."""

from __future__ import annotations

import bpy

from ..core.settings import SettingsError
from ..vse import bake, motion_keys
from ..vse.strips import active_strip, context_scene
from .bake import SEQUENCER_OT_motion_bake, _settings_owner  # whose settings a bake takes: the same for the keys
from .props import PROPERTY_NAME, settings_from_group
from .registration import classes_with_strip_menu


class SEQUENCER_OT_motion_key(bpy.types.Operator):
    """Measure the motion of the active rig or strip with the exact engine and key it on the strip's custom \
properties (motion_quantity, motion_x, ...), one key per frame it shows, for drivers; keying again replaces the keys"""

    bl_idname = "sequencer.motion_key"
    bl_label = "Key Motion Data"
    bl_options = {"REGISTER", "UNDO"}

    # Greyed out for the reasons Bake Motion is, told as this operator's own message.
    poll = classmethod(SEQUENCER_OT_motion_bake.poll.__func__)

    def execute(self, context: bpy.types.Context) -> set[str]:
        scene = context_scene(context)
        manager = context.window_manager
        try:
            settings = settings_from_group(getattr(_settings_owner(scene), PROPERTY_NAME))
            plan = bake.plan_bake(scene, active_strip(scene), settings, next(iter(bake.BAKE_FORMATS)))
            manager.progress_begin(0, plan.frame_count)
            try:
                measured = motion_keys.measure_plan(plan, manager.progress_update)
            finally:
                manager.progress_end()
            strip = motion_keys.key_measures(scene, plan, measured)
        except (SettingsError, bake.BakeError) as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Keyed the motion of '{strip.name}': {len(measured.values)} properties, "
                              f"{len(measured.frames)} frames")
        return {"FINISHED"}


def draw_strip_menu(menu: bpy.types.Menu, context: bpy.types.Context) -> None:
    menu.layout.operator(SEQUENCER_OT_motion_key.bl_idname)


classes = (SEQUENCER_OT_motion_key,)

register, unregister = classes_with_strip_menu(classes, draw_strip_menu)
