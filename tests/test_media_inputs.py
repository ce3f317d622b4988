"""Real-world inputs read right: MPEG-TS and M2TS seeks, and files that are damaged, odd or change mid-stream.

Inputs are made with Debian's ffmpeg; renders go to lossless FFV1 so that decoded frames compare exactly.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from chunk_helpers import decoded
from media_helpers import ffmpeg, media_threads, read_all

from blender_addon import cli
from blender_addon.media import open_source


@pytest.fixture(autouse=True)
def no_thread_outlives_its_test():
    yield
    assert media_threads() == []


def render(*args: str | os.PathLike) -> tuple[int, str]:
    stderr = io.StringIO()
    code = cli.main([str(arg) for arg in args], io.StringIO(), stderr)
    return code, stderr.getvalue()


def assert_same_frames(expected: list[np.ndarray], got: list[np.ndarray]) -> None:
    assert len(got) == len(expected)
    for index, (a, b) in enumerate(zip(expected, got, strict=True)):
        assert np.array_equal(a, b), f"frame {index}"


# --- MPEG-TS and M2TS: timestamps that do not start at 0, no keyframe index ---------------------------------------

BROADCAST = {  # x264 as broadcast and camera files come: B-frames in open GOPs, or none; a keyframe every 25 frames
    "b-frames": ("-bf", "3", "-x264-params", "open-gop=1"),
    "no-b-frames": ("-bf", "0"),
}


@pytest.fixture(scope="module", params=[(kind, ext) for kind in BROADCAST for ext in ("ts", "m2ts")],
                ids=lambda param: f"{param[0]}.{param[1]}")
def broadcast(request, tmp_path_factory) -> Path:
    """75 frames (3 keyframes) with sound, in MPEG-TS or M2TS."""
    kind, extension = request.param
    path = tmp_path_factory.mktemp("broadcast") / f"{kind}.{extension}"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x54:rate=25:duration=3", "-f", "lavfi", "-i", "sine=d=3",
           "-vf", "noise=alls=10:allf=t", "-c:v", "libx264", "-g", "25", *BROADCAST[kind], "-pix_fmt", "yuv420p",
           "-c:a", "aac", path)
    return path


def test_mpeg_ts_read_heads_land_on_every_frame(broadcast):
    source = open_source(broadcast)
    assert source.start_time > 0  # MPEG-TS starts its clock at 1.4 s
    full = read_all(source)
    assert len(full) == 75
    for start in (1, 24, 25, 26, 49, 50, 51, 60, 74):
        assert_same_frames(full[start:], read_all(source, start))


def test_mpeg_ts_chunks_and_jobs_equal_the_whole_render(broadcast, tmp_path):
    whole = tmp_path / "whole.mkv"
    assert render(broadcast, "-o", whole, "-q") == (0, "")
    expected = decoded(whole)
    chunks = []
    for frames in ("0:30", "30:52", "52:"):
        chunk = tmp_path / f"chunk{len(chunks)}.mkv"
        assert render(broadcast, "-o", chunk, "--frames", frames, "-q") == (0, "")
        chunks += decoded(chunk)
    assert_same_frames(expected, chunks)
    jobs = tmp_path / "jobs.mkv"
    assert render(broadcast, "-o", jobs, "--jobs", "2", "-q") == (0, "")
    assert_same_frames(expected, decoded(jobs))


@pytest.mark.parametrize("options", [
    ("--mode", "freeze", "--reference", "60"),
    ("--offset", "-55", "--max-memory", "200K"),  # a window of 56 frames does not fit: a second read head
], ids=["freeze", "far negative offset"])
def test_mpeg_ts_renders_that_seek_equal_those_of_the_same_pictures_in_matroska(broadcast, tmp_path, options):
    remuxed = tmp_path / "same.mkv"  # the same coded pictures, in a container with an index
    ffmpeg("-i", broadcast, "-map", "0:v", "-c", "copy", remuxed)
    assert render(broadcast, "-o", tmp_path / "ts.mkv", *options, "-q") == (0, "")
    assert render(remuxed, "-o", tmp_path / "mkv.mkv", *options, "-q") == (0, "")
    assert_same_frames(decoded(tmp_path / "mkv.mkv"), decoded(tmp_path / "ts.mkv"))
