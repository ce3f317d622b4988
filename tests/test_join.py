"""Joining chunks: coverage in frames, the exact join equal to a whole render, stream copy, and every refusal."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from chunk_helpers import decoded, durations, write_clip
from media_helpers import noise_frames, write_frames

from blender_addon import cli, join, media
from blender_addon.core.chunks import CoverageError, check_coverage, preroll_cost, split_for_jobs
from blender_addon.core.sample_clip import SampleClip
from blender_addon.core.settings import Settings
from blender_addon.core.timing import Span, trail_length
from blender_addon.media.publish import temp_path_for

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = ["--offset", "2", "--trails", "0.5", "--glow", "1", "--glow-radius", "3"]


def render(*args: str | os.PathLike) -> None:
    stderr = io.StringIO()
    assert cli.main([str(arg) for arg in args], io.StringIO(), stderr) == 0, stderr.getvalue()


def join_chunks(*args: str | os.PathLike) -> tuple[int, str]:
    stderr = io.StringIO()
    code = join.main([str(arg) for arg in args], io.StringIO(), stderr)
    return code, stderr.getvalue()


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("join") / "walk.mkv", SampleClip(160, 90, 30, 24.0))


def render_chunks(clip: Path, folder: Path, bounds: list[int], *options: str, extension: str = ".mkv") -> list[Path]:
    chunks = []
    for first, stop in zip(bounds, bounds[1:], strict=False):
        chunk = folder / f"chunk-{first}-{stop - 1}{extension}"
        render(clip, "-o", chunk, "--frames", f"{first}:{stop}", *OPTIONS, *options, "-q")
        chunks.append(chunk)
    return chunks


# --- core.chunks --------------------------------------------------------------------------------


def test_coverage_names_gaps_overlaps_and_missing_ends():
    spans = [Span(0, 10, "a"), Span(10, 20, "b"), Span(20, 30, "c")]
    assert check_coverage(list(reversed(spans)), 0, 30) == spans
    cases = [
        ([Span(0, 10, "a"), Span(20, 30, "c")], "frames 10 to 19 are missing: a gap between a (to frame 9) and c"),
        ([Span(0, 12, "a"), Span(10, 30, "b")], "a and b overlap at frames 10 to 11"),
            ([Span(1, 30, "b")], "frame 0 is missing: no chunk holds it (the first is b, from frame 1)"),
            ([Span(0, 28, "a")], "frames 28 to 29 are missing: no chunk holds them (the last is a, to frame 27)"),
        ([Span(0, 31, "a")], "a runs to frame 30, beyond the render's last frame 29"),
        ([], "no chunks given"),
    ]
    for spans, message in cases:
        with pytest.raises(CoverageError, match=re.escape(message)):
            check_coverage(spans, 0, 30)


def test_split_for_jobs_balances_frames_and_pre_roll():
    plain = Settings(offset=2)
    assert split_for_jobs(plain, 0, 30, 3) == [(0, 10), (10, 20), (20, 30)]
    assert split_for_jobs(plain, 5, 8, 10) == [(5, 6), (6, 7), (7, 8)]  # never an empty chunk
    assert split_for_jobs(plain, 0, 30, 1) == [(0, 30)]
    trails = Settings(trails=0.9)
    warmup = trail_length(0.9)
    chunks = split_for_jobs(trails, 0, 600, 3)
    assert chunks[0][0] == 0 and chunks[-1][1] == 600
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:], strict=False))
    work = [stop - first + preroll_cost(trails, first) for first, stop in chunks]
    assert chunks[1][1] - chunks[1][0] < chunks[0][1] - chunks[0][0]  # later chunks render the trails' warm-up too
    assert max(work) - min(work) <= 2, (chunks, work, warmup)


# --- the exact join --------------------------------------------------------------------------------


@pytest.mark.parametrize("bounds", [[0, 9, 20, 30], [0, 4, 8, 13, 17, 21, 26, 30]], ids=["3 chunks", "7 chunks"])
@pytest.mark.parametrize("extension", [".mkv", ".mp4"])
def test_joined_lossless_chunks_decode_to_the_whole_render_with_its_sound(clip, tmp_path, bounds, extension):
    whole = tmp_path / f"whole{extension}"
    render(clip, "-o", whole, *OPTIONS, "-q")
    chunks = render_chunks(clip, tmp_path, bounds, "--no-audio")
    output = tmp_path / f"joined{extension}"
    code, errors = join_chunks(*reversed(chunks), "-o", output, "--audio-from", clip)  # any order
    assert code == 0, errors
    expected, got = decoded(whole), decoded(output)
    assert len(got) == len(expected) == 30
    for index, (a, b) in enumerate(zip(expected, got, strict=True)):
        if extension == ".mkv":  # lossless: the very frames
            assert np.array_equal(a, b), f"frame {index}"
        else:  # x264 on several threads varies a little from run to run, even between two whole renders
            assert np.abs(a.astype(int) - b).mean() < 1, f"frame {index}"
    video, audio = durations(output)
    assert abs(video - audio) <= 1 / 24, (video, audio)
    assert durations(whole) == pytest.approx((video, audio), abs=1e-3)


def test_join_takes_the_command_lines_encoder_options_and_runs_as_a_script(clip, tmp_path):
    chunks = render_chunks(clip, tmp_path, [0, 15, 30])
    whole = tmp_path / "whole.mkv"
    render(clip, "-o", whole, *OPTIONS, "--codec", "h264", "--crf", "30", "--encoder-preset", "ultrafast", "-q")
    output = tmp_path / "joined.mkv"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "join_chunks.py"), *map(str, chunks), "-o", str(output),
         "--codec", "h264", "--crf", "30", "--encoder-preset", "ultrafast"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {output}\n"
    assert all(np.array_equal(a, b) for a, b in zip(decoded(whole), decoded(output), strict=True))
    assert media.movie.video_frame_count(str(output)) == 30


# --- stream copy -------------------------------------------------------------------------------------


def test_stream_copy_joins_h264_chunks_packet_for_packet(clip, tmp_path):
    chunks = render_chunks(clip, tmp_path, [0, 11, 22, 30], extension=".mp4")
    output = tmp_path / "copied.mp4"
    code, errors = join_chunks(*chunks, "-o", output, "--stream-copy", "--audio-from", clip)
    assert code == 0, errors
    parts = [frame for chunk in chunks for frame in decoded(chunk)]
    got = decoded(output)
    assert len(got) == 30
    assert all(np.array_equal(a, b) for a, b in zip(parts, got, strict=True))  # each chunk decodes as it did
    video, audio = durations(output)
    assert abs(video - audio) <= 1 / 24, (video, audio)
    code, errors = join_chunks(*chunks, "-o", tmp_path / "again.mp4", "--stream-copy", "--crf", "18")
    assert code == 2 and "do not apply to --stream-copy" in errors


def test_stream_copy_of_lossless_chunks_equals_the_whole_render(clip, tmp_path):
    chunks = render_chunks(clip, tmp_path, [0, 7, 30])
    whole = tmp_path / "whole.mkv"
    render(clip, "-o", whole, *OPTIONS, "-q")
    output = tmp_path / "copied.mkv"
    code, errors = join_chunks(*chunks, "-o", output, "--stream-copy")
    assert code == 0, errors
    assert all(np.array_equal(a, b) for a, b in zip(decoded(whole), decoded(output), strict=True))


# --- refusals ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chunk_set(clip, tmp_path_factory) -> dict[str, Path]:
    """Chunks of one render, and chunks that do not belong with them."""
    folder = tmp_path_factory.mktemp("chunks")
    a, b, c = render_chunks(clip, folder, [0, 10, 20, 30])
    overlapping = render_chunks(clip, folder, [8, 20])[0]
    other = folder / "other"
    other.mkdir()
    glow = other / "glow.mkv"
    render(clip, "-o", glow, "--frames", "10:20", *OPTIONS, "--glow", "2", "-q")
    lossy = other / "lossy.mp4"
    render(clip, "-o", lossy, "--frames", "10:20", *OPTIONS, "-q")
    wide = write_clip(other / "walk.mkv", SampleClip(200, 90, 30, 24.0), sound=False)  # same name, other size
    wide_chunk = other / "wide.mkv"
    render(wide, "-o", wide_chunk, "--frames", "10:20", *OPTIONS, "-q")
    fast = tmp_path_factory.mktemp("fast") / "walk.mkv"
    write_clip(fast, SampleClip(160, 90, 30, 30.0), sound=False)
    fast_chunk = other / "fast.mkv"
    render(fast, "-o", fast_chunk, "--frames", "10:20", *OPTIONS, "-q")
    plain = other / "plain.mkv"
    with media.open_writer(plain, 24, 160, 90) as writer:
        for frame in SampleClip(160, 90, 10, 24.0).read_from(0):
            writer.write(frame)
    cut = other / "cut.mkv"
    data = b.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    return {"a": a, "b": b, "c": c, "overlapping": overlapping, "glow": glow, "lossy": lossy, "wide": wide_chunk,
            "fast": fast_chunk, "plain": plain, "cut": cut}


@pytest.mark.parametrize("names, message", [
    (["a", "c"], "frames 10 to 19 are missing: a gap between chunk-0-9.mkv (to frame 9) and chunk-20-29.mkv"),
    (["a", "b"], "frames 20 to 29 are missing: no chunk holds them (the last is chunk-10-19.mkv"),
    (["b", "c"], "frames 0 to 9 are missing"),
    (["a", "overlapping", "c"], "chunk-0-9.mkv and chunk-8-19.mkv overlap at frames 8 to 9"),
    (["a", "glow", "c"], "glow.mkv was rendered with --glow 2.0, chunk-0-9.mkv with --glow 1.0"),
    (["a", "wide", "c"], "wide.mkv is 200x90, chunk-0-9.mkv 160x90"),
    (["a", "fast", "c"], "fast.mkv runs at 30 fps, chunk-0-9.mkv at 24"),
    (["a", "lossy", "c"], "lossy.mp4: is h264, not lossless"),
    (["a", "plain", "c"], "plain.mkv: has no chunk record; render chunks with motion_extract.py --frames A:B and "
                          "the exact engine (its movies carry one; the vse engine's do not)"),
    (["a", "cut", "c"], "cut.mkv: holds"),
])
def test_join_refuses_chunks_that_do_not_make_one_render(chunk_set, tmp_path, names, message):
    output = tmp_path / "out.mp4"
    code, errors = join_chunks(*(chunk_set[name] for name in names), "-o", output)
    assert code == 1, errors
    assert errors.startswith("join_chunks: error: ") and message in errors, errors
    assert errors.count("\n") == 1 and not output.exists()
    assert os.listdir(tmp_path) == []


def test_join_refuses_a_chunk_still_being_written(chunk_set, tmp_path):
    chunk = tmp_path / "chunk-10-19.mkv"
    temp = Path(temp_path_for(chunk))  # what a render under way (this process: alive) writes to
    shutil.copy(chunk_set["b"], temp)
    code, errors = join_chunks(chunk_set["a"], chunk, chunk_set["c"], "-o", tmp_path / "out.mp4")
    assert code == 1 and f"{chunk}: is still being written (by process {os.getpid()})" in errors, errors
    code, errors = join_chunks(chunk_set["a"], temp, chunk_set["c"], "-o", tmp_path / "out.mp4")
    assert code == 1 and "is a render's temporary (still being written, or left by a killed render)" in errors
    code, errors = join_chunks(chunk_set["a"], chunk_set["a"], "-o", tmp_path / "out.mp4")
    assert code == 2 and "a chunk is given twice" in errors


def test_join_checks_the_audio_input_and_the_output(chunk_set, clip, tmp_path):
    chunks = [chunk_set[name] for name in "abc"]
    other = tmp_path / "other.mkv"
    write_clip(other, SampleClip(160, 90, 20, 24.0))
    code, errors = join_chunks(*chunks, "-o", tmp_path / "out.mp4", "--audio-from", other)
    assert code == 1 and "has 20 frames, but the chunks were rendered from walk.mkv of 30" in errors
    code, errors = join_chunks(*chunks, "-o", tmp_path / "frames" / "%05d.png")
    assert code == 2 and "the join writes a movie" in errors  # a bad argument, as the help says
    existing = tmp_path / "out.mkv"
    existing.write_bytes(b"keep")
    code, errors = join_chunks(*chunks, "-o", existing)
    assert code == 1 and "already exists (use --overwrite" in errors and existing.read_bytes() == b"keep"
    code, errors = join_chunks(*chunks, "-o", tmp_path / "out.mp4", "--codec", "prores")
    assert code == 2 and "takes --codec" in errors
    copy = tmp_path / chunks[0].name  # an output aimed at an input is a bad argument, as for a render
    shutil.copy(chunks[0], copy)
    sound = tmp_path / "sound.mkv"
    shutil.copy(clip, sound)
    before = copy.read_bytes(), sound.read_bytes()
    for aimed, at in ((["-o", copy], copy), (["--audio-from", sound, "--spectrum-plot", sound], sound)):
        code, errors = join_chunks(copy, *chunks[1:], "-o", tmp_path / "joined.mkv", *aimed, "--overwrite")
        assert (code, errors) == (2, f"join_chunks: error: output {at} would overwrite the input: choose another "
                                     "output path\n")
    assert (copy.read_bytes(), sound.read_bytes()) == before


def test_a_variable_frame_rate_keeps_its_times_to_the_millisecond(tmp_path):
    clip, time = tmp_path / "vfr.mp4", Fraction(0)
    with media.open_writer(clip, 24, 160, 90, time_base=Fraction(1, 90000)) as writer:
        for index, frame in enumerate(SampleClip(160, 90, 30, 24.0).read_from(0)):
            writer.write(frame, time)
            time += Fraction(1, 24) if index < 15 else Fraction(1, 30)  # the last chunk alone is evenly spaced
    whole = tmp_path / "whole.mkv"
    render(clip, "-o", whole, *OPTIONS, "-q")
    chunks = render_chunks(clip, tmp_path, [0, 10, 20, 30])
    output = tmp_path / "joined.mkv"
    assert join_chunks(*chunks, "-o", output)[0] == 0
    assert all(np.array_equal(a, b) for a, b in zip(decoded(whole), decoded(output), strict=True))
    expected, got = media.open_source(whole), media.open_source(output)
    assert got.timestamps is not None
    assert all(abs(got.time_of(index) - expected.time_of(index)) <= Fraction(1, 1000) for index in range(30))


# --- damaged chunks and other sources -------------------------------------------------------------


def damage(chunk: Path, copy: Path, frame: int, at: int | None = None) -> Path:
    """``chunk`` copied to ``copy`` with 16 bytes of frame ``frame``'s packet flipped, from its middle or ``at``
    (from its end when negative)."""
    import av

    with av.open(str(chunk)) as container:
        stream = container.streams.video[0]
        packet = [packet for packet in container.demux(stream) if packet.size][frame]
        where = packet.pos + (packet.size // 2 if at is None else at % packet.size)
    data = bytearray(chunk.read_bytes())
    data[where:where + 16] = bytes(value ^ 0xFF for value in data[where:where + 16])
    copy.write_bytes(bytes(data))
    return copy


@pytest.mark.parametrize("stream_copy", [False, True], ids=["exact", "stream copy"])
def test_join_refuses_a_damaged_chunk_naming_it_and_its_frame(chunk_set, tmp_path, stream_copy):
    damaged = damage(chunk_set["b"], tmp_path / "chunk-10-19.mkv", 5)
    output = tmp_path / "out.mkv"
    code, errors = join_chunks(chunk_set["a"], damaged, chunk_set["c"], "-o", output,
                               *(["--stream-copy"] if stream_copy else []))
    assert code == 1, errors
    assert (f"{damaged}: is damaged at its frame 5 (output frame 15): its FFV1 slice checksums do not match"
            in errors), errors
    assert errors.count("\n") == 1 and sorted(os.listdir(tmp_path)) == ["chunk-10-19.mkv"]


def test_stream_copy_decodes_what_it_copies(clip, tmp_path):
    """H.264 has no checksums: damage the decoder notices (here the end of a frame's slice) is refused."""
    chunks = render_chunks(clip, tmp_path, [0, 15, 30], extension=".mp4")
    damaged = damage(chunks[1], tmp_path / "damaged.mp4", 1, at=-40)
    code, errors = join_chunks(chunks[0], damaged, "-o", tmp_path / "out.mp4", "--stream-copy")
    assert code == 1 and f"{damaged}: is damaged at its frame 1 (output frame 16): the decoder fails" in errors, errors
    assert not (tmp_path / "out.mp4").exists()


def test_join_refuses_chunks_and_sound_of_another_file_with_the_same_name_and_length(chunk_set, clip, tmp_path):
    other = write_frames(tmp_path / "walk.mkv", noise_frames(30, 160, 90), fps=24)  # walk.mkv, 30 frames too
    stranger = tmp_path / "chunk-10-19.mkv"
    render(other, "-o", stranger, "--frames", "10:20", *OPTIONS, "-q")
    code, errors = join_chunks(chunk_set["a"], stranger, chunk_set["c"], "-o", tmp_path / "out.mkv")
    assert code == 1 and (f"{stranger.name} and chunk-0-9.mkv were rendered from two different files named "
                          "walk.mkv (30 frames each)") in errors, errors
    chunks = [chunk_set[name] for name in "abc"]
    code, errors = join_chunks(*chunks, "-o", tmp_path / "out.mkv", "--audio-from", other)
    assert code == 1 and f"{other}: is not the file the chunks were rendered from (walk.mkv of 30 frames" in errors
    copy = tmp_path / "copy" / "walk.mkv"
    copy.parent.mkdir()
    shutil.copy(clip, copy)  # the same file elsewhere (another machine's path) is the same source
    code, errors = join_chunks(*chunks, "-o", tmp_path / "out.mkv", "--audio-from", copy)
    assert code == 0, errors


@pytest.mark.parametrize(("output", "options", "message"), [
    ("x.mkv", ["--crf", "99"], "x.mkv: --crf applies to h264, h265, av1 and vp9, not ffv1"),
    ("x.webm", ["--codec", "prores"], "x.webm: .webm takes --codec vp9, av1, not prores"),
    ("x.ts", [], "x.ts: the join writes a movie: .mp4, .mov, .mkv, .webm, .avi"),  # it offered an image sequence
    ("x_%03d.png", [], "the join writes a movie"),
])
def test_a_bad_output_or_encoder_option_is_a_bad_argument(tmp_path, output, options, message):
    """Exit 2, as the help says, before any chunk is read (they exited 1)."""
    code, stderr = join_chunks(tmp_path / "missing.mkv", "-o", tmp_path / output, *options)
    assert code == 2 and message in stderr and stderr.count("\n") == 1, stderr
    assert os.listdir(tmp_path) == []
