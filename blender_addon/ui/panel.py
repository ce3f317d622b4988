"""The "Motion" tab of the Sequencer sidebar (presets, settings, approximations) and the Strip menu entries."""

from __future__ import annotations

import bpy

from ..core import rig_plan
from ..core.frequency import CONFIDENT_STRENGTH
from ..core.settings import OPTIONS, SettingsError, acting_options
from ..vse import colors, motion_keys
from ..vse.rig.checks import edit_problem, framing_note, layout_problem, media_problem, rig_problem, source_problem
from ..vse.rig.record import rig_of
from ..vse.strips import active_strip, context_scene, media_frame_count
from .operators import (
    SEQUENCER_OT_motion_extract,
    SEQUENCER_OT_motion_extract_fit_layout,
    SEQUENCER_OT_motion_extract_output_colors,
    SEQUENCER_OT_motion_extract_remove,
    SEQUENCER_OT_motion_extract_update,
    rig_limits,
)
from .presets import SEQUENCER_MT_motion_extraction_presets, SEQUENCER_OT_motion_extraction_preset_add
from .props import PROPERTY_NAME, settings_from_group
from .registration import classes_with_strip_menu

# How the panel draws an option (which options it draws is the option table's ``applies_with``).
_STYLES = {"delay_unit": {"expand": True}, "channel_delay_unit": {"expand": True}, "mix": {"slider": True},
           "trails": {"slider": True}, "saturation": {"slider": True}, "overlay_strength": {"slider": True}}
# Options drawn close together in one column when they follow each other.
_COLUMNS = (
    {"matte_threshold", "matte_softness"},
    {f"{channel}_delay{unit}" for channel in ("red", "green", "blue") for unit in ("", "_seconds")},
    {"glow_radius", "glow_threshold"},
)


def _notes(group: bpy.types.PropertyGroup) -> dict[str, str]:
    """What the rig makes of a setting, drawn under the option it follows."""
    notes = {"flow_legend": "Strips cannot compute optical flow: Bake Motion renders it"}
    if group.align == "perspective":
        notes["align"] = "Strips cannot take a perspective: Bake Motion renders it"
    elif group.align != "none":
        notes["align"] = "Keyed on the partner's transform (Update estimates again)"
    return notes


def draw_settings(layout: bpy.types.UILayout, group: bpy.types.PropertyGroup) -> None:
    """The settings that act with the chosen ones (:func:`acting_options`), in the option table's order."""
    layout.use_property_split = True
    layout.use_property_decorate = False
    notes = _notes(group)
    rows: dict[str, bpy.types.UILayout] = {}  # an on/off option's row, where the option giving its value goes
    column, together = layout, None
    for option in acting_options(group):
        if option.value_of:
            rows[option.value_of].prop(group, option.name, text="")
            continue
        if together is None or option.name not in together:
            together = next((names for names in _COLUMNS if option.name in names), None)
            column = layout if together is None else layout.column(align=True)
        if any(other.value_of == option.name for other in OPTIONS):
            rows[option.name] = column.row(heading=option.label)
            rows[option.name].prop(group, option.name, text="")
        else:
            column.prop(group, option.name, **_STYLES.get(option.name, {}))
        if option.name in notes:
            layout.label(text=notes[option.name], icon="INFO")


def draw_presets(layout: bpy.types.UILayout) -> None:
    """Blender's preset menu with buttons to save the current settings and to remove the chosen preset."""
    row = layout.row(align=True)
    row.menu(SEQUENCER_MT_motion_extraction_presets.__name__, text=SEQUENCER_MT_motion_extraction_presets.bl_label)
    row.operator(SEQUENCER_OT_motion_extraction_preset_add.bl_idname, text="", icon="ADD")
    remove = row.operator(SEQUENCER_OT_motion_extraction_preset_add.bl_idname, text="", icon="REMOVE")
    remove.remove_active = True


def planned_limits(group: bpy.types.PropertyGroup, strip: bpy.types.Strip | None) -> list[str]:
    """Why Extract Motion would refuse ``strip`` with ``group``'s settings, or what its rig would show only
    approximately."""
    if strip is None or source_problem(strip):
        return []
    try:
        settings = settings_from_group(group)
    except SettingsError:
        return []
    refusal = media_problem(strip) or edit_problem(strip, settings)
    if refusal:
        return [refusal]
    notes = rig_plan.approximations(settings, media_frame_count(strip))
    framing = framing_note(strip, settings)
    return [f"Approximate in the sequencer: {note}" for note in notes] + ([framing] if framing else [])


def draw_notes(layout: bpy.types.UILayout, notes: list[str], fix_layout: bool) -> None:
    if not notes:
        return
    box = layout.box()
    for note in notes:
        box.label(text=note, icon="INFO")
    if fix_layout:
        box.operator(SEQUENCER_OT_motion_extract_fit_layout.bl_idname, icon="FULLSCREEN_ENTER")


def draw_rhythm(layout: bpy.types.UILayout, strip: bpy.types.Strip) -> None:
    """The rhythm Key Motion Data keyed on ``strip`` at the current frame, or how to get it."""
    hz, strength = strip.get(motion_keys.FREQUENCY), strip.get(motion_keys.STRENGTH)
    if strength is None:
        why = strip.get(motion_keys.RHYTHM_NOTE)
        layout.label(text=f"Rhythm: not keyed ({why or 'Key Motion Data keys it'})", icon="IPO_SINE")
    elif strength < CONFIDENT_STRENGTH or hz is None:
        layout.label(text="Rhythm: none clear here (from Key Motion Data's keys)", icon="IPO_SINE")
    else:
        layout.label(text=f"Rhythm: {hz:.3g} Hz, {60 * hz:.1f} per minute (from Key Motion Data's keys)",
                     icon="IPO_SINE")


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
        found = rig_of(strip)
        draw_presets(layout)
        if found is not None:
            layout.label(text=found.name, icon="META_DATA")
            draw_rhythm(layout, found)
            draw_settings(layout.column(), getattr(found, PROPERTY_NAME))
            row = layout.row(align=True)
            row.operator(SEQUENCER_OT_motion_extract_update.bl_idname, text="Update", icon="FILE_REFRESH")
            row.operator(SEQUENCER_OT_motion_extract_remove.bl_idname, text="Remove", icon="TRASH")
            problem = rig_problem(found)
            if problem:  # the panel shows what is wrong and how to recover instead of failing
                box = layout.box()
                box.alert = True
                box.label(text=problem, icon="ERROR")
            else:
                draw_notes(layout, rig_limits(scene, found), fix_layout=layout_problem(scene, found) is not None)
        else:
            problem = source_problem(strip)
            layout.label(text=problem or strip.name, icon="INFO" if problem else "SEQUENCE")
            if strip is not None and (not problem or motion_keys.STRENGTH in strip):
                draw_rhythm(layout, strip)
            group = getattr(scene, PROPERTY_NAME)
            draw_settings(layout.column(), group)
            layout.operator(SEQUENCER_OT_motion_extract.bl_idname, icon="MOD_WAVE")
            draw_notes(layout, planned_limits(group, strip), fix_layout=False)
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
    layout.operator(SEQUENCER_OT_motion_extract_fit_layout.bl_idname)


classes = (SEQUENCER_PT_motion_extraction,)

register, unregister = classes_with_strip_menu(classes, draw_strip_menu)
