"""The "Motion" tab of the Sequencer sidebar and the Strip menu entries."""

from __future__ import annotations

import bpy

from ..vse import colors, rig
from ..vse.strips import active_strip, context_scene
from .operators import (
    SEQUENCER_OT_motion_extract,
    SEQUENCER_OT_motion_extract_output_colors,
    SEQUENCER_OT_motion_extract_remove,
    SEQUENCER_OT_motion_extract_update,
)
from .props import PROPERTY_NAME


def draw_settings(layout: bpy.types.UILayout, group: bpy.types.PropertyGroup) -> None:
    """The settings, showing only those that apply to the chosen mode and look."""
    layout.use_property_split = True
    layout.use_property_decorate = False
    layout.prop(group, "mode")
    if group.mode == "shift":
        layout.prop(group, "offset")
    else:
        layout.prop(group, "reference")
    layout.prop(group, "look")
    if group.look == "gray":
        layout.prop(group, "mix", slider=True)
    layout.prop(group, "amplify")
    if group.mode == "shift":
        layout.prop(group, "edges")


class SEQUENCER_PT_motion_extraction(bpy.types.Panel):
    bl_space_type = "SEQUENCE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Motion"
    bl_label = "Motion Extraction"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context_scene(context) is not None

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        scene = context_scene(context)
        strip = active_strip(scene)
        found = rig.rig_of(strip)
        if found is not None:
            layout.label(text=found.name, icon="META_DATA")
            draw_settings(layout.column(), getattr(found, PROPERTY_NAME))
            row = layout.row(align=True)
            row.operator(SEQUENCER_OT_motion_extract_update.bl_idname, text="Update", icon="FILE_REFRESH")
            row.operator(SEQUENCER_OT_motion_extract_remove.bl_idname, text="Remove", icon="TRASH")
        else:
            problem = rig.source_problem(strip)
            layout.label(text=problem or strip.name, icon="INFO" if problem else "SEQUENCE")
            draw_settings(layout.column(), getattr(scene, PROPERTY_NAME))
            layout.operator(SEQUENCER_OT_motion_extract.bl_idname, icon="MOD_WAVE")
        problems = colors.color_problems(scene)
        if problems:
            box = layout.box()
            box.alert = True
            box.label(text="Renders will not match the exact engine:", icon="ERROR")
            for problem in problems:
                box.label(text=problem)
            box.operator(SEQUENCER_OT_motion_extract_output_colors.bl_idname)


def draw_strip_menu(menu: bpy.types.Menu, context: bpy.types.Context) -> None:
    layout = menu.layout
    layout.separator()
    layout.operator(SEQUENCER_OT_motion_extract.bl_idname)
    layout.operator(SEQUENCER_OT_motion_extract_update.bl_idname)
    layout.operator(SEQUENCER_OT_motion_extract_remove.bl_idname)


classes = (SEQUENCER_PT_motion_extraction,)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.SEQUENCER_MT_strip.append(draw_strip_menu)


def unregister() -> None:
    bpy.types.SEQUENCER_MT_strip.remove(draw_strip_menu)
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
