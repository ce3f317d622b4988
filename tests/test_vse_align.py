"""Alignment in the sequencer rig: the partner's transform keyed with the exact engine's estimates.

The handheld sample (a known camera path) as PNG images: the rig's render is compared with the
exact engine's frames, and its still background with the still level.
"""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from vse_helpers import new_scene, render_frames, select_only, write_png_sequence

from blender_addon.core.engine import extract_motion
from blender_addon.core.sample_clip import HandheldClip
from blender_addon.core.settings import Settings
from blender_addon.vse import align_keys
from blender_addon.vse.rig import build, record
from blender_addon.vse.strips import strip_fcurves

pytestmark = pytest.mark.usefixtures("registered")

WIDTH, HEIGHT, FRAMES = 320, 180, 12


@pytest.fixture(scope="module")
def handheld() -> HandheldClip:
    return HandheldClip(WIDTH, HEIGHT, FRAMES, fps=24.0)


@pytest.fixture(scope="module")
def handheld_pngs(handheld, tmp_path_factory):
    return write_png_sequence(handheld, tmp_path_factory.mktemp("handheld") / "frames")


def scene_with(files) -> tuple[bpy.types.Scene, bpy.types.Strip]:
    scene = new_scene()
    scene.render.resolution_x, scene.render.resolution_y = WIDTH, HEIGHT
    strips = scene.sequence_editor.strips
    strip = strips.new_image(name="shaky", filepath=str(files[0]), channel=2, frame_start=1)
    for file in files[1:]:
        strip.elements.append(file.name)
    select_only(scene, strip)
    return scene, strip


def engine_frames(clip: HandheldClip, settings: Settings) -> list[np.ndarray]:
    return [frame.copy() for frame in extract_motion(clip, settings)]


@pytest.mark.parametrize("options", [{"align": "similarity", "offset": 2}, {"align": "shift"},
                                     {"align": "similarity", "mode": "freeze", "reference": 5}])
def test_the_aligned_rig_renders_as_the_engine(handheld, handheld_pngs, tmp_path, options):
    scene, strip = scene_with(handheld_pngs)
    settings = Settings(**options)
    built = build.build_rig(scene, strip, settings)
    partner = next(s for s in built.strips if s.name.endswith("Partner"))
    moved = next(s for s in partner.strips if s.name.endswith("Partner Aligned"))
    curves = {curve.data_path.rsplit(".", 1)[1]: curve for curve in strip_fcurves(moved)}
    assert set(curves) >= set(align_keys.TRANSFORM_PROPERTIES)
    assert all(len(curves[name].keyframe_points) == FRAMES for name in align_keys.TRANSFORM_PROPERTIES)
    assert {point.interpolation for point in curves["offset_x"].keyframe_points} == {"CONSTANT"}
    rendered = render_frames(scene, 1, 1 + FRAMES, tmp_path)
    expected = engine_frames(handheld, settings)
    # Blender's bilinear transform and OpenCV's agree within a level (measured); along the moved partner's
    # edge both blend it with the fill by its coverage, but Blender's blend of that one-pixel ring is its own.
    inner = (slice(4, -4), slice(4, -4))
    for index, (ours, theirs) in enumerate(zip(rendered, expected, strict=True)):
        difference = np.abs(ours.astype(int) - theirs.astype(int))[inner]
        assert difference.mean() < 0.3, index
        assert np.percentile(difference, 99.5) <= 2, index
    # Most of the frame is still background: flat once aligned (median deviation), not without alignment.
    plain = engine_frames(handheld, Settings(**{**options, "align": "none"}))
    def typical(frames):  # the deviation most pixels stay within
        return np.mean([np.percentile(np.abs(frame.astype(int) - 128), 75) for frame in frames[1:]])

    print(f"75th percentile of the deviation: {typical(rendered):.2f} aligned, {typical(plain):.2f} not")
    assert typical(rendered) <= 1.5 and typical(plain) >= 2 * typical(rendered)


def test_the_info_line_names_the_alignment(handheld_pngs, capfd):
    scene, strip = scene_with(handheld_pngs)
    capfd.readouterr()
    assert bpy.ops.sequencer.motion_extract(align="similarity", offset=2) == {"FINISHED"}
    assert bpy.ops.sequencer.motion_extract_update(align="shift") == {"FINISHED"}
    infos = [line for line in capfd.readouterr().out.splitlines() if line.startswith("Info:")]
    assert infos[0].endswith("(gray_shift2, aligned by similarity)") and infos[1].endswith("aligned by shift)"), infos


def test_update_to_no_alignment_removes_the_keys(handheld_pngs):
    scene, strip = scene_with(handheld_pngs)
    built = build.build_rig(scene, strip, Settings(align="similarity"))
    build.update_rig(scene, built, Settings())
    assert not any(s.name.endswith("Partner Aligned") for s in scene.sequence_editor.strips_all)
    channelbag_paths = [curve.data_path for curve in scene.animation_data.action.layers[0].strips[0]
                        .channelbag(scene.animation_data.action_slot).fcurves]
    assert not [path for path in channelbag_paths if "Aligned" in path or "transform" in path]


@pytest.mark.parametrize(
    ("options", "setup", "message"),
    [
        ({"align": "perspective"}, None, "cannot take a perspective; use Bake Motion"),
        ({"align": "shift", "time_colour": True}, None, "align with time colour"),
        ({"align": "shift"}, lambda strip: setattr(strip.transform, "scale_x", 0.5), "scaled unevenly"),
        ({"align": "shift"}, lambda strip: setattr(strip.crop, "min_x", 4), "is cropped"),
        ({"align": "shift"}, lambda strip: strip.transform.keyframe_insert("offset_x", frame=1), "animated"),
    ],
)
def test_what_the_rig_cannot_align_is_refused_with_the_way_out(handheld_pngs, options, setup, message):
    scene, strip = scene_with(handheld_pngs)
    if setup is not None:
        setup(strip)
    with pytest.raises(record.RigError, match=message) as error:
        build.build_rig(scene, strip, Settings(**options))
    assert "Bake Motion" in str(error.value)
    assert [s.name for s in scene.sequence_editor.strips_all] == ["shaky"]


def test_an_image_strip_showing_part_of_its_folder_is_refused_as_a_rig_error(handheld_pngs):
    """The alignment is estimated from the whole folder, as the exact engine reads it: a strip of some of its
    images is refused with the rig's one-line error, before any of the rig is built."""
    scene, strip = scene_with(handheld_pngs[:6])  # 6 of the folder's 12 images
    with pytest.raises(record.RigError, match="reads whole image folders"):
        build.build_rig(scene, strip, Settings(align="shift"))
    assert [s.name for s in scene.sequence_editor.strips_all] == ["shaky"]


def test_frames_without_texture_are_announced(tmp_path):
    """A flat stretch of the clip cannot be aligned: the rig says so where its limits are listed."""
    from vse_helpers import write_png_sequence as write

    from blender_addon.ui.operators import rig_limits

    class Flat(HandheldClip):
        def frame(self, index):
            image = super().frame(index)
            if index >= 6:
                image[:] = 90  # the camera covered
            return image

    files = write(Flat(WIDTH, HEIGHT, 9, fps=24.0), tmp_path / "flat")
    scene, strip = scene_with(files)
    built = build.build_rig(scene, strip, Settings(align="shift"))
    assert align_keys.failed_frames(built) == [7, 8, 9]
    assert any("Alignment failed on 3 frames (the first at 7)" in note for note in rig_limits(scene, built))


def test_trails_share_the_partners_estimates(handheld_pngs, monkeypatch):
    """The clip is estimated once per build, however many trail copies the rig makes."""
    calls = []
    estimate = align_keys.partner_keys
    monkeypatch.setattr(align_keys, "partner_keys", lambda *args: calls.append(args) or estimate(*args))
    scene, strip = scene_with(handheld_pngs)
    built = build.build_rig(scene, strip, Settings(align="similarity", trails=0.5))
    aligned = [s for s in scene.sequence_editor.strips_all if s.name.endswith("Partner Aligned")]
    assert len(aligned) > 1 and len(calls) == 1
    assert all(len(strip_fcurves(s)) >= len(align_keys.TRANSFORM_PROPERTIES) for s in aligned)
    assert record.rig_of(aligned[0]) == built
