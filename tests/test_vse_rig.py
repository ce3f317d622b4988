"""The motion rig in the bpy module, headless: structure, Update, Remove, save/reopen, and its
renders compared with the exact engine on the synthetic sample clip.

Tolerances (measured on bpy 5.0.1):
- lossless sources (PNG sequence, FFV1): Blender and OpenCV decode the same pixels and the rig
  equals the exact engine exactly (0 levels) for every look, mode, edges policy and amplify,
  except a gray look with ``mix`` other than 0.5, where ALPHA_OVER's integer blend is at most
  1 level off (mean about 0.02);
- H.264 sources: on Blender's own decode the rig still equals the exact engine exactly. Blender
  and OpenCV decode differently (about 3 levels max, mean 1, on natural footage; 18 max and mean
  2 on the synthetic clip's sharp coloured edges at 4:2:0), so against the engine on OpenCV's
  decode the test allows the decoders' own difference as max and 0.5 as mean (13 / 0.07 measured).
"""

from __future__ import annotations

import itertools

import bpy
import numpy as np
import pytest
from frame_helpers import FrameList
from vse_helpers import (
    FRAMES,
    add_image_strip,
    max_mean_difference,
    new_scene,
    opens_of,
    read_movie,
    render_frames,
    select_only,
    write_ffv1,
)

from blender_addon.core.engine import extract_motion
from blender_addon.core.settings import OPTIONS, Colour, Settings
from blender_addon.ui import props
from blender_addon.vse import batch, colors, strips
from blender_addon.vse.compat import timing
from blender_addon.vse.rig import build, checks, record

pytestmark = pytest.mark.usefixtures("registered")  # the add-on, registered once per module (conftest)


@pytest.fixture(scope="module")
def ffv1_movie(clip, tmp_path_factory):
    return write_ffv1(clip, tmp_path_factory.mktemp("ffv1") / "clip.mkv")


def engine_frames(clip, settings: Settings) -> list[np.ndarray]:
    return [frame.copy() for frame in extract_motion(clip, settings)]


def extract(scene, strip, **options) -> bpy.types.MetaStrip:
    for name, value in options.items():
        setattr(scene.motion_extraction, name, value)
    select_only(scene, strip)
    assert bpy.ops.sequencer.motion_extract() == {"FINISHED"}
    return scene.sequence_editor.active_strip


def snapshot(strip: bpy.types.Strip) -> dict:
    """Everything Remove must give back."""
    return {
        "name": strip.name, "type": strip.type, "channel": strip.channel, "frame_start": timing(strip).content_start,
        "offsets": (timing(strip).left_handle_offset, timing(strip).right_handle_offset),
        "range": (timing(strip).left_handle, timing(strip).right_handle),
        "modifiers": [(m.name, m.type) for m in strip.modifiers], "blend": (strip.blend_type, strip.blend_alpha),
        "parent": strip.parent_meta(), "keys": sorted(strip.keys()),
    }


def by_role(found: bpy.types.MetaStrip) -> dict[str, bpy.types.Strip]:
    return {strip.get(record.ROLE_KEY, "source"): strip for strip in found.strips}


# --- the settings model in Blender ------------------------------------------------------------


def test_property_group_is_generated_from_the_option_table():
    rna = props.MotionExtractionSettings.bl_rna.properties
    for option in OPTIONS:
        prop = rna[option.name]
        assert prop.name == option.label and prop.description == option.description
        if option.kind is Colour:  # a colour picker, three floats from 0 to 1
            assert tuple(prop.default_array) == pytest.approx(props.to_property(option, option.default))
            continue
        assert prop.default == (pytest.approx(option.default, rel=1e-7) if option.kind is float else option.default)
        if option.choices:
            assert [item.identifier for item in prop.enum_items] == list(option.choice_values)
        elif option.kind is bool:
            assert prop.type == "BOOLEAN"
        else:
            # Blender keeps floats in single precision: 0.99 is 0.99000001 there.
            assert (prop.hard_min, prop.hard_max) == pytest.approx((option.minimum, option.maximum), rel=1e-7)


def test_settings_round_trip_through_the_property_group():
    scene = new_scene()
    settings = Settings(mode="freeze", reference=7, look="subtract", mix=0.25, amplify=3.5, edges="trim")
    props.settings_to_group(settings, scene.motion_extraction)
    assert props.settings_from_group(scene.motion_extraction) == settings


# --- building, updating, removing -------------------------------------------------------------


def test_extract_on_image_strip_builds_the_shift_rig(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files, channel=2, start=5)
    found = extract(scene, source, offset=3)
    assert record.is_rig(found) and found.channel == 2 and found.name == "clip Motion"
    assert (timing(found).left_handle, timing(found).right_handle) == (5, 5 + FRAMES)
    roles = by_role(found)
    assert set(roles) == {"source", "partner"}
    partner = roles["partner"]
    assert roles["source"] == source and source.channel == 1 and timing(source).content_start == 5
    assert partner.channel == 2 and timing(partner).content_start == 8
    assert (timing(partner).left_handle_offset, timing(partner).right_handle_offset) == (-3, 3)
    assert (timing(partner).left_handle, timing(partner).right_handle) == (5, 5 + FRAMES)
    assert [(m.name, m.type) for m in partner.modifiers] == [("Invert", "CURVES")]
    assert (partner.blend_type, partner.blend_alpha) == ("ALPHA_OVER", 0.5)
    assert props.settings_from_group(found.motion_extraction) == Settings(offset=3)
    assert record.rig_settings(found) == Settings(offset=3)


def test_extract_on_movie_strip_in_freeze_mode(ffv1_movie):
    scene = new_scene()
    source = scene.sequence_editor.strips.new_movie(name="movie", filepath=str(ffv1_movie), channel=3, frame_start=1)
    found = extract(scene, source, mode="freeze", reference=4, look="difference", amplify=2.0)
    roles = by_role(found)
    assert set(roles) == {"source", "partner", "amplify"}
    reference = timing(roles["partner"])  # media frame 4 alone, held over the whole strip
    assert (reference.content_trim_start, reference.content_trim_end, reference.content_duration) == (4, FRAMES - 5, 1)
    assert (reference.left_handle, reference.right_handle) == (1, 1 + FRAMES)
    assert (roles["partner"].blend_type, roles["partner"].blend_alpha) == ("DIFFERENCE", 1.0)
    assert [m.type for m in roles["amplify"].modifiers] == ["CURVES"]
    assert found.channel == 3 and (timing(found).left_handle, timing(found).right_handle) == (1, 1 + FRAMES)


def test_update_rebuilds_in_place(png_files):
    scene = new_scene()
    found = extract(scene, add_image_strip(scene, png_files), offset=2)
    found.motion_extraction.look = "subtract"
    found.motion_extraction.offset = -4
    found.motion_extraction.edges = "gray"
    assert bpy.ops.sequencer.motion_extract_update() == {"FINISHED"}
    assert scene.sequence_editor.active_strip == found
    roles = by_role(found)
    assert set(roles) == {"source", "partner", "edge"}
    assert roles["partner"].blend_type == "LINEAR_BURN" and timing(roles["partner"]).content_start == 1 - 4
    assert (timing(roles["edge"]).left_handle, timing(roles["edge"]).right_handle) == (1 + FRAMES - 4, 1 + FRAMES)
    assert tuple(roles["edge"].color) == (0.0, 0.0, 0.0)
    assert record.rig_settings(found) == Settings(look="subtract", offset=-4, edges="gray")


def test_remove_restores_the_original_exactly(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files, channel=4, start=10, name="shot")
    timing(source).left_handle_offset, timing(source).right_handle_offset = 2, 3
    with bpy.context.temp_override(sequencer_scene=scene):
        grade = source.modifiers.new(name="Grade", type="BRIGHT_CONTRAST")
    grade.bright = 0.1
    before = snapshot(source)
    found = extract(scene, source, offset=5, edges="trim", amplify=4.0)
    assert timing(found).left_handle == 12 + 3  # the first 3 visible frames have no partner in the media
    assert bpy.ops.sequencer.motion_extract_remove() == {"FINISHED"}
    assert [strip.name for strip in scene.sequence_editor.strips_all] == ["shot"]
    assert snapshot(scene.sequence_editor.strips["shot"]) == before
    assert scene.sequence_editor.active_strip.name == "shot"


def test_extracting_twice_does_not_stack_rigs(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files)
    found = extract(scene, source, offset=2)
    select_only(scene, found)
    assert bpy.ops.sequencer.motion_extract() == {"FINISHED"}
    select_only(scene, source)  # the source inside the rig
    assert bpy.ops.sequencer.motion_extract() == {"FINISHED"}
    metas = [strip for strip in scene.sequence_editor.strips_all if strip.type == "META"]
    assert metas == [found] and len(found.strips) == 2


def test_partner_copies_the_source_settings_and_modifiers(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files)
    with bpy.context.temp_override(sequencer_scene=scene):
        curves = source.modifiers.new(name="Grade", type="CURVES")
    curves.curve_mapping.curves[3].points.new(0.25, 0.4)
    source.transform.offset_x = 7
    source.color_saturation = 1.5
    partner = by_role(extract(scene, source))["partner"]
    assert [(m.name, m.type) for m in partner.modifiers] == [("Grade", "CURVES"), ("Invert", "CURVES")]
    copied = [tuple(p.location) for p in partner.modifiers["Grade"].curve_mapping.curves[3].points]
    assert copied == [tuple(p.location) for p in curves.curve_mapping.curves[3].points]
    assert partner.transform.offset_x == 7 and partner.color_saturation == 1.5


def test_extract_and_update_open_the_movie_once_for_the_partner(ffv1_movie, monkeypatch):
    """Blender reopens a movie on each read of ``strip.fps`` and on setting some of a movie strip's properties,
    even to the value they have (seconds each on a 4K movie): Extract and Update open it for the partner copy
    only, and read the rate once, from the file's headers or (a Blender without PyAV) from ``strip.fps``."""
    probes = []

    def probe(path: str) -> None:
        probes.append(path)  # no PyAV: the rate is Blender's

    monkeypatch.setattr(strips, "file_rate", probe)
    scene = new_scene()
    with opens_of(ffv1_movie) as opened:
        strip = scene.sequence_editor.strips.new_movie(name="clip", filepath=str(ffv1_movie), channel=1, frame_start=1)
    copy = opened.count  # what a new movie strip costs: the partner's
    with opens_of(ffv1_movie) as opened:
        assert strip.fps == 24
    assert opened.count == 1  # each read reopens the movie
    with opens_of(ffv1_movie) as opened:
        found = extract(scene, strip)
    assert (opened.count, len(probes)) == (copy + 1, 1)
    with opens_of(ffv1_movie) as opened:
        assert bpy.ops.sequencer.motion_extract_update(offset_seconds=0.125, delay_unit="seconds") == {"FINISHED"}
    assert (opened.count, len(probes)) == (copy + 1, 2)
    assert record.rig_settings(found).in_frames(24).offset == 3
    monkeypatch.undo()  # the extension's PyAV reads the rate from the headers
    assert strips.file_rate(str(ffv1_movie)) == 24
    with opens_of(ffv1_movie) as opened:
        assert bpy.ops.sequencer.motion_extract_update(offset=2) == {"FINISHED"}
    blender = opened.count - 2  # FFmpeg's open of the headers, and the check that the file can be read
    assert blender == copy


# --- poll and errors ----------------------------------------------------------------------------


def test_poll_explains_what_is_missing(png_files, tmp_path):
    scene = new_scene()
    assert not bpy.ops.sequencer.motion_extract.poll()  # no active strip
    assert checks.source_problem(None) == "No active strip"
    tone = tmp_path / "tone.wav"
    import wave

    with wave.open(str(tone), "wb") as file:
        file.setnchannels(1), file.setsampwidth(2), file.setframerate(8000), file.writeframes(bytes(1600))
    sound = scene.sequence_editor.strips.new_sound(name="tone", filepath=str(tone), channel=1, frame_start=1)
    select_only(scene, sound)
    assert not bpy.ops.sequencer.motion_extract.poll()
    assert checks.source_problem(sound) == "'tone' is a sound strip, not a movie or image strip"
    source = add_image_strip(scene, png_files, channel=3)
    select_only(scene, source)
    assert bpy.ops.sequencer.motion_extract.poll()
    assert not bpy.ops.sequencer.motion_extract_update.poll()
    assert not bpy.ops.sequencer.motion_extract_remove.poll()
    assert sound.channel == 1 and sound.parent_meta() is None  # sound strips are left alone


def test_errors_reach_the_user_through_report(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files)
    scene.motion_extraction.offset = FRAMES  # longer than the clip
    select_only(scene, source)
    with pytest.raises(RuntimeError, match="offset 16 is out of range for a 16-frame clip"):
        bpy.ops.sequencer.motion_extract()
    assert source.parent_meta() is None and len(scene.sequence_editor.strips) == 1


def test_scene_edits_are_undoable_steps():
    for idname in ("motion_extract", "motion_extract_update", "motion_extract_remove",
                   "motion_extract_output_colors"):
        operator = getattr(bpy.types, f"SEQUENCER_OT_{idname}")
        assert {"REGISTER", "UNDO"} <= operator.bl_options


def test_undo_restores_the_scene(png_files):
    scene = new_scene()
    source = add_image_strip(scene, png_files, channel=3, start=5, name="shot")
    select_only(scene, source)
    before = snapshot(source)
    bpy.ops.ed.undo_push(message="before extracting")
    extract(scene, source, offset=2)
    assert record.is_rig(scene.sequence_editor.active_strip)
    # An operator called from Python leaves its undo step to the caller, as the UI would push it.
    bpy.ops.ed.undo_push(message="Extract Motion")
    bpy.ops.ed.undo()
    scene = bpy.context.scene  # undo reloads the data: old references are stale
    assert [strip.name for strip in scene.sequence_editor.strips_all] == ["shot"]
    assert snapshot(scene.sequence_editor.strips["shot"]) == before
    bpy.ops.ed.redo()
    redone = bpy.context.scene.sequence_editor.strips
    assert len(redone) == 1 and record.is_rig(redone[0]) and redone[0].strips["shot"]


# --- renders compared with the exact engine ---------------------------------------------------

CASES = [
    Settings(mode=mode, offset=offset, look=look, edges=edges, amplify=amplify)
    for mode, look, (offset, edges), amplify in itertools.product(
        ["shift"], ["gray", "difference", "subtract"],
        [(3, "hold"), (3, "source"), (-2, "gray"), (4, "trim"), (-3, "trim"), (-2, "hold")], [1.0, 2.5],
    )
] + [
    Settings(mode="freeze", reference=reference, look=look, amplify=amplify)
    for look, reference, amplify in [("gray", 0, 1.0), ("difference", 6, 3.0), ("subtract", 15, 1.0), ("gray", 9, 0.4)]
]


def render_rig(scene, found, tmp_path):
    return render_frames(scene, timing(found).left_handle, timing(found).right_handle, tmp_path)


@pytest.mark.parametrize("settings", CASES, ids=lambda s: f"{s.describe()}_{s.edges}_x{s.amplify:g}")
def test_rig_render_equals_the_exact_engine_on_png(settings, clip, png_files, tmp_path):
    scene = new_scene()
    found = build.build_rig(scene, add_image_strip(scene, png_files), settings)
    assert max_mean_difference(render_rig(scene, found, tmp_path), engine_frames(clip, settings)) == (0, 0.0)


@pytest.mark.parametrize("mix", [0.0, 0.3, 0.77, 1.0])
def test_gray_look_at_other_mixes_is_within_one_level(mix, clip, png_files, tmp_path):
    settings = Settings(offset=2, mix=mix)
    scene = new_scene()
    found = build.build_rig(scene, add_image_strip(scene, png_files), settings)
    worst, mean = max_mean_difference(render_rig(scene, found, tmp_path), engine_frames(clip, settings))
    assert worst <= 1 and mean < 0.05


def test_rig_on_ffv1_movie_equals_the_exact_engine(clip, ffv1_movie, tmp_path):
    settings = Settings(offset=-3, look="difference", amplify=4.0, edges="source")
    scene = new_scene()
    source = scene.sequence_editor.strips.new_movie(name="movie", filepath=str(ffv1_movie), channel=1, frame_start=1)
    found = build.build_rig(scene, source, settings)
    assert max_mean_difference(render_rig(scene, found, tmp_path), engine_frames(clip, settings)) == (0, 0.0)


def test_rig_on_h264_movie_is_within_decoder_tolerance(clip, png_files, tmp_path):
    movie = tmp_path / "clip.mp4"
    pattern = str(png_files[0].parent / "%04d.png")
    batch.render_with_vse(pattern, movie, Settings(mode="freeze", look="gray", mix=0.0), fps=clip.fps)
    opencv = read_movie(movie)
    scene = new_scene()
    strips = scene.sequence_editor.strips
    source = strips.new_movie(name="movie", filepath=str(movie), channel=1, frame_start=1)
    blender = render_frames(scene, 1, 1 + FRAMES, tmp_path / "plain")
    decoders_worst, decoders_mean = max_mean_difference(blender, opencv)
    assert decoders_worst <= 24 and decoders_mean <= 3  # 4:2:0 chroma on sharp synthetic edges: 18 / 2.05 measured

    settings = Settings(offset=2)
    found = build.build_rig(scene, source, settings)
    rendered = render_rig(scene, found, tmp_path / "out")
    assert max_mean_difference(rendered, engine_frames(FrameList(blender), settings)) == (0, 0.0)
    worst, mean = max_mean_difference(rendered, engine_frames(FrameList(opencv), settings))
    assert worst <= decoders_worst and mean <= 0.5  # 13 / 0.07 measured


def test_trimmed_source_takes_partners_from_the_trimmed_media(clip, png_files, tmp_path):
    settings = Settings(offset=3)
    scene = new_scene()
    source = add_image_strip(scene, png_files)
    timing(source).left_handle_offset, timing(source).right_handle_offset = 4, 2
    found = build.build_rig(scene, source, settings)
    expected = engine_frames(clip, settings)[4:FRAMES - 2]
    assert max_mean_difference(render_rig(scene, found, tmp_path), expected) == (0, 0.0)


def test_rig_moved_as_one_still_renders_the_same(clip, png_files, tmp_path):
    settings = Settings(offset=2, look="difference")
    scene = new_scene()
    found = build.build_rig(scene, add_image_strip(scene, png_files), settings)
    timing(found).content_start += 20
    found.channel = 7
    assert max_mean_difference(render_rig(scene, found, tmp_path), engine_frames(clip, settings)) == (0, 0.0)


def test_save_reopen_and_render_match(clip, png_files, tmp_path):
    scene = new_scene()
    found = extract(scene, add_image_strip(scene, png_files), offset=2, look="subtract", amplify=2.0)
    before = render_rig(scene, found, tmp_path / "before")
    path = tmp_path / "rig.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    scene = bpy.data.scenes[0]
    found = scene.sequence_editor.strips["clip Motion"]
    assert record.is_rig(found) and found.motion_extraction.look == "subtract"
    assert record.rig_settings(found) == Settings(offset=2, look="subtract", amplify=2.0)
    after = render_rig(scene, found, tmp_path / "after")
    assert max_mean_difference(after, before) == (0, 0.0)
    assert max_mean_difference(after, engine_frames(clip, record.rig_settings(found))) == (0, 0.0)


# --- colours --------------------------------------------------------------------------------------


def test_colour_problems_are_reported_and_fixed_on_the_output_only():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.data.scenes[0] if bpy.data.scenes else bpy.data.scenes.new("Scene")
    scene.view_settings.view_transform = "AgX"
    problems = colors.color_problems(scene)
    assert problems == ["Scene view transform is AgX, not Standard"]
    with bpy.context.temp_override(scene=scene, sequencer_scene=scene):
        assert bpy.ops.sequencer.motion_extract_output_colors() == {"FINISHED"}
    assert colors.color_problems(scene) == []
    assert scene.view_settings.view_transform == "AgX"  # the artist's preview is untouched
    assert scene.render.image_settings.view_settings.view_transform == "Standard"
