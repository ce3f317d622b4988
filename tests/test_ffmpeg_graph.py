"""--print-ffmpeg: ffmpeg's own output for the printed command against the exact engine.

Needs Debian's ffmpeg on PATH (scripts/test.sh installs it with apt when missing); the
product itself never calls ffmpeg.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest
from media_helpers import run_printed_command

from blender_addon.core.engine import extract_motion
from blender_addon.core.settings import Settings
from blender_addon.media.ffmpeg_command import ffmpeg_command

EXACT = [
    Settings(),
    Settings(offset=3, mix=0.3, amplify=2.0),
    Settings(offset=-2, look="difference"),
    Settings(mode="freeze", reference=5, look="subtract", amplify=3.0),
    Settings(offset=2, time_colour=True),
    Settings(offset=2, time_colour=True, red_delay=3, green_delay=0, blue_delay=1),
    Settings(offset=3, edges="gray"),
    Settings(offset=-3, edges="source"),
    Settings(offset=2, edges="trim", layout="side"),
    Settings(offset=-2, edges="trim", layout="stacked"),
    Settings(overlay="multiply", overlay_strength=0.7),
    Settings(overlay="screen", look="difference"),
]


@pytest.mark.parametrize("settings", EXACT, ids=lambda s: f"{s.describe()}-{s.edges}")
def test_ffmpeg_reproduces_the_engine_exactly(settings, lossless_input, small_clip, tmp_path):
    ffmpeg_frames = run_printed_command(settings, lossless_input, tmp_path / "out.mkv", small_clip)
    engine_frames = [frame.copy() for frame in extract_motion(small_clip, settings)]
    assert len(ffmpeg_frames) == len(engine_frames)
    for index, (a, b) in enumerate(zip(ffmpeg_frames, engine_frames, strict=True)):
        assert np.array_equal(a, b), f"frame {index}: max difference {np.abs(a.astype(int) - b).max()}"


@pytest.mark.parametrize(
    "settings, max_difference, mean_difference",
    [
        # gblur is a recursive approximation of a Gaussian and works on an 8-bit halo.
        (Settings(glow=1.5, glow_radius=3.0), 40, 0.5),
        # lagfun decays in float; the engine floors to whole levels each frame.
        (Settings(look="difference", trails=0.8), 5, 0.2),
    ],
)
def test_ffmpeg_approximates_glow_and_trails(settings, max_difference, mean_difference, lossless_input, small_clip,
                                             tmp_path):
    ffmpeg_frames = run_printed_command(settings, lossless_input, tmp_path / "out.mkv", small_clip)
    engine_frames = [frame.copy() for frame in extract_motion(small_clip, settings)]
    differences = [np.abs(a.astype(int) - b.astype(int)) for a, b in zip(ffmpeg_frames, engine_frames, strict=True)]
    assert max(d.max() for d in differences) <= max_difference
    assert np.mean([d.mean() for d in differences]) <= mean_difference
    assert ffmpeg_command(settings, "in.mp4", "out.mp4", 30, 30.0).notes


def test_what_ffmpeg_cannot_do_is_noted():
    command = ffmpeg_command(Settings(trails=0.9), "in.mp4", "out.mp4", 30, 30.0)
    assert any("cannot trail the gray look" in note for note in command.notes)
    assert "lagfun" not in command.shell()
    assert ffmpeg_command(Settings(), "in.mp4", "out.mp4", 30, 30.0).notes == []


def test_command_line_shape_and_codecs():
    command = ffmpeg_command(Settings(), "my clip.mp4", "out.mp4", 300, 30000 / 1001)
    assert command.arguments[:3] == ["ffmpeg", "-i", "my clip.mp4"]
    assert "libx264" in command.arguments and "0:a?" in command.arguments
    assert "settb=1001/30000" in command.shell()
    assert shlex.split(command.shell()) == command.arguments


def test_the_printed_command_leaves_the_sound_out_with_no_audio():
    settings = Settings()
    with_sound = ffmpeg_command(settings, "in.mp4", "out.mp4", 30, 30.0).arguments
    without = ffmpeg_command(settings, "in.mp4", "out.mp4", 30, 30.0, sound=False).arguments
    assert "0:a?" in with_sound and "-an" not in with_sound
    assert "-an" in without and "0:a?" not in without


def test_print_ffmpeg_takes_no_audio_from_the_command_line(tmp_path):
    import io

    from blender_addon import cli

    stdout = io.StringIO()
    assert cli.main(["--sample", "-o", str(tmp_path / "m.mp4"), "--print-ffmpeg", "--no-audio"], stdout,
                    io.StringIO()) == 0
    assert " -an " in stdout.getvalue() and "0:a?" not in stdout.getvalue()


@pytest.fixture(scope="module")
def colour_edges(tmp_path_factory) -> dict[str, Path]:
    """Sharp colour edges that move (random 3-pixel blocks), as a 4:2:0 H.264 movie and as an RGB FFV1 one."""
    from blender_addon import media

    rng = np.random.default_rng(7)
    blocks = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    frames = [np.ascontiguousarray(np.roll(blocks.repeat(3, 0).repeat(3, 1), 2 * index, axis=1)[:72, :96])
              for index in range(12)]
    folder = tmp_path_factory.mktemp("edges")
    paths = {"420": folder / "in420.mp4", "rgb": folder / "inrgb.mkv"}
    for path in paths.values():
        with media.open_writer(path, 24.0, 96, 72, **({"crf": 18} if path.suffix == ".mp4" else {})) as writer:
            for frame in frames:
                writer.write(frame)
    return paths


def _decoded(path: Path) -> list[np.ndarray]:
    """A movie's pictures as it stores them: 4:2:0 planes, else BGR."""
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="yuv420p" if frame.format.name == "yuv420p" else "bgr24")
                for frame in container.decode(video=0)]


@pytest.mark.parametrize("given, output, options, path, max_difference, mean_difference", [
    ("420", "out.mp4", [], "planar", 0, 0.0),
    ("420", "out.mp4", ["--offset", "3", "--edges", "gray", "--layout", "side", "--mix", "0.3"], "planar", 0, 0.0),
    ("420", "out.mkv", [], "planar", 0, 0.0),
    ("420", "out.mkv", ["--math", "rgb"], "rgb", 1, 0.1),
    ("420", "out.mp4", ["--look", "difference"], "rgb", 2, 0.1),
    ("rgb", "out.mp4", [], "rgb", 1, 0.05),
    ("rgb", "out.mkv", ["--look", "difference"], "rgb", 0, 0.0),
])
def test_the_printed_command_writes_what_the_engine_writes(colour_edges, tmp_path, given, output, options, path,
                                                           max_difference, mean_difference):
    """What the README promises of --print-ffmpeg, measured on sharp colour edges: the planes' graph (the
    engine's planar path) to the level, the RGB graph within a level a 4:2:0 conversion (x264 lossless)."""
    import io
    import subprocess

    from blender_addon import cli

    extra = [*options, *(["--crf", "0"] if output.endswith(".mp4") else [])]
    engine, printed = tmp_path / f"engine_{output}", tmp_path / f"ffmpeg_{output}"
    stdout, stderr = io.StringIO(), io.StringIO()
    assert cli.main([str(colour_edges[given]), "-o", str(printed), "--print-ffmpeg", *extra], stdout, stderr) == 0
    arguments = shlex.split(stdout.getvalue())
    assert ("format=yuv420p,settb" in stdout.getvalue()) == (path == "planar")
    subprocess.run([arguments[0], "-v", "error", "-y", *arguments[1:]], check=True, timeout=120)
    stderr = io.StringIO()
    assert cli.main([str(colour_edges[given]), "-o", str(engine), *extra], io.StringIO(), stderr) == 0
    assert ("on the RGB path" in stderr.getvalue()) == (path == "rgb"), stderr.getvalue()
    differences = [np.abs(a.astype(int) - b.astype(int))
                   for a, b in zip(_decoded(printed), _decoded(engine), strict=True)]
    assert max(d.max() for d in differences) <= max_difference
    assert np.mean([d.mean() for d in differences]) <= mean_difference


def test_print_ffmpeg_takes_math_as_a_render_does(colour_edges, tmp_path):
    """``--math rgb`` prints the RGB graph; ``--math planar`` where the output needs RGB is refused in one line."""
    import io

    from blender_addon import cli

    stdout = io.StringIO()
    assert cli.main([str(colour_edges["420"]), "-o", str(tmp_path / "out.mkv"), "--print-ffmpeg", "--math", "rgb"],
                    stdout, io.StringIO()) == 0
    assert "format=gbrp" in stdout.getvalue() and "-pix_fmt bgr0" in stdout.getvalue()
    stdout, stderr = io.StringIO(), io.StringIO()
    assert cli.main([str(colour_edges["420"]), "-o", str(tmp_path / "out.mov"), "--print-ffmpeg", "--math", "planar"],
                    stdout, stderr) == 2
    assert stdout.getvalue() == "" and len(stderr.getvalue().splitlines()) == 1 and "prores" in stderr.getvalue()
