"""The planar path through the command line: chosen by default where nothing needs RGB, --math, the summary line,
the chunk record, --jobs and the chunk join."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from media_helpers import smooth_frames, yuv420p_movie

from blender_addon import cli, join
from blender_addon.render.chunk_record import ChunkRecord


def run_main(*argv: str | Path) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main([str(argument) for argument in argv], stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def planes_of(path: Path) -> np.ndarray:
    """Every frame's stored 4:2:0 planes, as ffmpeg decodes them."""
    stream = av.open(str(path)).streams.video[0]
    width, height = stream.width, stream.height
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height * 3 // 2, width)


def record_of(path: Path) -> ChunkRecord:
    with av.open(str(path)) as container:
        return ChunkRecord.from_tags({key.lower(): value for key, value in container.metadata.items()})


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return yuv420p_movie(tmp_path_factory.mktemp("planar") / "smooth.mkv", smooth_frames(40, 63, 47))  # odd size


LOSSLESS = ("--crf", "0")  # x264 at CRF 0 in 8-bit 4:2:0 is lossless: the planes compared are the render's own


def test_the_default_mp4_takes_the_planar_path_and_says_so(clip, tmp_path):
    code, stdout, stderr = run_main(clip, "-o", tmp_path / "out.mp4", *LOSSLESS)
    assert code == 0 and stdout == f"wrote {tmp_path / 'out.mp4'}\n"
    assert "rendered 40 frames on the planar path" in stderr
    assert record_of(tmp_path / "out.mp4").math == "planar"
    code, _, stderr = run_main(clip, "-o", tmp_path / "rgb.mp4", *LOSSLESS, "--math", "rgb")
    assert code == 0 and "rendered 40 frames on the RGB path (--math rgb)" in stderr
    assert record_of(tmp_path / "rgb.mp4").math == "rgb"
    apart = np.abs(planes_of(tmp_path / "out.mp4").astype(np.int16) - planes_of(tmp_path / "rgb.mp4"))
    assert apart.max() <= 1 and apart.mean() <= 0.2


@pytest.mark.parametrize(("options", "reason"), [
    (("--glow", "1"), "glow"), (("--data", "{tmp}/data.csv"), "motion data"), (("-o", "{tmp}/out.mov"), "prores"),
    (("-o", "{tmp}/out_%03d.png"), "image-sequence"), (("--layout", "side"), "side layout of an odd-sized picture"),
])
def test_what_needs_rgb_goes_there_and_planar_refuses_it_in_one_line(clip, tmp_path, options, reason):
    options = tuple(option.format(tmp=tmp_path) for option in options)
    output = () if "-o" in options else ("-o", tmp_path / "out.mp4")
    code, _, stderr = run_main(clip, *output, *options)
    assert code == 0 and "on the RGB path: " in stderr and reason in stderr.splitlines()[-1]
    code, stdout, stderr = run_main(clip, *output, *options, "--math", "planar", "--overwrite")
    assert code == 2 and stdout == "" and len(stderr.splitlines()) == 1
    assert stderr.startswith("motion_extract: error: --math planar: ") and reason in stderr


def test_quiet_renders_say_nothing(clip, tmp_path):
    assert run_main(clip, "-o", tmp_path / "out.mp4", "-q") == (0, "", "")


@pytest.mark.parametrize("options", [(), ("--offset", "3", "--edges", "source"), ("--mode", "freeze")])
def test_jobs_hand_over_planes_and_equal_one_process(clip, tmp_path, options):
    assert run_main(clip, "-o", tmp_path / "one.mp4", *LOSSLESS, *options, "-q")[0] == 0
    code, _, stderr = run_main(clip, "-o", tmp_path / "jobs.mp4", *LOSSLESS, *options, "--jobs", "3")
    assert code == 0 and "planar path" in stderr
    np.testing.assert_array_equal(planes_of(tmp_path / "jobs.mp4"), planes_of(tmp_path / "one.mp4"))


def test_chunks_equal_the_whole_render_and_the_join_refuses_mixed_paths(clip, tmp_path):
    assert run_main(clip, "-o", tmp_path / "whole.mp4", *LOSSLESS, "-q")[0] == 0
    chunks = []
    for frames in ("0:15", "15:"):
        chunks.append(tmp_path / f"chunk{len(chunks)}.mp4")
        assert run_main(clip, "-o", chunks[-1], *LOSSLESS, "--frames", frames, "-q")[0] == 0
    whole = planes_of(tmp_path / "whole.mp4")
    np.testing.assert_array_equal(np.concatenate([planes_of(chunk) for chunk in chunks]), whole)
    rgb = tmp_path / "rgb15.mp4"
    assert run_main(clip, "-o", rgb, *LOSSLESS, "--frames", "15:", "--math", "rgb", "-q")[0] == 0
    stderr = io.StringIO()
    code = join.main([str(chunks[0]), str(rgb), "-o", str(tmp_path / "joined.mp4")], io.StringIO(), stderr)
    assert code != 0 and "rgb15.mp4 was rendered on the rgb path, chunk0.mp4 on the planar path" in stderr.getvalue()


@pytest.mark.parametrize("final", ["joined.mp4", "joined.mkv"])
def test_planar_chunks_keep_their_planes_and_join_into_the_whole_render(clip, tmp_path, final):
    """Lossless chunks (FFV1) of a planar render store its 4:2:0 planes, so their join equals the whole render on the
    planar path, not the RGB path's; ``--math rgb`` chunks stay RGB."""
    whole = tmp_path / f"whole{Path(final).suffix}"
    assert run_main(clip, "-o", whole, *LOSSLESS[: 2 if final.endswith(".mp4") else 0], "-q")[0] == 0
    chunks = [tmp_path / f"chunk{index}.mkv" for index in range(3)]
    for chunk, frames in zip(chunks, ("0:13", "13:29", "29:"), strict=True):
        assert run_main(clip, "-o", chunk, "--frames", frames, "--no-audio", "-q")[0] == 0
        assert record_of(chunk).math == "planar"
        assert av.open(str(chunk)).streams.video[0].format.name == "yuv420p"
    options = [*LOSSLESS] if final.endswith(".mp4") else []
    assert join.main([*map(str, reversed(chunks)), "-o", str(tmp_path / final), *options], io.StringIO(),
                     io.StringIO()) == 0
    np.testing.assert_array_equal(planes_of(tmp_path / final), planes_of(whole))
    rgb = tmp_path / "rgb.mkv"
    assert run_main(clip, "-o", rgb, "--frames", "0:13", "--math", "rgb", "-q")[0] == 0
    assert av.open(str(rgb)).streams.video[0].format.name == "bgr0"
    stderr = io.StringIO()
    assert join.main([str(rgb), *map(str, chunks[1:]), "-o", str(tmp_path / "mixed.mp4")], io.StringIO(), stderr) == 1
    assert "path" in stderr.getvalue()

