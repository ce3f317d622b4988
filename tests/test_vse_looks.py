"""The looks in the VSE rig (time colour, trails, glow, overlay, layouts) against the exact engine,
and the Blender preset menu generated from ``core.presets``.

Every case renders the rig on the lossless synthetic sample (PNG sequence, 160x90, 16 frames), so
Blender and OpenCV start from the same pixels. Tolerances (measured on bpy 5.0.1):

- **time colour**, **trails** and **layouts**: exact (0 levels). Time colour assembles the partner
  from per-channel copies with LIGHTEN (exact); trails unroll the engine's recursion into shifted
  copies with exact lookup curves (``vse.rig`` explains why that is the same maximum). Trails of
  the gray look differ only where two opposite deviations of exactly equal strength meet, which
  the sample clip does not have.
- **overlay**: at most 1 level, mean below 0.25 (0.16 measured). The node group does the
  engine's formula in float, but the COMPOSITOR modifier works in scene-linear float: the
  conversion from sRGB bytes and back rounds differently from the engine's ``round_half_up``.
- **glow**: Blender's Gaussian blur (sigma = size / 3) has the engine's kernel and, like the
  engine, repeats the edge pixels at the frame border: at most 1 level over the whole frame (mean
  below 0.3, 0.1-0.23 measured), the compositor's float round trip, as for the overlay.
"""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
import pytest
from vse_helpers import (
    HEIGHT,
    WIDTH,
    add_image_strip,
    max_mean_difference,
    new_scene,
    render_frames,
    select_only,
)

from blender_addon.core import rig_plan
from blender_addon.core.engine import extract_motion
from blender_addon.core.presets import PRESETS, preset_settings
from blender_addon.core.settings import Settings
from blender_addon.core.timing import output_size
from blender_addon.ui import operators, presets, props
from blender_addon.vse.compat import timing
from blender_addon.vse.rig import build, checks, record

pytestmark = pytest.mark.usefixtures("registered")  # the add-on, registered once per module (conftest)


def engine_frames(clip, settings: Settings) -> list[np.ndarray]:
    return [frame.copy() for frame in extract_motion(clip, settings)]


def render_rig(settings: Settings, png_files, folder: Path) -> list[np.ndarray]:
    """Build the rig for ``settings`` in a fresh scene sized for its layout and render it."""
    scene = new_scene()
    found = build.build_rig(scene, add_image_strip(scene, png_files), settings)
    scene.render.resolution_x, scene.render.resolution_y = output_size(settings, WIDTH, HEIGHT)
    return render_frames(scene, timing(found).left_handle, timing(found).right_handle, folder)


def differences(settings: Settings, clip, png_files, folder: Path) -> tuple[int, float]:
    return max_mean_difference(render_rig(settings, png_files, folder), engine_frames(clip, settings))


# --- looks compared with the exact engine ------------------------------------------------------------

EXACT = [
    Settings(offset=2, time_colour=True),
    Settings(offset=-1, time_colour=True, look="difference", red_delay=3, green_delay=1, blue_delay=2, edges="source"),
    Settings(offset=1, time_colour=True, edges="gray", amplify=2.0),
    Settings(offset=2, time_colour=True, edges="trim", look="subtract", red_delay=0, green_delay=1, blue_delay=1),
    Settings(offset=1, look="difference", amplify=3.0, trails=0.5),
    Settings(offset=2, trails=0.6, amplify=2.0),
    Settings(offset=-2, look="subtract", trails=0.7, edges="source"),
    Settings(offset=2, trails=0.6, edges="gray"),
    Settings(offset=2, look="difference", trails=0.6, edges="trim"),
    Settings(mode="freeze", reference=3, look="difference", trails=0.8),
    Settings(offset=2, layout="side"),
    Settings(offset=2, look="difference", layout="stacked", edges="source"),
]


def case_id(settings: Settings) -> str:
    changed = {key: value for key, value in settings.to_dict().items() if value != getattr(Settings(), key)}
    return "-".join(f"{key}={value}" for key, value in changed.items())


@pytest.mark.parametrize("settings", EXACT, ids=case_id)
def test_exact_looks_equal_the_engine(settings, clip, png_files, tmp_path):
    assert differences(settings, clip, png_files, tmp_path) == (0, 0.0)


@pytest.mark.parametrize("settings", [
    Settings(offset=2, overlay="multiply", overlay_strength=0.7),
    Settings(offset=2, overlay="screen", amplify=2.0),
    Settings(offset=2, look="difference", overlay="screen", overlay_strength=0.5),
    Settings(offset=-3, look="difference", overlay="multiply", edges="source"),
], ids=case_id)
def test_overlay_is_within_the_compositors_rounding(settings, clip, png_files, tmp_path):
    worst, mean = differences(settings, clip, png_files, tmp_path)
    assert worst <= 1 and mean < 0.25


@pytest.mark.parametrize("settings", [
    Settings(offset=2, glow=1.5, glow_radius=3.0, glow_threshold=8),
    Settings(offset=2, look="difference", amplify=2.0, glow=1.0, glow_radius=2.0),
    preset_settings("glow"),
], ids=case_id)
def test_glow_is_within_the_compositors_rounding(settings, clip, png_files, tmp_path):
    worst, mean = differences(settings, clip, png_files, tmp_path)
    assert worst <= 1 and mean < 0.3


def test_all_looks_together(clip, png_files, tmp_path):
    settings = Settings(offset=1, time_colour=True, trails=0.5, glow=1.0, glow_radius=2.0,
                        overlay="screen", overlay_strength=0.8, layout="side")
    worst, mean = differences(settings, clip, png_files, tmp_path)
    assert worst <= 2 and mean < 0.3  # one level each from the glow's and the overlay's round trip


# --- structure, update, remove ------------------------------------------------------------------------

ALL_LOOKS = dict(offset=2, time_colour=True, trails=0.5, glow=1.0, overlay="multiply", layout="stacked")


def roles(found: bpy.types.MetaStrip) -> list[str]:
    return [strip.get(record.ROLE_KEY, "source") for strip in sorted(found.strips, key=lambda strip: strip.channel)]


def test_each_look_is_a_native_strip_in_the_rig(png_files):
    scene = new_scene()
    found = build.build_rig(scene, add_image_strip(scene, png_files), Settings(**ALL_LOOKS))
    trails = rig_plan.trail_copies(Settings(**ALL_LOOKS), 16)
    assert roles(found) == (
        ["source", "partner", "trail-code"] + ["trail"] * trails
        + ["trail-code", "glow", "overlay", "layout", "original"]
    )
    strips = {strip.get(record.ROLE_KEY, "source"): strip for strip in found.strips}
    partner = strips["partner"]
    assert partner.type == "META" and partner.blend_type == "ALPHA_OVER"
    assert [timing(copy).content_start for copy in partner.strips] == [3, 5, 7]  # lags 2, 4, 6
    overlay = strips["overlay"].modifiers[0]
    assert overlay.type == "COMPOSITOR" and overlay.input_mask_strip == strips["source"]
    assert strips["glow"].modifiers[0].node_group.name.endswith("Glow")
    first_trail = next(strip for strip in found.strips if strip.get(record.ROLE_KEY) == "trail")
    assert (first_trail.blend_type, timing(first_trail).left_handle) == ("LIGHTEN", 2)


def test_update_and_remove_with_every_look(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files, channel=3, start=4, name="shot")
    timing(source).left_handle_offset = 2
    before = {
        "channel": source.channel, "frame_start": timing(source).content_start, "range": (timing(source).left_handle,
        timing(source).right_handle), "transform": (source.transform.offset_x, source.transform.offset_y),
        "modifiers": len(source.modifiers), "keys": sorted(source.keys()), "blend": source.blend_type,
    }
    groups_before = set(bpy.data.node_groups)
    select_only(scene, source)
    props.settings_to_group(Settings(**ALL_LOOKS), scene.motion_extraction)
    assert bpy.ops.sequencer.motion_extract() == {"FINISHED"}
    found = scene.sequence_editor.active_strip
    found.motion_extraction.glow = 0.0
    found.motion_extraction.trails = 0.0
    assert bpy.ops.sequencer.motion_extract_update() == {"FINISHED"}
    assert "glow" not in roles(found) and "trail" not in roles(found)
    assert set(bpy.data.node_groups) - groups_before == {found.strips["shot Overlay"].modifiers[0].node_group}
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    assert [strip.name for strip in scene.sequence_editor.strips_all] == ["shot"]
    after = {
        "channel": source.channel, "frame_start": timing(source).content_start, "range": (timing(source).left_handle,
        timing(source).right_handle), "transform": (source.transform.offset_x, source.transform.offset_y),
        "modifiers": len(source.modifiers), "keys": sorted(source.keys()), "blend": source.blend_type,
    }
    assert after == before
    assert set(bpy.data.node_groups) == groups_before  # the rig's node groups went with it


def test_save_reopen_keeps_the_compositor_looks(clip, png_files, tmp_path):
    settings = Settings(offset=2, overlay="screen", glow=1.0, glow_radius=2.0)
    scene = new_scene()
    found = build.build_rig(scene, add_image_strip(scene, png_files), settings)
    before = render_frames(scene, timing(found).left_handle, timing(found).right_handle, tmp_path / "before")
    path = tmp_path / "looks.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    scene = bpy.data.scenes[0]
    found = scene.sequence_editor.strips["clip Motion"]
    after = render_frames(scene, timing(found).left_handle, timing(found).right_handle, tmp_path / "after")
    assert max_mean_difference(after, before) == (0, 0.0)



def test_extract_warns_about_the_layout_size(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files)
    props.settings_to_group(Settings(trails=0.95, layout="side"), scene.motion_extraction)
    select_only(scene, source)
    assert bpy.ops.sequencer.motion_extract() == {"FINISHED"}
    found = scene.sequence_editor.active_strip
    notes = operators.rig_limits(scene, found)
    assert notes == [  # trails of 0.95 fade over more frames than the clip has, so none are cut
        f"The side layout needs a {2 * WIDTH}x{HEIGHT} scene (it is {WIDTH}x{HEIGHT}): use Fit Scene to Layout",
    ]
    assert (scene.render.resolution_x, scene.render.resolution_y) == (WIDTH, HEIGHT)  # never changed silently
    assert bpy.ops.sequencer.motion_extract_fit_layout() == {"FINISHED"}
    assert (scene.render.resolution_x, scene.render.resolution_y) == (2 * WIDTH, HEIGHT)
    assert checks.layout_problem(scene, found) is None
    assert not bpy.ops.sequencer.motion_extract_fit_layout.poll()


# --- presets -----------------------------------------------------------------------------------------


def test_presets_are_registered_with_a_file_per_core_preset(registered):
    assert hasattr(bpy.types, "SEQUENCER_MT_motion_extraction_presets")
    assert bpy.ops.sequencer.motion_extraction_preset_add.idname() == "SEQUENCER_OT_motion_extraction_preset_add"
    folder = registered / "presets" / "motion_extraction"
    assert sorted(path.name for path in folder.glob("*.py")) == sorted(
        presets.preset_file_name(name) for name in PRESETS
    )
    assert presets.preset_file_name("time-colour") == "time_colour.py"
    assert bpy.path.display_name("time_colour.py") == "Time Colour"


@pytest.mark.parametrize("name", list(PRESETS))
def test_executing_a_preset_sets_the_panel_settings(name, registered):
    scene = new_scene()
    props.settings_to_group(Settings(offset=7, look="subtract", glow=3.0, layout="side"), scene.motion_extraction)
    path = registered / "presets" / "motion_extraction" / presets.preset_file_name(name)
    result = bpy.ops.script.execute_preset(filepath=str(path), menu_idname="SEQUENCER_MT_motion_extraction_presets")
    assert result == {"FINISHED"}
    assert props.settings_from_group(scene.motion_extraction) == preset_settings(name)


def test_a_preset_applies_to_the_active_rig(png_files, registered):
    scene = new_scene()
    found = build.build_rig(scene, add_image_strip(scene, png_files), Settings(offset=3))
    props.settings_to_group(Settings(offset=3), found.motion_extraction)
    path = registered / "presets" / "motion_extraction" / presets.preset_file_name("difference")
    bpy.ops.script.execute_preset(filepath=str(path), menu_idname="SEQUENCER_MT_motion_extraction_presets")
    assert props.settings_from_group(found.motion_extraction) == preset_settings("difference")
    assert props.settings_from_group(scene.motion_extraction) == Settings()


def test_a_user_preset_is_saved_listed_and_round_trips(registered):
    scene = new_scene()
    mine = Settings(offset=-4, look="difference", amplify=5.0, trails=0.3, overlay="screen", time_colour=True)
    props.settings_to_group(mine, scene.motion_extraction)
    assert bpy.ops.sequencer.motion_extraction_preset_add(name="My Look") == {"FINISHED"}
    found = bpy.utils.preset_find("My_Look", "motion_extraction")
    assert found and Path(found).parent == registered / "presets" / "motion_extraction"
    listed = [path.name for folder in bpy.utils.preset_paths("motion_extraction") for path in Path(folder).iterdir()]
    assert "My_Look.py" in listed
    props.settings_to_group(Settings(), scene.motion_extraction)
    bpy.ops.script.execute_preset(filepath=found, menu_idname="SEQUENCER_MT_motion_extraction_presets")
    assert props.settings_from_group(scene.motion_extraction) == mine


def test_builtin_presets_never_overwrite_user_edits(tmp_path):
    written = presets.write_builtin_presets(tmp_path)
    assert len(written) == len(PRESETS)
    glow = tmp_path / presets.preset_file_name("glow")
    glow.write_text(glow.read_text().replace("settings.glow = 1.5", "settings.glow = 2.5"))
    stale = tmp_path / presets.preset_file_name("classic")
    header, _, body = stale.read_text().partition("\n")
    stale.write_text(f"{presets.GENERATED_TAG} 'classic' 0123456789abcdef\n{body}")  # edited by hand
    assert presets.write_builtin_presets(tmp_path) == []
    assert "settings.glow = 2.5" in glow.read_text()
    (tmp_path / presets.preset_file_name("trails")).unlink()
    assert presets.write_builtin_presets(tmp_path) == [tmp_path / presets.preset_file_name("trails")]
