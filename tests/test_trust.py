"""Outputs users can trust: full disks, races, leftovers, damaged inputs and closed pipes, in both engines."""

from __future__ import annotations

import os
import random
import shlex
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from blender_addon import media
from blender_addon.core.sample_clip import SampleClip
from blender_addon.media import publish

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "motion_extract.py"
ENGINES = ["exact", "vse"]


def run_cli(*args: str | os.PathLike, **kwargs) -> subprocess.CompletedProcess:
    command = [sys.executable, str(SCRIPT), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=240, **kwargs)


def assert_one_line_failure(result: subprocess.CompletedProcess, message: str = "") -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("motion_extract: error: "), result.stderr
    assert message in lines[0], lines[0]
    assert result.stdout == ""


def write_movie(path: Path, clip: SampleClip, **options) -> Path:
    with media.open_writer(path, clip.fps, clip.width, clip.height, **options) as writer:
        for frame in clip.read_from(0):
            writer.write(frame)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """An H.264 clip: 30 frames of 160x90."""
    return write_movie(tmp_path_factory.mktemp("trust") / "clip.mp4", SampleClip(160, 90, frame_count=30, fps=25.0))


@pytest.fixture(scope="module")
def big_clip(tmp_path_factory) -> Path:
    """An H.264 clip whose lossless render (FFV1, PNG, ProRes) is far larger than :func:`full_disk`."""
    return write_movie(tmp_path_factory.mktemp("trust") / "big.mp4", SampleClip(320, 180, frame_count=60, fps=25.0))


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs: room for a small file, not for a lossless render."""
    folder = tmp_path / "full"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True)
    assert mounted.returncode == 0, f"the tests run as root so they can mount a tmpfs: {mounted.stderr!r}"
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


# --- full disks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine, name", [
    ("exact", "out.mkv"), ("exact", "out.mov"), ("exact", "f_%03d.png"),
    ("vse", "out.mkv"), ("vse", "f_%03d.png"),
])
def test_a_full_disk_is_an_error_and_leaves_nothing(big_clip, full_disk, engine, name):
    result = run_cli(big_clip, "-o", full_disk / name, "--engine", engine)
    assert_one_line_failure(result, "the disk is full")
    assert os.listdir(full_disk) == []


def test_a_render_that_fits_on_a_nearly_full_disk_is_complete(clip, full_disk):
    output = full_disk / "small.mp4"
    result = run_cli(clip, "-o", output)
    assert result.returncode == 0, result.stderr
    assert media.open_source(output).frame_count == 30
    assert os.listdir(full_disk) == ["small.mp4"]


def test_a_writer_that_fails_part_way_publishes_nothing(tmp_path, monkeypatch):
    """Without a tmpfs: the container's trailer cannot be written (as on a full disk)."""
    clip = SampleClip(128, 72, frame_count=5, fps=25.0)
    writer = media.open_writer(tmp_path / "out.mp4", clip.fps, clip.width, clip.height)
    with pytest.raises(media.MediaError, match="the disk is full"):
        with writer:
            for frame in clip.read_from(0):
                writer.write(frame)
            monkeypatch.setattr(publish, "flush_to_disk", _raise_disk_full)
    assert os.listdir(tmp_path) == []


def _raise_disk_full(path: str) -> None:
    raise media.MediaError(f"{path}: the disk is full")


# --- races and overwrites ------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_two_renders_to_one_path_one_wins_the_other_fails_clearly(clip, tmp_path, engine):
    output = tmp_path / "race.mkv"
    command = [sys.executable, str(SCRIPT), str(clip), "-o", str(output), "--engine", engine]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen([*command, "--offset", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = [(process.wait(240), *process.communicate()) for process in (first, second)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    loser = next(error for code, _, error in results if code)
    assert "already exists" in loser or "appeared while rendering" in loser
    assert "Traceback" not in loser
    assert media.open_source(output).frame_count == 30
    assert sorted(os.listdir(tmp_path)) == ["race.mkv"]


def test_publishing_never_replaces_a_file_that_appeared_unless_overwrite(tmp_path):
    temp = tmp_path / ".x.partial"
    temp.write_bytes(b"new")
    target = tmp_path / "x.mp4"
    target.write_bytes(b"someone else's")
    with pytest.raises(media.MediaError, match="appeared while rendering"):
        publish.publish(str(temp), str(target), overwrite=False)
    assert target.read_bytes() == b"someone else's" and temp.exists()
    publish.publish(str(temp), str(target), overwrite=True)
    assert target.read_bytes() == b"new" and not temp.exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_overwriting_a_numbered_sequence_removes_the_old_renders_extra_frames(clip, tmp_path, engine):
    pattern = tmp_path / "frames" / "m_%04d.png"
    assert run_cli(clip, "-o", pattern, "--engine", engine).returncode == 0
    assert len(os.listdir(pattern.parent)) == 30
    result = run_cli(clip, "-o", pattern, "--engine", engine, "--edges", "trim", "--offset", "5", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(pattern.parent)) == [f"m_{number:04d}.png" for number in range(25)]


def test_overwriting_one_chunk_keeps_the_other_chunks(clip, tmp_path):
    pattern = tmp_path / "m_%04d.png"
    assert run_cli(clip, "-o", pattern).returncode == 0
    assert run_cli(clip, "-o", pattern, "--frames", "10:20", "--overwrite").returncode == 0
    assert len(os.listdir(tmp_path)) == 30


def test_overwrite_onto_a_folder_fails_before_rendering(clip, tmp_path):
    (tmp_path / "folder").mkdir()
    assert_one_line_failure(run_cli(clip, "-o", tmp_path / "folder", "--overwrite"), "is a folder")
    assert os.listdir(tmp_path / "folder") == []


# --- leftovers ----------------------------------------------------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_killed_renders_temporary_is_swept_by_the_next_render_and_a_live_ones_kept(clip, tmp_path):
    output = tmp_path / "out.mp4"
    dead = tmp_path / f".out.mp4.partial-{_dead_pid()}-0123abcd.mp4"
    live = tmp_path / f".out.mp4.partial-{os.getppid()}-4567cdef.mp4"
    dead_folder = tmp_path / f".m_%04d.png.partial-{_dead_pid()}-89abcdef"
    for leftover in (dead, live):
        leftover.write_bytes(b"half a movie")
    dead_folder.mkdir()
    (dead_folder / "frame_00000001.png").write_bytes(b"half")
    assert run_cli(clip, "-o", output).returncode == 0
    assert run_cli(clip, "-o", tmp_path / "m_%04d.png", "--frames", "0:2").returncode == 0
    assert not dead.exists() and not dead_folder.exists()
    assert live.exists()  # the parent of this test process still runs
    assert media.open_source(output).frame_count == 30


def test_a_killed_render_leaves_a_temporary_that_the_next_render_sweeps(tmp_path):
    slow = write_movie(tmp_path / "long.mkv", SampleClip(320, 180, frame_count=400, fps=25.0))
    output = tmp_path / "out.mkv"
    process = subprocess.Popen([sys.executable, str(SCRIPT), str(slow), "-o", str(output), "--progress"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stderr.readline()  # the first progress line: the render is under way
    process.kill()
    process.wait()
    leftovers = [name for name in os.listdir(tmp_path) if ".partial-" in name]
    assert leftovers, "a render killed with SIGKILL cannot clean up"
    result = run_cli(slow, "-o", output, "--frames", "0:3")
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path)) == ["long.mkv", "out.mkv"]


# --- inputs with gaps and surprises -------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_gap_in_a_numbered_sequence_is_named(tmp_path, engine):
    clip = SampleClip(128, 72, frame_count=12, fps=25.0)
    for index, frame in enumerate(clip.read_from(0)):
        if index != 7:
            assert cv2.imwrite(str(tmp_path / f"in_{index:03d}.png"), frame)
    result = run_cli(tmp_path / "in_%03d.png", "-o", tmp_path / "out.mkv", "--engine", engine)
    assert_one_line_failure(result, "in_007.png is missing")
    assert not (tmp_path / "out.mkv").exists()


def test_a_truncated_movie_is_said_and_never_padded(tmp_path):
    source = write_movie(tmp_path / "whole.mkv", SampleClip(160, 90, frame_count=30, fps=25.0), codec="h264")
    data = source.read_bytes()
    truncated = tmp_path / "cut.mkv"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    exact = run_cli(truncated, "-o", tmp_path / "exact.mkv")
    assert exact.returncode == 0, exact.stderr
    held = media.open_source(truncated).frame_count
    assert held < 30
    assert f"promises 30 frames but holds {held}" in exact.stderr
    assert media.open_source(tmp_path / "exact.mkv").frame_count == held
    vse = run_cli(truncated, "-o", tmp_path / "vse.mkv", "--engine", "vse")
    assert_one_line_failure(vse, "use --engine exact")
    assert not (tmp_path / "vse.mkv").exists()


def test_the_vse_engine_refuses_variable_frame_rates_and_transparency(tmp_path):
    vfr = tmp_path / "vfr.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=1.2", "-vf",
                    "setpts='PTS+if(gt(N,15),0.4/TB,0)'", "-fps_mode", "passthrough", "-c:v", "libx264", str(vfr)],
                   check=True, timeout=60)
    assert_one_line_failure(run_cli(vfr, "-o", tmp_path / "v.mp4", "--engine", "vse"), "variable frame rate")
    exact = run_cli(vfr, "-o", tmp_path / "v.mp4")
    assert exact.returncode == 0, exact.stderr
    assert media.open_source(tmp_path / "v.mp4").timestamps == media.open_source(vfr).timestamps
    alpha = tmp_path / "alpha.mov"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=0.4,format=rgba",
                    "-c:v", "qtrle", str(alpha)], check=True, timeout=60)
    assert_one_line_failure(run_cli(alpha, "-o", tmp_path / "a.mp4", "--engine", "vse"), "transparency")


def test_mixed_image_sizes_are_refused_in_both_engines(tmp_path):
    for index in range(6):
        size = (48, 64) if index != 3 else (50, 64)
        assert cv2.imwrite(str(tmp_path / f"{index:02d}.png"), np.full((*size, 3), 40 * index, np.uint8))
    for engine in ENGINES:
        assert_one_line_failure(run_cli(tmp_path / "%02d.png", "-o", tmp_path / f"{engine}.mkv", "--engine", engine),
                                "03.png: the image is 64x50")


# --- clear words -------------------------------------------------------------------------------


@pytest.mark.parametrize("arguments, message", [
    (["http://127.0.0.1:9/clip.mp4"], "http://127.0.0.1:9/clip.mp4: not a movie FFmpeg can read"),
    (["/dev/zero"], "/dev/zero: is a device or special file"),
    (["frames/%s.png"], "not a numbered pattern this reads"),
    (["{clip}", "--mode", "freeze", "--offset", "3"], "--offset applies with --mode shift only"),
    (["{clip}", "--reference", "3"], "--reference applies with --mode freeze only"),
    (["{clip}", "-o", "out.png"], "needs a frame number in its name"),
    (["{clip}", "-o", "out.mp4", "--codec", "prores"], ".mp4 takes --codec h264, h265, av1, mpeg4, not prores"),
    (["{clip}", "-o", "out.mp4", "--crf", "70"], "--crf for h264 is 0 to 51, not 70"),
    (["{clip}", "-o", "out.mp4", "--encoder-preset", "warp"], "--encoder-preset for h264 is one of"),
])
def test_clear_words_for_what_cannot_be_done(clip, tmp_path, arguments, message):
    result = run_cli(*[argument.format(clip=clip) for argument in arguments], cwd=tmp_path)
    assert_one_line_failure(result, message)
    assert os.listdir(tmp_path) == []


def test_a_long_output_name_that_fits_the_file_system_is_written(clip, tmp_path):
    output = tmp_path / ("m" * 250 + ".mp4")
    result = run_cli(clip, "-o", output)
    assert result.returncode == 0, result.stderr
    assert media.open_source(output).frame_count == 30


@pytest.mark.parametrize("redirect", ["| true", "> /dev/full"])
def test_a_closed_or_full_stdout_does_not_fail_a_finished_render(clip, tmp_path, redirect):
    output = tmp_path / "out.mp4"
    command = " ".join(map(shlex.quote, [sys.executable, str(SCRIPT), str(clip), "-o", str(output)])) + " " + redirect
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Exception" not in result.stderr
    assert media.open_source(output).frame_count == 30


def test_print_ffmpeg_on_an_image_folder_prints_a_command_that_runs(tmp_path):
    clip = SampleClip(128, 72, frame_count=10, fps=25.0)
    folder = tmp_path / "images"
    folder.mkdir()
    for index, frame in enumerate(clip.read_from(0)):
        assert cv2.imwrite(str(folder / f"img{index:03d}.png"), frame)
    for given in (folder, folder / "img%03d.png"):
        output = tmp_path / f"{Path(given).name.replace('%', '')}.mkv"
        printed = run_cli(given, "-o", output, "--print-ffmpeg")
        assert printed.returncode == 0, printed.stderr
        arguments = shlex.split(printed.stdout)
        subprocess.run([arguments[0], "-v", "error", *arguments[1:]], check=True, timeout=60)
        assert media.open_source(output).frame_count == 10


# --- fuzz ----------------------------------------------------------------------------------------


def test_broken_inputs_give_a_complete_output_or_one_line_and_none(clip, tmp_path):
    """Truncated at random offsets, corrupted bytes, wrong extensions: never a traceback, never a broken file."""
    rng = random.Random(20261130)
    sources = [clip, write_movie(tmp_path / "src.mkv", SampleClip(128, 72, frame_count=12, fps=25.0)),
               write_movie(tmp_path / "src.mov", SampleClip(128, 72, frame_count=12, fps=25.0))]
    cases = []
    for source in sources:
        data = source.read_bytes()
        for _ in range(4):
            cases.append((source.suffix, data[: rng.randrange(1, len(data))]))
        for _ in range(4):
            corrupted = bytearray(data)
            for _ in range(rng.randrange(1, 40)):
                corrupted[rng.randrange(len(corrupted))] = rng.randrange(256)
            cases.append((source.suffix, bytes(corrupted)))
        cases.append((".png", data))
        cases.append((".mp4", os.urandom(3000)))
    for number, (suffix, data) in enumerate(cases):
        broken = tmp_path / f"broken{number}{suffix}"
        broken.write_bytes(data)
        output = tmp_path / f"out{number}.mkv"
        result = run_cli(broken, "-o", output)
        assert "Traceback" not in result.stderr, (broken, result.stderr)
        if result.returncode == 0:
            written = media.open_source(output)
            assert written.frame_count >= 1
            assert len([written.expand(frame) for frame in written.read_from(0)]) == written.frame_count
        else:
            assert_one_line_failure(result)
            assert not output.exists()
    assert not [name for name in os.listdir(tmp_path) if ".partial-" in name]


# --- sound that starts late, and bad names with sound ---------------------------------------------


@pytest.fixture(scope="module")
def late_sound(tmp_path_factory) -> Path:
    """Pictures from 0 s, a tone from 0.5 s (AAC, as cameras and editors leave it)."""
    path = tmp_path_factory.mktemp("late") / "late.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2", "-itsoffset", "0.5",
                    "-f", "lavfi", "-i", "sine=f=440:d=1.5", "-c:v", "libx264", "-c:a", "aac", str(path)],
                   check=True, timeout=60)
    return path


def _sound_onset(path: Path) -> float:
    """Seconds from the first picture to the first audible sample."""
    import av

    with av.open(str(path)) as container:
        video_start = float(container.streams.video[0].start_time * container.streams.video[0].time_base)
        for frame in container.decode(audio=0):
            samples = np.abs(frame.to_ndarray()).max(axis=0)
            loud = np.flatnonzero(samples > 0.05 * (np.iinfo(samples.dtype).max if samples.dtype.kind == "i" else 1))
            if loud.size:
                return float(frame.pts * frame.time_base) + loud[0] / frame.sample_rate - video_start
    raise AssertionError(f"{path}: no sound")


@pytest.mark.parametrize("name", ["out.avi", "out.webm", "out.mov", "out.mp4"])
def test_sound_that_starts_late_stays_in_sync_copied_or_re_encoded(late_sound, tmp_path, name):
    result = run_cli(late_sound, "-o", tmp_path / name)
    assert result.returncode == 0, result.stderr
    assert abs(_sound_onset(tmp_path / name) - _sound_onset(late_sound)) <= 1 / 25


@pytest.mark.parametrize("name", ["out.mp4", "out.mov", "out.mkv"])
def test_sound_that_starts_late_stays_in_sync_in_the_vse_engine(late_sound, tmp_path, name):
    result = run_cli(late_sound, "-o", tmp_path / name, "--engine", "vse")
    assert result.returncode == 0, result.stderr
    assert abs(_sound_onset(tmp_path / name) - _sound_onset(late_sound)) <= 1 / 25


def _sound_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return sum(frame.samples / frame.sample_rate for frame in container.decode(audio=0))


@pytest.mark.parametrize("name", ["out.avi", "out.mp4"])
def test_h264_in_avi_with_pcm_sound_keeps_the_sound_in_place_and_whole(tmp_path, name):
    """AVI holds no presentation times: a B-frame stream's guessed ones start a frame late; the sound must not."""
    source = tmp_path / "late.avi"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2", "-itsoffset", "0.5",
                    "-f", "lavfi", "-i", "sine=f=440:d=1.5", "-c:v", "libx264", "-c:a", "pcm_s16le", str(source)],
                   check=True, timeout=60)
    result = run_cli(source, "-o", tmp_path / name)
    assert result.returncode == 0, result.stderr
    assert abs(_sound_onset(tmp_path / name) - _sound_onset(source)) <= 0.005
    assert abs(_sound_seconds(tmp_path / name) - _sound_seconds(source)) <= 0.03  # AAC may pad its last frame


@pytest.mark.parametrize("name", ["noext", "x.gif", "s/a%04db%04d.png"])
def test_a_bad_output_name_is_one_line_whether_or_not_the_input_has_sound(late_sound, tmp_path, name):
    assert_one_line_failure(run_cli(late_sound, "-o", tmp_path / name))
    assert run_cli(late_sound, "-o", tmp_path / name).returncode == 2


# --- outputs of one render publish together ------------------------------------------------------


def test_a_full_disk_on_the_align_report_publishes_no_movie(clip, tmp_path, monkeypatch):
    """The report is the last output to finish: when it cannot be flushed, the movie and data stay unpublished."""
    from blender_addon.core.settings import Settings
    from blender_addon.render import DataRequest, RenderError, RenderRequest, render

    flush = publish.flush_to_disk

    def flush_all_but_the_report(path: str) -> None:
        if "report.csv" in os.path.basename(path):
            raise media.MediaError(f"{path}: the disk is full")
        flush(path)

    monkeypatch.setattr(publish, "flush_to_disk", flush_all_but_the_report)
    request = RenderRequest(clip, tmp_path / "out.mp4", Settings(align="shift"),
                            align_report=str(tmp_path / "report.csv"),
                            data=DataRequest(data=str(tmp_path / "data.csv")))
    with pytest.raises(RenderError, match="the disk is full"):
        render(request)
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    render(request)
    assert sorted(os.listdir(tmp_path)) == ["data.csv", "data.csv.json", "out.mp4", "report.csv"]


@pytest.mark.parametrize("flag", ["--plot", "--motiongram", "--spectrum-plot", "--frequency-map"])
def test_a_side_file_never_joins_or_replaces_an_input_image_sequence(tmp_path, flag):
    clip = SampleClip(128, 72, frame_count=6, fps=25.0)
    folder = tmp_path / "images"
    folder.mkdir()
    for index, frame in enumerate(clip.read_from(0)):
        assert cv2.imwrite(str(folder / f"{index:05d}.png"), frame)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    joins = "would be read as a frame of the input image sequence"
    for given, side, message in ((folder, folder / "00003.png", joins), (folder, folder / "chart.png", joins),
                                 (folder / "%05d.png", folder / "00003.png", "would overwrite the input"),
                                 (folder / "%05d.png", folder / "00009.png", joins)):
        output = tmp_path / "out.mkv"
        result = run_cli(given, "-o", output, flag, side, "--overwrite")
        assert_one_line_failure(result, message)
        assert not output.exists()
        assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    beside = run_cli(folder / "%05d.png", "-o", tmp_path / "out.mkv", flag, folder / "chart_00003.png")
    assert beside.returncode == 0, beside.stderr  # another numbering in the folder is not the input's


def test_a_failed_render_removes_the_folders_it_created_and_only_those(tmp_path):
    import io

    from blender_addon import cli

    parts = []
    for size in ("160x90", "96x54"):  # the size changes at frame 10: the render fails after its outputs are open
        parts.append(tmp_path / f"{size}.ts")
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration=0.4",
                        "-c:v", "libx264", str(parts[-1])], check=True)
    source = tmp_path / "joined.ts"
    source.write_bytes(b"".join(part.read_bytes() for part in parts))
    work = tmp_path / "work"
    (work / "kept").mkdir(parents=True)
    for outputs in (["new/a/x.mp4"], ["seq/%04d.png"], ["kept/x.mp4"], ["x.mp4", "--data", "d/data.csv", "--plot",
                                                                          "d/e/plot.png"], ["j/x.mkv", "--jobs", "2"]):
        code = cli.main([str(source), "-o", *(str(work / name) if "/" in name or "." in name else name
                                              for name in outputs)], io.StringIO(), io.StringIO())
        assert code == 1, outputs
        assert sorted(os.listdir(work)) == ["kept"], outputs
        assert os.listdir(work / "kept") == []
    assert cli.main([str(parts[0]), "-o", str(work / "new/a/x.mp4"), "-q"], io.StringIO(), io.StringIO()) == 0
    assert os.listdir(work / "new" / "a") == ["x.mp4"]


def test_a_named_pipe_or_device_as_an_output_is_refused_never_replaced(clip, tmp_path):
    import io

    from blender_addon import cli

    pipe, data = tmp_path / "out.mp4", tmp_path / "data.csv"
    os.mkfifo(pipe)
    os.mkfifo(data)
    for arguments, named in ((["-o", pipe, "--overwrite"], pipe), (["-o", pipe], pipe),
                             (["-o", tmp_path / "x.mp4", "--data", data, "--overwrite"], data)):
        stderr = io.StringIO()
        assert cli.main([str(clip), *map(str, arguments)], io.StringIO(), stderr) == 2, arguments
        assert stderr.getvalue() == (f"motion_extract: error: {named}: is a named pipe, not a regular file: an "
                                     "output replaces what is there (name a file)\n")
        assert sorted(os.listdir(tmp_path)) == ["data.csv", "out.mp4"] and pipe.is_fifo() and data.is_fifo()
    with pytest.raises(media.MediaError, match=f"{os.devnull}: is a device, not a regular file"):
        publish.check_output(os.devnull, [], True)


@pytest.mark.parametrize("engine, name", [("exact", "new/a/out.mkv"), ("vse", "new/a/out.mkv"),
                                          ("vse", "new/f_%03d.png")])
def test_a_full_disk_leaves_no_folder_the_render_created(big_clip, full_disk, engine, name):
    result = run_cli(big_clip, "-o", full_disk / name, "--engine", engine)
    assert_one_line_failure(result, "the disk is full")
    assert os.listdir(full_disk) == []
