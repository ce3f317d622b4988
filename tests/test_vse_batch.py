"""Headless renders through the rig (``vse.batch``): Blender's encoders, audio, atomic output, errors."""

from __future__ import annotations

from pathlib import Path

import bpy
import cv2
import numpy as np
import pytest
from media_helpers import has_audio
from vse_helpers import (
    FPS,
    FRAMES,
    encode_with_sound,
    max_mean_difference,
    new_scene,
    read_movie,
    sample_clip,
    write_ffv1,
    write_png_sequence,
)

from blender_addon.core.engine import extract_motion
from blender_addon.core.sample_clip import write_tick_track
from blender_addon.core.settings import Settings
from blender_addon.vse import batch
from blender_addon.vse.compat import timing


@pytest.fixture(scope="module")
def clip():
    return sample_clip()


@pytest.fixture(scope="module")
def pattern(clip, tmp_path_factory) -> str:
    files = write_png_sequence(clip, tmp_path_factory.mktemp("frames"))
    return str(files[0].parent / "%04d.png")


@pytest.fixture(scope="module")
def movie_with_audio(pattern, tmp_path_factory) -> Path:
    """An H.264 + AAC movie of the sample clip with a tone, made by rendering a .blend (``render_blend_file``)."""
    folder = tmp_path_factory.mktemp("audio")
    write_tick_track(folder / "tone.wav", 1.0)
    summary = encode_with_sound(pattern, folder / "tone.wav", folder / "clip.mp4")
    assert summary.frame_count == FRAMES and summary.has_audio
    return folder / "clip.mp4"


def test_mp4_is_playable_h264_with_the_inputs_frames_fps_and_audio(movie_with_audio, tmp_path):
    output = tmp_path / "motion.mp4"
    progress = []
    summary = batch.render_with_vse(movie_with_audio, output, Settings(offset=2),
                                    progress=lambda done, total: progress.append((done, total)))
    capture = cv2.VideoCapture(str(output))
    assert int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little") in (b"avc1", b"h264", b"H264")
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(FPS)
    capture.release()
    assert len(read_movie(output)) == FRAMES == summary.frame_count
    assert has_audio(output) and summary.has_audio
    assert progress == [(done, FRAMES) for done in range(1, FRAMES + 1)]
    assert [path.name for path in tmp_path.iterdir()] == ["motion.mp4"]  # no temporary left behind


def test_mp4_without_audio_input_has_no_audio(clip, pattern, tmp_path):
    silent_movie = write_ffv1(clip, tmp_path / "silent.mkv")
    for source, name in ((pattern, "from_images.mp4"), (silent_movie, "from_movie.mp4")):
        summary = batch.render_with_vse(source, tmp_path / name, Settings(), fps=FPS)
        assert not summary.has_audio and not has_audio(tmp_path / name), name


def test_sequence_chunks_are_numbered_by_output_frame_and_fit_side_by_side(clip, pattern, tmp_path):
    folder = Path(pattern).parent
    output = tmp_path / "m_%04d.png"
    batch.render_with_vse(folder, output, Settings(offset=2), fps=FPS, start=10)
    batch.render_with_vse(folder, output, Settings(offset=2), fps=FPS, stop=10)
    written = sorted(tmp_path.glob("m_*.png"))
    assert [path.name for path in written] == [f"m_{index:04d}.png" for index in range(FRAMES)]
    expected = [frame.copy() for frame in extract_motion(clip, Settings(offset=2))]
    assert max_mean_difference([cv2.imread(str(path)) for path in written], expected) == (0, 0.0)
    with pytest.raises(batch.VseRenderError, match="6 frame files already exist"):
        batch.render_with_vse(folder, output, Settings(offset=2), fps=FPS, start=10)


@pytest.mark.parametrize("name", ["motion.mov", "motion.mkv"])
def test_prores_and_ffv1_outputs(movie_with_audio, tmp_path, name):
    summary = batch.render_with_vse(movie_with_audio, tmp_path / name, Settings(look="difference", offset=1))
    assert len(read_movie(tmp_path / name)) == FRAMES == summary.frame_count
    if name.endswith(".mov"):
        assert has_audio(tmp_path / name)


def test_png_sequence_output_equals_the_exact_engine(clip, pattern, tmp_path):
    settings = Settings(offset=-3, look="subtract", amplify=3.0, edges="trim")
    summary = batch.render_with_vse(pattern, tmp_path / "out_%05d.png", settings, start=2, stop=10)
    written = sorted(tmp_path.glob("out_*.png"))
    assert [path.name for path in written] == [f"out_{index:05d}.png" for index in range(2, 10)]
    expected = [frame.copy() for frame in extract_motion(clip, settings, start=2, stop=10)]
    assert summary.frame_count == 8
    assert max_mean_difference([cv2.imread(str(path)) for path in written], expected) == (0, 0.0)


def test_failures_are_one_line_errors_and_leave_nothing_behind(pattern, movie_with_audio, tmp_path):
    existing = tmp_path / "exists.mp4"
    existing.write_bytes(b"keep")
    cases = [
        (tmp_path / "missing.mp4", tmp_path / "a.mp4", "no such file"),
        (movie_with_audio, existing, "already exists"),
        (movie_with_audio, movie_with_audio, "overwrite the input"),
        (movie_with_audio, existing / "a.mp4", "a file is in the way"),
        (movie_with_audio, tmp_path / "a.gif", "the VSE engine writes"),
        (str(tmp_path / "none_%04d.png"), tmp_path / "a.mp4", "no files match this pattern"),
    ]
    for source, output, message in cases:
        with pytest.raises(batch.VseRenderError, match=message) as error:
            batch.render_with_vse(source, output, Settings())
        assert "\n" not in str(error.value)
    with pytest.raises(batch.VseSettingsError, match="out of range"):
        batch.render_with_vse(movie_with_audio, tmp_path / "b.mp4", Settings(offset=FRAMES))
    with pytest.raises(batch.VseSettingsError, match="outside the output"):
        batch.render_with_vse(movie_with_audio, tmp_path / "b.mp4", Settings(), start=5, stop=FRAMES + 1)
    assert existing.read_bytes() == b"keep"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["exists.mp4"]
    assert len(bpy.data.scenes) == 1  # the render scenes are removed again


def test_a_gap_in_a_numbered_input_is_an_error_naming_the_missing_file(clip, tmp_path):
    for number in (1, 2, 4, 6):
        cv2.imwrite(str(tmp_path / f"{number:04d}.png"), clip.frame(number))
    with pytest.raises(batch.VseRenderError, match=r"0003\.png is missing from the sequence 0001\.png to 0006\.png"):
        batch.render_with_vse(str(tmp_path / "####.png"), tmp_path / "m.mp4", Settings(), fps=FPS)
    assert not (tmp_path / "m.mp4").exists()


@pytest.mark.parametrize("name", ["late{1}.mp4", "late{1}_####.png"])  # braces: not a Blender path template
def test_an_output_that_appears_while_rendering_is_kept_unless_overwrite(pattern, tmp_path, name):
    output = tmp_path / name
    first = tmp_path / name.replace("####", "0000")

    def appear(done: int, _total: int) -> None:
        if done == 1:
            first.write_bytes(b"theirs")

    with pytest.raises(batch.VseRenderError, match="appeared while rendering"):
        batch.render_with_vse(pattern, output, Settings(), fps=FPS, stop=3, progress=appear)
    assert first.read_bytes() == b"theirs"
    assert [path.name for path in tmp_path.iterdir()] == [first.name]  # the temporary is gone
    first.unlink()
    batch.render_with_vse(pattern, output, Settings(), fps=FPS, stop=3, progress=appear, overwrite=True)
    assert first.read_bytes() != b"theirs"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        name.replace("####", f"{number:04d}") for number in range(3 if "#" in name else 1))


def test_a_sequence_is_published_whole_or_not_at_all(pattern, tmp_path):
    """A file that appeared at a sequence's last number while rendering: none of its frames is published (its
    first ones were), and a cancelled render (what clean_up_before_exit does before the process ends) leaves
    neither its temporary nor the folder made for it."""
    output = tmp_path / "out" / "m_####.png"
    last = tmp_path / "out" / "m_0002.png"

    def appear(done: int, _total: int) -> None:
        if done == 1:
            last.write_bytes(b"theirs")

    with pytest.raises(batch.VseRenderError, match="m_0002.png appeared while rendering"):
        batch.render_with_vse(pattern, output, Settings(), fps=FPS, stop=3, progress=appear)
    assert sorted(path.name for path in last.parent.iterdir()) == ["m_0002.png"] and last.read_bytes() == b"theirs"

    left = []

    def exit_now(done: int, _total: int) -> None:  # Blender drops what a handler raises: what is left is noted
        if done == 1:
            batch.clean_up_before_exit()
            left.append(sorted(path.name for path in tmp_path.rglob("*")))

    last.unlink()
    last.parent.rmdir()
    with pytest.raises(batch.VseRenderError):  # the render goes on without its file: the process would have ended
        batch.render_with_vse(pattern, tmp_path / "new" / "m.mkv", Settings(), fps=FPS, stop=3, progress=exit_now)
    assert left == [[]] and list(tmp_path.iterdir()) == []


def test_blend_file_render_with_a_frame_range(movie_with_audio, tmp_path):
    scene = new_scene()
    strip = scene.sequence_editor.strips.new_movie(name="m", filepath=str(movie_with_audio), channel=1, frame_start=1)
    scene.frame_start, scene.frame_end = 1, FRAMES
    blend = tmp_path / "edit.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    assert timing(strip).duration == FRAMES
    summary = batch.render_blend_file(blend, tmp_path / "edit_%03d.png", start=4, stop=9)
    written = sorted(tmp_path.glob("edit_*.png"))
    assert summary.frame_count == 5 and [path.name for path in written] == [f"edit_{i:03d}.png" for i in range(4, 9)]
    assert np.asarray(cv2.imread(str(written[0]))).shape == (90, 160, 3)


def test_encode_with_sound_keeps_the_pictures_and_adds_the_sound(pattern, clip, tmp_path):
    write_tick_track(tmp_path / "ticks.wav", FRAMES / FPS)
    summary = encode_with_sound(pattern, tmp_path / "ticks.wav", tmp_path / "clip.mkv")
    assert summary.has_audio and summary.frame_count == FRAMES
    frames = read_movie(tmp_path / "clip.mkv")
    assert len(frames) == FRAMES
    assert all(np.array_equal(frame, clip.frame(index)) for index, frame in enumerate(frames))


@pytest.mark.parametrize("tagged", [True, False])
def test_the_engines_agree_within_one_level_on_bt709_tagged_and_untagged_movies(tmp_path, tagged):
    """Blender's sequencer converts a movie by its tagged matrix (untagged: BT.601); so does the exact engine."""
    import subprocess

    from blender_addon import media

    source = tmp_path / "colours.mp4"
    tags = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"] if tagged else []
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x96:rate=25", "-frames:v", "6",
                    "-pix_fmt", "yuv420p", *tags, "-c:v", "libx264", "-qp", "0", str(source)], check=True, timeout=60)
    settings = Settings(mix=0.0, offset=1)  # the frames pass through
    batch.render_with_vse(source, tmp_path / "out_%05d.png", settings)
    frames = [cv2.imread(str(path)) for path in sorted(tmp_path.glob("out_*.png"))]
    expected = [frame.copy() for frame in extract_motion(media.open_source(source), settings)]
    assert max_mean_difference(frames, expected)[0] <= 1


@pytest.mark.parametrize(("name", "layout", "shown"), [
    ("out.mp4", "motion", "160,16:15,4:3"), ("out.mkv", "motion", "160,16:15,4:3"),
    ("side.mp4", "side", "320,16:15,8:3"),
])
def test_an_anamorphic_movie_keeps_its_pixel_aspect(tmp_path, name, layout, shown):
    """Pixels 16:15 as wide as tall (PAL 4:3's shape at a smaller size) stay so, the pictures unchanged."""
    import subprocess

    source = tmp_path / "anamorphic.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x128:rate=25", "-frames:v", "4",
                    "-vf", "setsar=16/15", "-pix_fmt", "yuv420p", "-c:v", "libx264", str(source)],
                   check=True, timeout=60)
    batch.render_with_vse(source, tmp_path / name, Settings(layout=layout))
    probed = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                             "stream=width,sample_aspect_ratio,display_aspect_ratio", "-of", "csv=p=0",
                             str(tmp_path / name)], check=True, capture_output=True, text=True, timeout=60)
    assert probed.stdout.strip() == shown
