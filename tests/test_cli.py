"""The command line end to end: outputs, chunks, and one clear line for every bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from blender_addon import video_io
from blender_addon.cli import parse_size, script_arguments
from blender_addon.core.sample_clip import SampleClip, decode_frame

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "motion_extract.py"


def run_cli(*args: str | os.PathLike, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120, **kwargs
    )


def write_clip(path: Path, clip: SampleClip) -> Path:
    with video_io.open_writer(path, clip.fps, clip.width, clip.height) as writer:
        for frame in clip.read_from(0):
            writer.write(frame)
    return path


def read_all(path: Path) -> list[np.ndarray]:
    source = video_io.open_source(path)
    return list(source.read_from(0))


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.fixture(scope="module")
def lossless_clip(tmp_path_factory, small_clip) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "walk.mkv", small_clip)


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
    assert video_io.open_source(output).fps == pytest.approx(24.0, abs=0.01)
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
    return {"text": text, "movie": movie, "truncated": truncated, "one": one_frame, "zero": zero_frames}


@pytest.mark.parametrize(
    "case, extra, code, message",
    [
        ("missing", [], 1, "no such file"),
        ("text", [], 1, "notes.mp4"),
        ("truncated", [], 1, "truncated.mp4"),
        ("zero", [], 1, "zero.mp4"),
        ("one", [], 2, "offset 1 is out of range for a 1-frame clip"),
        ("movie", ["--offset", "20"], 2, "offset 20 is out of range for a 20-frame clip"),
        ("movie", ["--offset", "-25"], 2, "offset -25 is out of range"),
        ("movie", ["--mode", "freeze", "--reference", "20"], 2, "reference frame 20 is outside the clip"),
        ("movie", ["--mix", "1.5"], 2, "mix must be between 0 and 1"),
        ("movie", ["--look", "sepia"], 2, "invalid choice: 'sepia'"),
        ("movie", ["--frames", "5:50"], 2, "frame range 5:50 is outside the output"),
        ("movie", ["--frames", "x"], 2, "invalid frame range"),
        ("movie", ["--max-memory", "lots"], 2, "invalid size"),
    ],
)
def test_bad_input_gets_one_clear_line(bad_inputs, tmp_path, case, extra, code, message):
    source = bad_inputs.get(case, tmp_path / "missing.mp4")
    output = tmp_path / "out.mkv"
    result = run_cli(source, "-o", output, *extra)
    assert_clean_failure(result, code, message)
    assert files_in(tmp_path) == []


def test_output_equal_to_input_is_refused_and_the_input_kept(bad_inputs):
    movie = bad_inputs["movie"]
    before = movie.read_bytes()
    for extra in ([], ["--overwrite"]):
        result = run_cli(movie, "-o", movie, *extra)
        assert_clean_failure(result, 2, "is the input")
    assert movie.read_bytes() == before


def test_unwritable_output_directory(bad_inputs, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file where a folder should be")
    result = run_cli(bad_inputs["movie"], "-o", blocker / "out.mkv")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert files_in(tmp_path) == ["file.txt"]


def test_no_input_is_a_usage_error():
    assert_clean_failure(run_cli(), 2, "no input given")


def test_interrupted_render_leaves_nothing_behind(tmp_path):
    clip = SampleClip(width=640, height=360, frame_count=400)
    movie = write_clip(tmp_path / "long.mkv", clip)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(movie), "-o", str(out_dir / "motion.mkv")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not os.listdir(out_dir) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    assert process.poll() is None, "the render finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
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


def test_runs_as_a_blender_python_script(lossless_clip, tmp_path):
    """The script under the bpy module, with Blender's argument layout."""
    output = tmp_path / "motion.mkv"
    code = (
        "import bpy, runpy, sys; "
        f"sys.argv = ['blender', '-b', '--python', {str(SCRIPT)!r}, '--', {str(lossless_clip)!r}, "
        f"'-o', {str(output)!r}, '--offset', '2']; "
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(read_all(output)) == 30
