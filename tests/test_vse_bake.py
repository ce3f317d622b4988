"""Bake Motion in the sequencer: trimmed strips bake the frames they show, in sync (the rig's frames, the
CLI's pixels); a rig bakes its source with its own settings; Re-bake reloads a rewritten file; what cannot
be baked says why."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import bpy
import numpy as np
import pytest
from chunk_helpers import durations, write_clip
from vse_helpers import add_image_strip, new_scene, render_frames, sample_clip, select_only

from blender_addon import cli, media
from blender_addon.core.settings import Settings
from blender_addon.vse import bake
from blender_addon.vse.compat import timing
from blender_addon.vse.rig.record import rig_of, rig_settings
from blender_addon.vse.strips import add_modifier

pytestmark = pytest.mark.usefixtures("registered")


def _read(path: str | Path) -> list[np.ndarray]:
    return list(media.open_source(path).read_from(0))


def _cli_frames(source: Path, output: Path, frames: list[int], *flags: str) -> list[np.ndarray]:
    assert cli.main([str(source), "-o", str(output), "--frames", f"{frames[0]}:{frames[1]}", "-q", *flags]) == 0
    return _read(output)


def _span(strip: bpy.types.Strip) -> tuple[int, int]:
    """The scene frames ``strip`` shows, half-open."""
    return timing(strip).left_handle, timing(strip).right_handle


def _write_movie(path: Path, frames: list[np.ndarray]) -> Path:
    with media.open_writer(path, 24, frames[0].shape[1], frames[0].shape[0], overwrite=True) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def test_trimmed_image_strip_bakes_what_it_shows_in_sync_with_the_rig(png_files, tmp_path):
    scene = new_scene()
    strip = add_image_strip(scene, png_files, channel=2, start=5)
    timing(strip).right_handle_offset = 3  # shows media frames 0 to 12
    select_only(scene, strip)
    flags = dict(offset=2, edges="trim", look="difference")
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", **flags) == {"FINISHED"}
    baked = scene.sequence_editor.active_strip
    record = baked[bake.BAKE_KEY]
    assert record["source"] == strip.name and baked.channel == 3
    path = Path(bpy.path.abspath(baked.filepath))
    assert path.parent == png_files[0].parent.parent / "motion"  # an unsaved .blend: beside the images

    # the CLI's exact render of the same frames and settings, pixel for pixel
    frames = _read(path)
    expected = _cli_frames(png_files[0].parent, tmp_path / "cli.mkv", list(record["frames"]),
                           "--offset", "2", "--edges", "trim", "--look", "difference")
    assert len(frames) == len(expected) == timing(baked).duration == 11  # media frames 2 to 12 have partners
    assert all(np.array_equal(a, b) for a, b in zip(frames, expected, strict=True))

    # on screen where the rig shows the same motion, and Blender plays the baked frames there
    select_only(scene, strip)
    assert bpy.ops.sequencer.motion_extract("EXEC_DEFAULT", **flags) == {"FINISHED"}
    built = rig_of(scene.sequence_editor.active_strip)
    assert _span(built) == _span(baked)
    shown = render_frames(scene, *_span(baked), tmp_path / "render")
    assert all(np.array_equal(a, b) for a, b in zip(shown, frames, strict=True))

    # the rig bakes its source with its own settings, above it
    select_only(scene, built)
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT") == {"FINISHED"}
    second = scene.sequence_editor.active_strip
    assert second != baked and second[bake.BAKE_KEY]["source"] == strip.name
    assert dict(second[bake.BAKE_KEY]["settings"]) == rig_settings(built).to_dict()
    assert second.channel == 4  # channel 3 is taken by the first bake over the same frames
    assert bpy.path.abspath(second.filepath) == str(path)


def test_a_bake_of_a_4_2_0_movie_is_the_rgb_path_the_rig_matches(tmp_path):
    """A 4:2:0 source baked to lossless FFV1 holds the RGB path's pictures (the rig's), not the planar path's."""
    from media_helpers import smooth_frames, yuv420p_movie

    movie = yuv420p_movie(tmp_path / "shot.mkv", smooth_frames(12, 64, 48))
    scene = new_scene()
    strip = scene.sequence_editor.strips.new_movie(name="shot", filepath=str(movie), channel=1, frame_start=1)
    select_only(scene, strip)
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", offset=1) == {"FINISHED"}
    baked = Path(bpy.path.abspath(scene.sequence_editor.active_strip.filepath))
    expected = _cli_frames(movie, tmp_path / "rgb.mkv", [0, 12], "--offset", "1", "--math", "rgb", "--no-audio")
    assert all(np.array_equal(a, b) for a, b in zip(_read(baked), expected, strict=True))


def test_a_baked_movie_carries_the_sound_of_what_it_shows(tmp_path):
    movie = write_clip(tmp_path / "shot.mkv", sample_clip(24))  # one second, with ticks as sound
    scene = new_scene()
    strip = scene.sequence_editor.strips.new_movie(name="shot", filepath=str(movie), channel=1, frame_start=1)
    timing(strip).left_handle_offset = 6  # shows media frames 6 to 23
    select_only(scene, strip)
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", offset=2) == {"FINISHED"}  # the preference: on
    baked = Path(bpy.path.abspath(scene.sequence_editor.active_strip.filepath))
    video, audio = durations(baked)
    assert video == 18 / 24 and abs(audio - video) <= 1 / 24
    quiet = bake.plan_bake(scene, strip, Settings(offset=2), ".mkv", sound=False)
    assert quiet.output != str(baked)  # another file: a bake with sound is never replaced by one without
    bake.render_bake(quiet)
    assert not media.open_source(quiet.output).has_audio and len(_read(quiet.output)) == 18


def test_rebake_reloads_a_rewritten_file_in_place(tmp_path):
    clip = sample_clip()
    first = [clip.frame(index) for index in range(clip.frame_count)]
    movie = _write_movie(tmp_path / "clip.mkv", first)
    scene = new_scene()
    strip = scene.sequence_editor.strips.new_movie(name="clip", filepath=str(movie), channel=1, frame_start=1)
    timing(strip).left_handle_offset = 4
    select_only(scene, strip)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "edit.blend"))
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", offset=1, look="gray") == {"FINISHED"}
    baked = scene.sequence_editor.active_strip
    assert baked.filepath.startswith("//motion/")  # relative to the saved .blend
    span = _span(baked)
    old = render_frames(scene, *span, tmp_path / "old")

    _write_movie(movie, [255 - frame for frame in first])  # the source re-exported: the same name, new pictures
    old_file = Path(bpy.path.abspath(baked.filepath))
    old_frames = _read(old_file)
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT") == {"FINISHED"}  # the baked strip is active: Re-bake
    assert scene.sequence_editor.active_strip == baked and len(scene.sequence_editor.strips_all) == 2
    # written beside the file the strip showed, which stays as it was (Blender has it open; undo needs it)
    assert Path(bpy.path.abspath(baked.filepath)) != old_file and old_file.exists()
    assert all(np.array_equal(a, b) for a, b in zip(_read(old_file), old_frames, strict=True))
    assert _span(baked) == span
    new = render_frames(scene, *span, tmp_path / "new")
    assert all(np.array_equal(a, b) for a, b in zip(new, _read(bpy.path.abspath(baked.filepath)), strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(new, old, strict=True))

    # other settings (glow is not in the name's short description) make another file, never this strip's
    select_only(scene, strip)
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", offset=1, look="gray", glow=0.5) == {"FINISHED"}
    other = scene.sequence_editor.active_strip
    assert other != baked and other.filepath != baked.filepath
    assert Path(other.filepath).stem.rpartition("_")[0] == old_file.stem.rpartition("_")[0]  # only the digest differs


def test_what_cannot_be_baked_says_why(png_files, tmp_path):
    scene = new_scene()
    colour = scene.sequence_editor.strips.new_effect(name="flat", type="COLOR", channel=1, frame_start=1, length=10)
    select_only(scene, colour)
    assert not bpy.ops.sequencer.motion_bake.poll()
    assert bake.bake_problem(scene, colour) == "'flat' is a color strip, not a movie or image strip"

    some = tmp_path / "some"
    some.mkdir()
    for file in png_files:
        shutil.copy(file, some / file.name)
    strip = add_image_strip(scene, sorted(some.iterdir())[:5], channel=2)  # 5 of the folder's 16 images
    select_only(scene, strip)
    with pytest.raises(bake.BakeError, match="reads whole image folders"):
        bake.plan_bake(scene, strip, Settings(), ".mkv")
    with pytest.raises(RuntimeError, match="reads whole image folders"):  # the operator's one-line error
        bpy.ops.sequencer.motion_bake("EXEC_DEFAULT")
    assert len(scene.sequence_editor.strips_all) == 2


def test_bake_and_key_motion_data_name_a_strip_whose_file_is_missing(tmp_path):
    clip = sample_clip()
    movie = _write_movie(tmp_path / "gone.mkv", [clip.frame(index) for index in range(clip.frame_count)])
    scene = new_scene()
    strip = scene.sequence_editor.strips.new_movie(name="shot", filepath=str(movie), channel=1, frame_start=1)
    select_only(scene, strip)
    movie.unlink()
    expected = f"'shot': its media is missing ({movie}): relink it or put it back, then try again"
    for operator in (bpy.ops.sequencer.motion_bake, bpy.ops.sequencer.motion_key):
        with pytest.raises(RuntimeError) as raised:
            operator("EXEC_DEFAULT")
        assert str(raised.value).strip() == f"Error: {expected}"
    assert len(scene.sequence_editor.strips_all) == 1


def test_a_bake_under_way_shows_progress_and_esc_leaves_nothing(png_files, monkeypatch):
    from blender_addon.ui.bake import BakeRun

    real = bake.render_bake

    def paced(plan, progress=None, cancelled=None):  # 50 ms a frame, so there is time to cancel part way
        def report(done: int) -> None:
            time.sleep(0.05)
            progress(done)

        return real(plan, report, cancelled)

    monkeypatch.setattr(bake, "render_bake", paced)
    scene = new_scene()
    strip = add_image_strip(scene, png_files, channel=2)
    select_only(scene, strip)
    plan = bake.plan_bake(scene, strip, Settings(offset=2, look="matte"), ".mkv")
    folder = Path(plan.output).parent
    before = set(os.listdir(folder)) if folder.is_dir() else set()

    run = BakeRun(bpy.context, plan)  # what the modal operator does on invoke; Esc calls cancel()
    while run.job.done < 3:
        assert run.job.running, run.job.error
        time.sleep(0.01)
    run.show()
    run.cancel()
    assert run.job.cancelled and not run.job.running and run.job.error is None
    assert 3 <= run.job.done < plan.frame_count == 16
    assert not Path(plan.output).exists() and set(os.listdir(folder)) == before  # no file, no temporary
    assert len(scene.sequence_editor.strips_all) == 1

    run = BakeRun(bpy.context, plan)  # left to finish, as the timer events see it
    while run.job.running:
        run.show()
        time.sleep(0.02)
    run.end()
    assert run.job.error is None and run.job.done == plan.frame_count
    placed = bake.place_bake(scene, run.job.plan)
    assert len(_read(bpy.path.abspath(placed.filepath))) == timing(placed).duration == 16


def test_a_held_locked_strip_with_effects_and_modifiers_bakes_what_it_shows(png_files, tmp_path):
    """What the rig refuses or cannot show, the bake takes: frames held past the media's end, a locked strip, a
    strip feeding an effect; its modifiers are not applied (a warning says so); a retimed strip is refused."""
    scene = new_scene()
    strip = add_image_strip(scene, png_files, channel=2, start=1)
    timing(strip).right_handle_offset = -3  # holds its last image for 3 more frames
    strip.lock = True
    scene.sequence_editor.strips.new_effect(name="glow", type="GLOW", channel=5, input1=strip, frame_start=1, length=19)
    add_modifier(scene, strip, "Bright", "BRIGHT_CONTRAST")
    select_only(scene, strip)
    plan = bake.plan_bake(scene, strip, Settings(offset=1), ".mkv")
    assert plan.hold == (0, 3) and plan.warnings == ("'clip' has modifiers: the bake reads its file without them",)
    assert bpy.ops.sequencer.motion_bake("EXEC_DEFAULT", offset=1) == {"FINISHED"}
    baked = scene.sequence_editor.active_strip
    assert _span(baked) == _span(strip) == (1, 20)
    file_frames = _read(bpy.path.abspath(baked.filepath))
    assert len(file_frames) == 16
    scene.sequence_editor.strips_all["glow"].mute = True
    shown = render_frames(scene, *_span(baked), tmp_path / "render")
    assert all(np.array_equal(a, b) for a, b in zip(shown, file_frames + [file_frames[-1]] * 3, strict=True))

    strip.lock = False
    select_only(scene, strip)
    assert bpy.ops.sequencer.retiming_key_add(timeline_frame=8) == {"FINISHED"}  # (the RNA add() crashes headless)
    assert bake.bake_problem(scene, strip) is None  # the strip is fine; what it shows cannot be baked yet
    with pytest.raises(bake.BakeError, match="'clip' is retimed: bake it without its retiming"):
        bake.plan_bake(scene, strip, Settings(offset=1), ".mkv")
