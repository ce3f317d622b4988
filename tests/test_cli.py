"""The command line end to end: both engines, outputs, chunks, and one clear line for every bad input."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from media_helpers import has_audio

from blender_addon import cli, media
from blender_addon.cli import parse_size, script_arguments
from blender_addon.core.sample_clip import SampleClip, decode_frame, write_tick_track
from blender_addon.core.settings import OPTIONS_BY_NAME, Settings

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "motion_extract.py"


def run_cli(*args: str | os.PathLike, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120, **kwargs
    )


def write_clip(path: Path, clip: SampleClip) -> Path:
    with media.open_writer(path, clip.fps, clip.width, clip.height) as writer:
        for frame in clip.read_from(0):
            writer.write(frame)
    return path


def read_all(path: Path) -> list[np.ndarray]:
    source = media.open_source(path)
    return list(source.read_from(0))


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def fourcc(path: Path) -> bytes:
    capture = cv2.VideoCapture(str(path))
    try:
        return int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little")
    finally:
        capture.release()


def assert_pairs(frames: list[np.ndarray], first: int, lag: int) -> None:
    """Output frames ``first``, ``first + 1``, ... of the gray look pair frame t with t - lag (held at the edges)."""
    for t, frame in enumerate(frames, start=first):
        partner = min(max(t - lag, 0), len(frames) + first - 1)
        code = decode_frame(frame)
        expected = ("same", None, None) if partner == t else ("pair", t, partner)
        assert (code.kind, code.frame, code.partner) == expected, f"frame {t}: {code}"


@pytest.fixture(scope="module")
def lossless_clip(tmp_path_factory, small_clip) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "walk.mkv", small_clip)


@pytest.fixture(scope="module")
def clip_with_audio(tmp_path_factory, lossless_clip) -> Path:
    """The 30-frame clip with ticks as H.264 + AAC, encoded by Blender."""
    from vse_helpers import encode_with_sound

    folder = tmp_path_factory.mktemp("audio")
    write_tick_track(folder / "ticks.wav", 2.0)
    summary = encode_with_sound(lossless_clip, folder / "ticks.wav", folder / "clip.mp4")
    assert summary.has_audio and summary.frame_count == 30
    return folder / "clip.mp4"


def assert_clean_failure(result: subprocess.CompletedProcess, code: int, message: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("motion_extract: error: ") and message in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_render_to_lossless_file_pairs_frames_exactly(lossless_clip, tmp_path):
    output = tmp_path / "motion.mkv"
    result = run_cli(lossless_clip, "-o", output, "--offset", "4")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {output}"
    frames = read_all(output)
    assert len(frames) == 30
    assert media.open_source(output).fps == pytest.approx(24.0, abs=0.01)
    for t, frame in enumerate(frames):
        code = decode_frame(frame)
        expected_partner = max(t - 4, 0)
        if t == expected_partner:
            assert code.kind == "same"
        else:
            assert (code.kind, code.frame, code.partner) == ("pair", t, expected_partner)


def test_default_output_name_sits_next_to_the_input(lossless_clip):
    expected = lossless_clip.parent / "walk_motion_difference_freeze3.mkv"
    result = run_cli(lossless_clip, "--mode", "freeze", "--reference", "3", "--look", "difference")
    assert result.returncode == 0, result.stderr
    assert expected.exists()
    again = run_cli(lossless_clip, "--mode", "freeze", "--reference", "3", "--look", "difference")
    assert_clean_failure(again, 1, "already exists")
    assert run_cli(lossless_clip, "--mode", "freeze", "--reference", "3", "--look", "difference",
                   "--overwrite").returncode == 0


@pytest.mark.parametrize("url, name", [
    ("http://127.0.0.1:8765/cup.mp4?x=1&y=a/b", "cup"),  # the path's last name, not the query's
    ("rtsp://cam.local:554/live/stream1", "stream1"),
    ("http://host:80/my%20clip.mkv#t=3", "my_clip"),
    ("https://host/", "host"),
])
def test_a_streams_default_output_is_named_after_its_path(url, name):
    assert cli.default_output(url, Settings(), (None, None), False) == Path(f"{name}_motion_gray_shift1.mp4")


@pytest.mark.parametrize("options", [["--offset", "3"], ["--offset", "-2"], ["--mode", "freeze", "--reference", "20"]])
def test_chunks_rendered_separately_equal_the_whole(lossless_clip, tmp_path, options):
    assert run_cli(lossless_clip, "-o", tmp_path / "whole.mkv", *options).returncode == 0
    chunks = []
    for index, frames in enumerate([":9", "9:20", "20:"]):
        chunk = tmp_path / f"chunk{index}.mkv"
        result = run_cli(lossless_clip, "-o", chunk, "--frames", frames, *options)
        assert result.returncode == 0, result.stderr
        chunks += read_all(chunk)
    whole = read_all(tmp_path / "whole.mkv")
    assert len(chunks) == len(whole) == 30
    for index, (a, b) in enumerate(zip(chunks, whole, strict=True)):
        assert np.array_equal(a, b), f"frame {index}"


def test_image_sequence_in_and_out(small_clip, tmp_path):
    frames_dir = tmp_path / "frames"
    write_clip(frames_dir / "%04d.png", small_clip)
    result = run_cli(frames_dir / "%04d.png", "-o", tmp_path / "out" / "m_%05d.png", "--offset", "2")
    assert result.returncode == 0, result.stderr
    written = files_in(tmp_path / "out")
    assert written == [f"m_{index:05d}.png" for index in range(30)]
    code = decode_frame(cv2.imread(str(tmp_path / "out" / "m_00010.png")))
    assert (code.frame, code.partner) == (10, 8)


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    clip = SampleClip(width=160, height=90, frame_count=20)
    text = folder / "notes.mp4"
    text.write_text("this is not a video\n")
    movie = write_clip(folder / "full.mp4", clip)
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(movie.read_bytes()[: movie.stat().st_size // 2])
    one_frame = write_clip(folder / "one.mkv", SampleClip(width=160, height=90, frame_count=1))
    zero_frames = folder / "zero.mp4"
    writer = cv2.VideoWriter(str(zero_frames), cv2.VideoWriter_fourcc(*"mp4v"), 24, (160, 90))
    writer.release()
    damaged = folder / "damaged"  # an image folder with one PNG cut short
    damaged.mkdir()
    for index in range(6):
        frame = cv2.resize(clip.frame(index), (320, 180))  # big enough for the cut to land in the pixels
        cv2.imwrite(str(damaged / f"{index:04d}.png"), frame)
    cut = damaged / "0003.png"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    return {"text": text, "movie": movie, "truncated": truncated, "one": one_frame, "zero": zero_frames,
            "damaged": damaged}


@pytest.mark.parametrize(
    "case, extra, code, message",
    [
        ("missing", [], 1, "no such file"),
        ("text", [], 1, "notes.mp4"),
        ("truncated", [], 1, "truncated.mp4"),
        ("zero", [], 1, "zero.mp4"),
        ("damaged", [], 1, "0003.png: the PNG file is cut short"),  # before libpng prints its own lines
        ("one", [], 1, "offset 1 is out of range for a 1-frame clip"),  # the input: the defaults cannot render it
        ("movie", ["--offset", "20"], 2, "offset 20 is out of range for a 20-frame clip"),
        ("movie", ["--offset", "-25"], 2, "offset -25 is out of range"),
        ("movie", ["--mode", "freeze", "--reference", "20"], 2, "reference frame 20 is outside the clip"),
        ("movie", ["--mix", "1.5"], 2, "mix must be between 0 and 1"),
        ("movie", ["--look", "sepia"], 2, "invalid choice: 'sepia'"),
        ("movie", ["--frames", "5:50"], 2, "frame range 5:50 is outside the output"),
        ("movie", ["--frames", "x"], 2, "invalid frame range"),
        ("movie", ["--frames=:0"], 2, "empty frame range ':0'"),
        ("movie", ["--max-memory", "lots"], 2, "invalid size"),
        ("movie", ["--flow-legend"], 2, "--flow-legend applies with --look flow only"),
        ("movie", ["--print-ffmpeg", "--frames", "2:5"], 2, "--print-ffmpeg prints the command for the whole clip"),
        ("movie", ["--blue-delay", "3"], 2, "--blue-delay applies with --time-colour only"),
        ("movie", ["--look", "difference", "--mix", "0.3"], 2, "--mix applies with --look gray only"),
        ("movie", ["--glow-radius", "3"], 2, "--glow-radius applies with --glow above 0 only"),
        ("movie", ["--matte-threshold", "5"], 2, "--matte-threshold applies with --look matte only"),
    ],
)
@pytest.mark.parametrize("engine", ["exact", "vse"])
def test_bad_input_gets_one_clear_line(bad_inputs, tmp_path, engine, case, extra, code, message):
    source = bad_inputs.get(case, tmp_path / "missing.mp4")
    output = tmp_path / "out.mkv"
    result = run_cli(source, "-o", output, "--engine", engine, *extra)
    assert_clean_failure(result, code, message)
    assert files_in(tmp_path) == []


def test_help_prints_image_patterns_as_they_are_typed():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "out/%05d.png" in " ".join(result.stdout.split()) and "%%" not in result.stdout


@pytest.mark.parametrize("engine", ["exact", "vse"])
def test_output_equal_to_input_is_refused_and_the_input_kept(bad_inputs, engine):
    movie = bad_inputs["movie"]
    before = movie.read_bytes()
    for extra in ([], ["--overwrite"]):
        result = run_cli(movie, "-o", movie, "--engine", engine, *extra)
        assert_clean_failure(result, 2, f"output {movie} would overwrite the input: choose another output path")
    assert movie.read_bytes() == before


@pytest.mark.parametrize("engine", ["exact", "vse"])
def test_output_over_an_input_image_sequence_is_a_bad_argument_as_for_a_movie(tmp_path, engine):
    folder = tmp_path / "images"
    folder.mkdir()
    for index, frame in enumerate(SampleClip(width=128, height=72, frame_count=4).read_from(0)):
        assert cv2.imwrite(str(folder / f"{index:05d}.png"), frame)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    output = folder / "%05d.png"
    for given in (folder, output):
        for extra in ([], ["--overwrite"]):
            result = run_cli(given, "-o", output, "--engine", engine, *extra)
            assert_clean_failure(result, 2, f"output {output} would overwrite the input: choose another output path")
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


@pytest.mark.parametrize("engine", ["exact", "vse"])
def test_unwritable_output_directory(bad_inputs, tmp_path, engine):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file where a folder should be")
    result = run_cli(bad_inputs["movie"], "-o", blocker / "out.mkv", "--engine", engine)
    assert_clean_failure(result, 1, "cannot write to")
    assert files_in(tmp_path) == ["file.txt"]


def test_no_input_is_a_usage_error():
    assert_clean_failure(run_cli(), 2, "no input given")


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("long") / "long.mkv", SampleClip(width=640, height=360, frame_count=400))


@pytest.mark.parametrize("engine, name, signum", [
    ("exact", "motion.mkv", signal.SIGINT), ("vse", "motion.mp4", signal.SIGINT), ("vse", "motion.mp4", signal.SIGTERM),
])
def test_interrupted_render_leaves_nothing_behind(long_clip, tmp_path, engine, name, signum):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # A background job of a script (test.sh runs Blender 5.1 and 5.2 so) starts with Ctrl-C ignored, and a
    # command inherits that, as it should: give the render the terminal's default, as a user's shell does.
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(long_clip), "-o", str(out_dir / name), "--engine", engine],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not os.listdir(out_dir) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    assert process.poll() is None, "the render finished before it could be interrupted"
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum  # 130 for Ctrl-C, 143 for SIGTERM, as a shell reports them
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert files_in(out_dir) == []


def test_sizes_and_blender_style_arguments(monkeypatch):
    assert parse_size("512M") == 512 << 20
    assert parse_size("1.5GiB") == int(1.5 * (1 << 30))
    assert parse_size("1000") == 1000
    argv = ["blender", "-b", "--python", "scripts/motion_extract.py", "--", "in.mp4", "--offset", "3"]
    monkeypatch.delitem(sys.modules, "bpy", raising=False)
    assert script_arguments(["motion_extract.py", "in.mp4"]) == ["in.mp4"]
    monkeypatch.setitem(sys.modules, "bpy", object())
    assert script_arguments(argv) == ["in.mp4", "--offset", "3"]


def run_like_blender(*args: str | os.PathLike, block_opencv: bool = False) -> subprocess.CompletedProcess:
    """The script run by the bpy module with Blender's argument layout (``blender -b --python S -- ...``)."""
    block = "sys.modules['cv2'] = None; " if block_opencv else ""
    argv = ["blender", "-b", "--python", str(SCRIPT), "--", *map(str, args)]
    code = (
        f"import sys; {block}import bpy, runpy; sys.argv = {argv!r}; "
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    # Started as from a shell: the bpy these tests import (5.1 on) puts $OCIO in this process's environment,
    # and a child importing bpy with it set logs "Using OCIO=..." before the script runs (Blender's start-up).
    env = {name: value for name, value in os.environ.items() if name != "OCIO"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)


def test_runs_as_a_blender_python_script(lossless_clip, tmp_path):
    output = tmp_path / "motion.mkv"
    result = run_like_blender(lossless_clip, "-o", output, "--offset", "2")
    assert result.returncode == 0, result.stderr
    assert len(read_all(output)) == 30


# --- the VSE engine --------------------------------------------------------------------------


@pytest.mark.parametrize("requested, engine", [("auto", "exact"), ("exact", "exact"), ("vse", "vse")])
def test_auto_is_the_exact_engine_for_every_output(requested, engine):
    args = cli.build_parser().parse_args(["in.mp4"])
    assert cli.choose_engine(requested, args) == engine


def test_the_vse_engine_refuses_the_exact_engines_movie_options_and_outputs_keep_a_writable_extension(tmp_path):
    for flags in (["--codec", "h265"], ["--crf", "18"], ["--encoder-preset", "fast"]):
        with pytest.raises(cli.UsageError, match="--engine vse uses Blender's encoder settings"):
            cli.choose_engine("vse", cli.build_parser().parse_args(["in.mp4", *flags]))
    settings = cli.Settings()
    for name, engine, expected in [("a.mov", "auto", ".mov"), ("a.mov", "exact", ".mov"), ("a.avi", "auto", ".avi"),
                                   ("a.avi", "vse", ".mp4"), ("a.webm", "auto", ".webm"), ("a.m4v", "auto", ".mp4")]:
        (tmp_path / name).write_bytes(b"")
        output = cli.default_output(tmp_path / name, settings, (None, None), False, engine)
        assert output.suffix == expected, (name, engine)


def test_vse_mp4_is_h264_with_the_inputs_frames_fps_and_audio(clip_with_audio):
    """The default for an .mp4 input: H.264 + AAC through the rig, and nothing but ``wrote PATH`` on stdout."""
    expected = clip_with_audio.parent / "clip_motion_gray_shift1.mp4"
    result = run_cli(clip_with_audio.name, "--progress", cwd=clip_with_audio.parent)  # relative paths too
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {expected.name}\n"
    assert "30/30 frames" in result.stderr
    assert fourcc(expected) in (b"avc1", b"h264", b"H264")
    source, motion = media.open_source(clip_with_audio), media.open_source(expected)
    assert motion.frame_count == source.frame_count == 30 == len(read_all(expected))
    assert motion.fps == pytest.approx(source.fps) and motion.fps == pytest.approx(24.0)
    assert has_audio(clip_with_audio) and has_audio(expected)


def test_vse_mp4_of_a_silent_input_has_no_audio(lossless_clip, tmp_path):
    output = tmp_path / "silent.mp4"
    result = run_cli(lossless_clip, "-o", output, "--engine", "vse", "--offset", "3")
    assert result.returncode == 0, result.stderr
    assert fourcc(output) in (b"avc1", b"h264", b"H264") and len(read_all(output)) == 30
    assert not has_audio(output)


@pytest.mark.parametrize("options, lag", [(["--offset", "4"], 4), (["--offset", "-3", "--edges", "trim"], None)])
def test_vse_chunks_pick_the_frames_of_the_exact_engine(lossless_clip, tmp_path, options, lag):
    assert run_cli(lossless_clip, "-o", tmp_path / "exact.mkv", "--engine", "exact", *options).returncode == 0
    exact = read_all(tmp_path / "exact.mkv")
    chunks = []
    for index, frames in enumerate([":9", "9:"]):
        chunk = tmp_path / f"chunk{index}.mkv"
        result = run_cli(lossless_clip, "-o", chunk, "--engine", "vse", "--frames", frames, *options)
        assert result.returncode == 0, result.stderr
        chunks += read_all(chunk)
    assert len(chunks) == len(exact) == (30 if lag else 27)
    for index, (a, b) in enumerate(zip(chunks, exact, strict=True)):
        assert np.array_equal(a, b), f"frame {index}"  # a lossless input decodes alike in Blender and OpenCV
    if lag:
        assert_pairs(chunks, 0, lag)


def test_sequence_chunks_of_both_engines_share_one_numbering(lossless_clip, tmp_path):
    pattern = tmp_path / "seq" / "m_%04d.png"
    for engine, frames in (("vse", "10:20"), ("vse", ":10"), ("exact", "20:")):
        result = run_cli(lossless_clip, "-o", pattern, "--engine", engine, "--frames", frames, "--offset", "2")
        assert result.returncode == 0, result.stderr
    assert files_in(pattern.parent) == [f"m_{index:04d}.png" for index in range(30)]
    assert_pairs([cv2.imread(str(pattern).replace("%04d", f"{index:04d}")) for index in range(30)], 0, 2)
    again = run_cli(lossless_clip, "-o", pattern, "--engine", "vse", "--frames", "5:12", "--offset", "2")
    assert_clean_failure(again, 1, "7 frame files already exist")


def test_blend_file_with_a_rig_renders_to_the_default_output(lossless_clip, tmp_path):
    import bpy
    from vse_helpers import new_scene

    from blender_addon.core.settings import Settings
    from blender_addon.vse.rig.build import build_rig

    scene = new_scene()
    strip = scene.sequence_editor.strips.new_movie(name="walk", filepath=str(lossless_clip), channel=1, frame_start=1)
    build_rig(scene, strip, Settings(offset=2))
    scene.frame_start, scene.frame_end = 1, 30
    blend = tmp_path / "edit.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))

    result = run_cli("--blend", blend, "--frames", "5:")
    expected = tmp_path / "edit_render_frames5-end.mp4"
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {expected}\n"
    assert fourcc(expected) in (b"avc1", b"h264", b"H264")
    assert_pairs(read_all(expected), 5, 2)
    lossless = tmp_path / "edit.mkv"
    assert run_cli("--blend", blend, "-o", lossless).returncode == 0
    assert_pairs(read_all(lossless), 0, 2)

    refused = run_cli("--blend", blend, "-o", tmp_path / "x.mp4", "--offset", "3", "--glow-radius", "2")
    assert_clean_failure(refused, 2, "--offset, --glow-radius: effect options do not apply to --blend")
    exact = run_cli("--blend", blend, "--engine", "exact", "-o", tmp_path / "x.mp4")
    assert_clean_failure(exact, 2, "use --engine vse")
    assert_clean_failure(run_cli("--blend", tmp_path / "none.blend"), 1, "none.blend: no such file")
    assert_clean_failure(run_cli("--blend", blend, "--frames", "25:40"), 2, "frame range 25:40 is outside the output")
    assert sorted(files_in(tmp_path)) == ["edit.blend", "edit.mkv", "edit_render_frames5-end.mp4"]


def test_vse_engine_under_blender_needs_no_opencv(lossless_clip, tmp_path):
    """A real Blender has no OpenCV: the vse path must not import it (cv2 is blocked here)."""
    output = tmp_path / "motion.mp4"
    result = run_like_blender(lossless_clip, "-o", output, "--offset", "2", "--engine", "vse", block_opencv=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {output}\n"
    assert len(read_all(output)) == 30


def test_stdout_holds_only_the_written_path_when_importing_bpy_logs(lossless_clip, tmp_path):
    """A process Blender starts inherits $OCIO, and with it set importing bpy logs "Using OCIO=..." on stdout."""
    import importlib.util

    bpy_folder = Path(importlib.util.find_spec("bpy").origin).parent
    config = next(bpy_folder.glob("*/datafiles/colormanagement/config.ocio"))
    output = tmp_path / "motion.mkv"
    result = run_cli(lossless_clip, "-o", output, "--engine", "vse", "--offset", "2",
                     env={**os.environ, "OCIO": str(config)})
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {output}\n"


def test_without_bpy_the_default_mp4_is_h264_and_the_vse_engine_is_refused_clearly(lossless_clip, tmp_path):
    output = tmp_path / "motion.mp4"
    code = (
        "import sys, runpy; sys.modules['bpy'] = None; "
        f"sys.argv = [{str(SCRIPT)!r}, {str(lossless_clip)!r}, '-o', {str(output)!r}] + sys.argv[1:]; "
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "bpy" not in result.stderr
    assert fourcc(output) in (b"avc1", b"h264", b"H264")
    forced = subprocess.run([sys.executable, "-c", code, "--engine", "vse", "--overwrite"],
                            capture_output=True, text=True, timeout=120)
    assert_clean_failure(forced, 1, "the vse engine runs inside Blender")


def test_a_render_on_this_machine_starts_and_ends_lean(lossless_clip, tmp_path):
    """The script's start-up: the cluster front end (and Dask) is imported only for ``--cluster``, and numpy's
    OpenBLAS gets one thread unless the environment asks for more; the objects of the modules imported before
    the render are frozen out of the garbage collector's walks (the render's and the exit's)."""
    output = tmp_path / "motion.mp4"
    code = (
        "import os, sys, runpy; "
        f"sys.argv = [{str(SCRIPT)!r}, {str(lossless_clip)!r}, '-o', {str(output)!r}, '-q', '--overwrite']; "
        "code = 0\n"
        "try:\n"
        f"    runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
        "except SystemExit as end:\n"
        "    code = end.code\n"
        "import gc\n"
        "print(code, os.environ.get('OPENBLAS_NUM_THREADS'), gc.get_freeze_count() > 10000, sorted(name for name in\n"
        "      sys.modules if name.startswith(('blender_addon.cluster', 'distributed', 'dask'))))"
    )
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "1", "True", "[]"]
    assert fourcc(output) in (b"avc1", b"h264", b"H264")
    asked = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                           env={**environment, "OPENBLAS_NUM_THREADS": "2"})
    assert asked.stdout.split(maxsplit=2)[:2] == ["0", "2"], asked.stderr
    asked = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                           env={**environment, "OMP_NUM_THREADS": "2"})  # which OpenBLAS reads too
    assert asked.stdout.split(maxsplit=2)[:2] == ["0", "None"], asked.stderr


# --- options generated from the settings table ------------------------------------------------


def test_bool_options_and_dashed_names_in_the_parser_and_the_panel():
    parser = cli.build_parser()
    args = parser.parse_args(["in.mp4", "--time-colour", "--glow-radius", "3", "--red-delay", "2"])
    assert (args.time_colour, args.glow_radius, args.red_delay) == (True, 3.0, 2)
    settings = cli.settings_from_args(args)
    assert settings.time_colour is True and settings.glow_radius == 3.0 and settings.mix == 0.5
    assert parser.parse_args(["in.mp4", "--no-time-colour"]).time_colour is False
    assert cli.settings_from_args(parser.parse_args(["in.mp4"])).time_colour is False
    assert "--time-colour, --no-time-colour" in parser.format_help()
    with pytest.raises(cli.UsageError):
        parser.parse_args(["in.mp4", "--glow_radius", "3"])

    import bpy

    from blender_addon.ui import props

    flag = props._property(OPTIONS_BY_NAME["time_colour"])
    assert flag.function is bpy.props.BoolProperty and flag.keywords["default"] is False
    assert props._property(OPTIONS_BY_NAME["glow_radius"]).function is bpy.props.FloatProperty
    single_precision = float(np.float32(0.99))  # what a FloatProperty set to 0.99 reads back
    assert props._from_property(OPTIONS_BY_NAME["trails"], single_precision) == 0.99
    assert props._from_property(OPTIONS_BY_NAME["time_colour"], True) is True


@pytest.mark.parametrize("engine", ["exact", "vse"])
def test_new_looks_through_the_command_line(lossless_clip, tmp_path, engine):
    output = tmp_path / "side.mkv"
    result = run_cli(lossless_clip, "-o", output, "--engine", engine, "--time-colour", "--offset", "2",
                     "--layout", "side")
    assert result.returncode == 0, result.stderr
    source = media.open_source(output)
    assert (source.width, source.height, source.frame_count) == (320, 90, 30)


def test_presets_are_listed_and_explicit_options_override_them():
    from blender_addon.cli import build_parser, settings_from_args
    from blender_addon.core.presets import PRESETS, preset_settings

    listing = run_cli("--list-presets")
    assert listing.returncode == 0
    for name in PRESETS:
        assert any(line.startswith(name) for line in listing.stdout.splitlines())
    args = build_parser().parse_args(["in.mp4", "--preset", "glow", "--amplify", "5", "--no-time-colour"])
    assert settings_from_args(args) == preset_settings("glow", amplify=5.0)
    assert_clean_failure(run_cli("in.mp4", "--preset", "sparkle"), 2, "invalid choice: 'sparkle'")


def test_print_ffmpeg_prints_a_command_and_renders_nothing(lossless_clip, tmp_path):
    output = tmp_path / "motion.mp4"
    result = run_cli(lossless_clip, "-o", output, "--preset", "glow", "--print-ffmpeg")
    assert result.returncode == 0, result.stderr
    arguments = shlex.split(result.stdout)
    assert arguments[:3] == ["ffmpeg", "-i", str(lossless_clip)] and arguments[-1] == str(output)
    assert "gblur=sigma=10" in result.stdout
    assert "note: glow" in result.stderr
    assert not output.exists()


def test_odd_frame_sizes_fail_cleanly_in_blender_and_are_padded_by_the_exact_engine(tmp_path):
    frames_dir = tmp_path / "frames"
    write_clip(frames_dir / "%03d.png", SampleClip(width=161, height=91, frame_count=6))
    result = run_cli(frames_dir / "%03d.png", "-o", tmp_path / "out.mp4", "--engine", "vse")
    assert_clean_failure(result, 1, "needs an even width and height, not 161x91")
    assert not (tmp_path / "out.mp4").exists()
    result = run_cli(frames_dir / "%03d.png", "-o", tmp_path / "out.mp4")
    assert result.returncode == 0, result.stderr
    written = media.open_source(tmp_path / "out.mp4")
    assert (written.width, written.height, written.frame_count) == (162, 92, 6)


# --- the two engines on H.264 ------------------------------------------------------------------


def _h264_inputs(folder: Path) -> list[Path]:
    """The sample clip encoded to H.264 by our writer, and a test pattern encoded by Debian's ffmpeg."""
    sample = folder / "sample.mp4"
    clip = SampleClip(width=320, height=180, frame_count=20, fps=30.0)
    with media.open_writer(sample, clip.fps, clip.width, clip.height) as writer:
        for frame in clip.read_from(0):
            writer.write(frame)
    pattern = folder / "pattern.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=0.8", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", "-bf", "2", "-g", "8", str(pattern)],
        check=True, timeout=60,
    )
    return [sample, pattern]


def test_the_engines_agree_on_h264_inputs_within_one_level(tmp_path):
    """Both engines decode H.264 the same way (FFmpeg's 4:2:0 planes, BT.601): max 1 level, mean below 0.1."""
    for clip in _h264_inputs(tmp_path):
        renders = {}
        for engine in ("exact", "vse"):
            folder = tmp_path / f"{clip.stem}_{engine}"
            result = run_cli(clip, "-o", folder / "%04d.png", "--engine", engine, "--offset", "2", "-q")
            assert result.returncode == 0, result.stderr
            renders[engine] = [cv2.imread(str(folder / name)) for name in files_in(folder)]
        assert len(renders["exact"]) == len(renders["vse"]) == media.open_source(clip).frame_count
        differences = [np.abs(a.astype(np.int16) - b) for a, b in zip(renders["exact"], renders["vse"], strict=True)]
        assert max(int(d.max()) for d in differences) <= 1, clip.name
        assert np.mean([d.mean() for d in differences]) < 0.1, clip.name
