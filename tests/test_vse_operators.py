"""Extract Motion and Update take every setting as an operator property: scripts, the redo panel (F9), undo."""

from __future__ import annotations

import bpy
import pytest
from edit_helpers import reports
from vse_helpers import add_image_strip, new_scene, select_only

from blender_addon.core.settings import OPTIONS
from blender_addon.ui import props
from blender_addon.vse.rig import record

pytestmark = pytest.mark.usefixtures("registered")  # the add-on, registered once per module (conftest)


def rig_settings(scene):
    found = record.rig_of(scene.sequence_editor.active_strip)
    assert found is not None
    return record.rig_settings(found), props.settings_from_group(found.motion_extraction)


@pytest.mark.parametrize("operator", ["motion_extract", "motion_extract_update", "motion_bake", "motion_key"])
def test_every_option_is_an_operator_property_generated_from_the_table(operator):
    properties = getattr(bpy.ops.sequencer, operator).get_rna_type().properties
    for option in OPTIONS:
        assert option.name in properties, option.name
        assert properties[option.name].description == option.description


def test_a_script_passes_settings_as_keywords_and_the_rest_come_from_the_panel(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files, channel=2, start=1, name="shot")
    scene.motion_extraction.amplify = 2.0  # set in the panel, not given by the script
    select_only(scene, source)
    assert bpy.ops.sequencer.motion_extract(offset=5, look="difference") == {"FINISHED"}
    built, stored = rig_settings(scene)
    assert (built.offset, built.look, built.amplify) == (5, "difference", 2.0)
    assert stored == built
    assert scene.motion_extraction.offset == 1  # the panel's own settings are left as they were


def test_calling_again_with_other_keywords_rebuilds_the_rig_as_the_redo_panel_does(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files, channel=2, start=1, name="shot")
    select_only(scene, source)
    assert bpy.ops.sequencer.motion_extract(offset=5, look="difference") == {"FINISHED"}
    assert bpy.ops.sequencer.motion_extract(offset=3, mode="shift", look="gray") == {"FINISHED"}
    built, stored = rig_settings(scene)
    assert (built.offset, built.look) == (3, "gray") and stored == built
    assert len(scene.sequence_editor.strips) == 1  # rebuilt in place, not stacked
    assert bpy.ops.sequencer.motion_extract_update(offset=7) == {"FINISHED"}
    built, _ = rig_settings(scene)
    assert (built.offset, built.look) == (7, "gray")


def test_each_call_is_one_undo_step(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files, channel=2, start=1, name="shot")
    select_only(scene, source)
    bpy.ops.ed.undo_push(message="before")
    assert bpy.ops.sequencer.motion_extract(offset=4) == {"FINISHED"}
    bpy.ops.ed.undo_push(message="Extract Motion")
    assert bpy.ops.sequencer.motion_extract_update(offset=6) == {"FINISHED"}
    bpy.ops.ed.undo_push(message="Update Motion Rig")
    bpy.ops.ed.undo()
    assert rig_settings(bpy.context.scene)[0].offset == 4
    bpy.ops.ed.undo()
    strips = bpy.context.scene.sequence_editor.strips
    assert [strip.name for strip in strips] == ["shot"] and not record.is_rig(strips[0])


def test_a_bad_keyword_value_is_reported_not_built(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files, channel=2, start=1, name="shot")
    select_only(scene, source)
    with pytest.raises(RuntimeError, match="offset 40 is out of range"):
        bpy.ops.sequencer.motion_extract(offset=40)
    assert [strip.name for strip in scene.sequence_editor.strips] == ["shot"]


def test_update_and_remove_act_on_the_active_rig_and_name_the_selected_strips_left(png_files, capfd):
    scene = new_scene()
    first = add_image_strip(scene, png_files, channel=2, start=1, name="first")
    add_image_strip(scene, png_files, channel=4, start=1, name="second")
    select_only(scene, first)
    scene.sequence_editor.strips["second"].select = True
    assert bpy.ops.sequencer.motion_extract(offset=2) == {"FINISHED"}  # one rig for each selected strip
    left = "1 other selected strip(s) left as they were"
    capfd.readouterr()

    assert bpy.ops.sequencer.motion_extract_update(offset=3) == {"FINISHED"}
    assert bpy.ops.sequencer.motion_extract(offset=4) == {"FINISHED"}  # on a rig, Extract updates it
    assert rig_settings(scene)[0].offset == 4
    active = scene.sequence_editor.active_strip
    active.lock = True
    with pytest.raises(RuntimeError, match="'first Motion' is locked"):
        bpy.ops.sequencer.motion_extract_update(offset=5)
    active.lock = False
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    lines = [line for line in capfd.readouterr().out.splitlines() if line.startswith(("Info:", "Warning:", "Error:"))]
    assert lines == [
        "Info: Updated 'first Motion' (gray_shift3)",
        f"Warning: Only the active rig 'first Motion' was changed: {left}",
        "Info: 'first Motion' is already a motion rig: updated it",
        f"Warning: Only the active rig 'first Motion' was changed: {left}",
        "Error: 'first Motion' is locked: unlock it to update the rig",
        "Info: Removed the motion rig of 'first'",
        f"Warning: Only the active rig 'first Motion' was removed: {left}",
    ]
    assert [strip.name for strip in scene.sequence_editor.strips if record.is_rig(strip)] == ["second Motion"]


def test_the_info_line_names_time_colour_when_it_acts(png_files, capfd):
    scene = new_scene()
    select_only(scene, add_image_strip(scene, png_files, channel=2, start=1, name="shot"))
    capfd.readouterr()
    assert bpy.ops.sequencer.motion_extract(offset=2, time_colour=True, red_delay=1, green_delay=0,
                                            blue_delay=2) == {"FINISHED"}
    assert reports(capfd.readouterr().out)[0] == (
        "Info: Built motion rig 'shot Motion' (gray_shift2, time colour: red, green, blue at 1, 0, 2 x the offset)")
    assert bpy.ops.sequencer.motion_extract_update(channel_delay_unit="seconds", red_delay_seconds=0.25) == {
        "FINISHED"}
    assert reports(capfd.readouterr().out)[0] == (
        "Info: Updated 'shot Motion' (gray_shift2, time colour: red, green, blue at 0.25, 0.2, 0.3 s)")
    assert bpy.ops.sequencer.motion_extract_update(time_colour=False) == {"FINISHED"}
    assert reports(capfd.readouterr().out)[0] == "Info: Updated 'shot Motion' (gray_shift2)"
