"""Bake Motion and Key Motion Data on sources the sequencer shows its own way: a movie whose frames Blender counts
otherwise than FFmpeg (an edit list, a variable rate), refused in one line; the render's notes reported as
warnings, in Blender's terms; how the strip shows its media (flip, transform) taken over where the bake can, said
where it cannot, and a reversed strip refused; Re-bake follows its source through renames."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from edit_helpers import render_alone, reports
from media_helpers import ffmpeg
from vse_helpers import new_scene, sample_clip, select_only, write_ffv1

from blender_addon.vse import bake
from blender_addon.vse.compat import timing
from blender_addon.vse.rig.record import rig_of

pytestmark = pytest.mark.usefixtures("registered")


def _movie_scene(path) -> tuple[bpy.types.Scene, bpy.types.Strip]:
    scene = new_scene()
    scene.render.resolution_x, scene.render.resolution_y = 160, 120
    strip = scene.sequence_editor.strips.new_movie(name="clip", filepath=str(path), channel=2, frame_start=1)
    select_only(scene, strip)
    return scene, strip


def _refused(operator: str, **flags) -> str:
    with pytest.raises(RuntimeError) as raised:
        getattr(bpy.ops.sequencer, operator)("EXEC_DEFAULT", **flags)
    return str(raised.value)


@pytest.fixture(scope="module")
def edit_list_cut(tmp_path_factory):
    """A stream-copied cut that starts between key frames: Blender counts the frames before the cut too."""
    folder = tmp_path_factory.mktemp("cut")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=3", "-c:v", "libx264", "-g", "10", "-bf", "2",
           "-pix_fmt", "yuv420p", folder / "gop.mp4")
    ffmpeg("-ss", "0.52", "-i", folder / "gop.mp4", "-t", "1.6", "-c", "copy", folder / "cut.mp4")
    return folder / "cut.mp4"


@pytest.fixture(scope="module")
def variable_rate(tmp_path_factory):
    path = tmp_path_factory.mktemp("vfr") / "vfr.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=2", "-vf", "setpts='if(lt(N,20),N,N*2)/25/TB'",
           "-vsync", "passthrough", "-c:v", "libx264", "-pix_fmt", "yuv420p", path)
    return path


@pytest.mark.parametrize("operator", ["motion_bake", "motion_key"])
def test_a_movie_blender_counts_otherwise_is_refused_in_one_line(edit_list_cut, variable_rate, operator):
    scene, strip = _movie_scene(edit_list_cut)
    shown = int(timing(strip).content_duration)
    message = _refused(operator, offset=2)
    assert "Traceback" not in message and "\n" not in message.strip()
    assert f"where Blender shows {shown}" in message and "'clip': the file holds" in message
    assert not [other for other in scene.sequence_editor.strips_all if other != strip]

    scene, strip = _movie_scene(variable_rate)
    message = _refused(operator, offset=2)
    assert "Traceback" not in message and "variable frame rate" in message


def test_the_bakes_render_notes_are_warnings_after_its_line_in_blenders_terms(tmp_path, capfd):
    source = tmp_path / "anamorphic.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x128:rate=25", "-frames:v", "6", "-vf", "setsar=16/15",
           "-pix_fmt", "yuv420p", "-c:v", "libx264", source)
    _movie_scene(source)
    capfd.readouterr()
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", offset=1) == {"FINISHED"}  # FFV1 (.mkv): square pixels
    said = reports(capfd.readouterr().out)
    assert said[0].startswith("Info: Baked 'clip Baked': 6 frames"), said
    (note,) = said[1:]
    assert note.startswith("Warning: ") and "pixels are not square (anamorphic, 16/15)" in note
    assert note.endswith("the Bake Formats PRORES (.mov) and H264 (.mp4) keep their shape") and "--" not in note


@pytest.fixture(scope="module")
def movie(tmp_path_factory):
    return write_ffv1(sample_clip(), tmp_path_factory.mktemp("movie") / "clip.mkv")


def test_a_flipped_moved_strip_bakes_as_the_rig_shows_it_and_what_the_bake_drops_is_named(movie, tmp_path, capfd):
    scene, strip = _movie_scene(movie)
    strip.use_flip_x, strip.transform.offset_x, strip.transform.scale_x = True, 20, 0.75
    assert bpy.ops.sequencer.motion_extract(offset=2) == {"FINISHED"}
    rig = rig_of(scene.sequence_editor.active_strip)
    shown = render_alone(scene, rig, tmp_path / "rig")
    select_only(scene, rig)
    capfd.readouterr()
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT") == {"FINISHED"}
    assert [line for line in reports(capfd.readouterr().out) if line.startswith("Warning")] == []
    baked = scene.sequence_editor.active_strip
    assert baked.use_flip_x and (baked.transform.offset_x, baked.transform.scale_x) == (20, 0.75)
    on_screen = render_alone(scene, baked, tmp_path / "baked")
    assert len(on_screen) == len(shown)
    assert max(int(np.abs(a.astype(int) - b).max()) for a, b in zip(on_screen, shown, strict=True)) <= 2

    scene, strip = _movie_scene(movie)
    strip.strobe, strip.color_multiply = 3.0, 0.5
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT") == {"FINISHED"}
    assert reports(capfd.readouterr().out)[1:] == [
        "Warning: 'clip' shows its media with Strobe, Multiply Colors: the bake shows it without"]


@pytest.mark.parametrize("operator", ["motion_bake", "motion_key"])
def test_a_reversed_strip_is_refused_in_one_line(movie, operator):
    scene, strip = _movie_scene(movie)
    strip.use_reverse_frames = True
    message = _refused(operator)
    assert "'clip' plays its media backwards (Reverse Frames)" in message and "\n" not in message.strip()
    assert not [other for other in scene.sequence_editor.strips_all if other != strip]


def test_rebake_follows_its_source_by_identity_not_by_name(movie, tmp_path):
    scene, strip = _movie_scene(movie)
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", offset=2) == {"FINISHED"}
    baked = scene.sequence_editor.active_strip
    strip.name = "shot"
    other = write_ffv1(sample_clip(8), tmp_path / "other.mkv")
    impostor = scene.sequence_editor.strips.new_movie(name="clip", filepath=str(other), channel=6, frame_start=1)
    select_only(scene, baked)
    assert bpy.ops.sequencer.motion_bake.poll()
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", offset=3) == {"FINISHED"}
    assert baked[bake.BAKE_KEY]["source"] == "shot" and "shift3" in baked.filepath and "clip_" in baked.filepath
    assert bake.baked_source(scene, baked) == strip != impostor

    copy = scene.sequence_editor.strips.new_movie(name="shot.001", filepath=str(movie), channel=7, frame_start=1)
    copy[bake.IDENTITY_KEY] = strip[bake.IDENTITY_KEY]  # as Duplicate copies it
    assert bake.baked_source(scene, baked) == strip  # the copy with the recorded name
    strip.name = "take"
    assert bake.bake_problem(scene, baked) == ("'clip Baked' was baked from 'shot', and 'take', 'shot.001' are copies "
                                               "of it: bake the one meant anew")
    scene.sequence_editor.strips.remove(copy)

    scene.sequence_editor.strips.remove(strip)
    select_only(scene, baked)
    assert not bpy.ops.sequencer.motion_bake.poll()
    assert bake.bake_problem(scene, baked) == "'clip Baked' was baked from 'shot', which is gone"
