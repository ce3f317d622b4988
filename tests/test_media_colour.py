"""Colour tags: a movie's planes are converted by its tagged matrix (untagged: BT.601), HDR and BT.2020 are named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from blender_addon import media

# Blocks of saturated colour, 16 pixels wide, that the BT.601 and BT.709 matrices show 10 to 30 levels apart.
COLOURS = "c=0xC02040,c=0x20C040,c=0x4020C0,c=0xE0E020"


def _encode(path: Path, *tags: str) -> Path:
    sources = [arg for colour in COLOURS.split(",")
               for arg in ("-f", "lavfi", "-i", f"color={colour}:size=16x32:rate=25")]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *sources, "-filter_complex",
         "[0][1][2][3]hstack=inputs=4,format=yuv420p[v]", "-map", "[v]", "-frames:v", "3", *tags,
         "-c:v", "libx264", "-qp", "0", str(path)],
        check=True, timeout=60,
    )
    return path


def _planes(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return tuple(np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width].copy()
                     for plane in frame.planes)


def _limited_to_bgr(y: np.ndarray, u: np.ndarray, v: np.ndarray, kr: float, kb: float) -> np.ndarray:
    """The textbook limited-range conversion, chroma repeated over its 2x2 pixels."""
    u, v = (np.repeat(np.repeat(c.astype(float), 2, 0), 2, 1) - 128 for c in (u, v))
    luma = (y.astype(float) - 16) * 255 / 219
    kg = 1 - kr - kb
    red = luma + v * 255 / 224 * 2 * (1 - kr)
    blue = luma + u * 255 / 224 * 2 * (1 - kb)
    green = luma - (u * 255 / 224 * 2 * (1 - kb) * kb + v * 255 / 224 * 2 * (1 - kr) * kr) / kg
    return np.clip(np.rint(np.dstack([blue, green, red])), 0, 255).astype(np.uint8)


def _first_frame(path: Path) -> np.ndarray:
    source = media.open_source(path)
    frame = next(iter(source.read_from(0)))
    return source.expand(frame) if frame.ndim == 2 else frame


def _difference(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(int) - b.astype(int)).max())


@pytest.fixture(scope="module")
def tagged(tmp_path_factory) -> Path:
    return _encode(tmp_path_factory.mktemp("colour") / "bt709.mp4",
                   "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv")


def test_a_bt709_tagged_movie_is_converted_by_its_matrix(tagged):
    y, u, v = _planes(tagged)
    expected = _limited_to_bgr(y, u, v, 0.2126, 0.0722)
    assert _difference(expected, _limited_to_bgr(y, u, v, 0.299, 0.114)) > 10  # the matrices differ here
    assert _difference(_first_frame(tagged), expected) <= 1
    assert media.planar_reasons(media.open_source(tagged), None)  # the planar path writes BT.601 planes


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    script = Path(__file__).resolve().parent.parent / "scripts" / "motion_extract.py"
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_a_render_of_a_bt709_movie_shows_its_colours_and_is_tagged_with_what_it_holds(tagged, tmp_path):
    output = tmp_path / "out.mp4"
    script = Path(__file__).resolve().parent.parent / "scripts" / "motion_extract.py"
    subprocess.run([sys.executable, str(script), str(tagged), "-o", str(output), "--mix", "0", "--crf", "0"],
                   check=True, capture_output=True, timeout=120)
    with av.open(str(output)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.colorspace, stream.codec_context.color_range) == (6, 1)  # BT.601, limited
    assert _difference(_first_frame(output), _limited_to_bgr(*_planes(tagged), 0.2126, 0.0722)) <= 2


def test_an_untagged_movie_stays_bt601(tmp_path):
    untagged = _encode(tmp_path / "untagged.mp4")
    y, u, v = _planes(untagged)
    planes = np.concatenate([y, u.reshape(-1, y.shape[1]), v.reshape(-1, y.shape[1])])
    assert np.array_equal(_first_frame(untagged), cv2.cvtColor(planes, cv2.COLOR_YUV2BGR_I420))
    assert _difference(_first_frame(untagged), _limited_to_bgr(y, u, v, 0.299, 0.114)) <= 1
    assert media.open_source(untagged).warnings == []


@pytest.mark.parametrize(("tags", "named"), [
    (("-colorspace", "bt2020nc", "-color_primaries", "bt2020", "-color_trc", "bt2020-10"), "BT.2020"),
    (("-colorspace", "bt2020nc", "-color_primaries", "bt2020", "-color_trc", "smpte2084"), "HDR (PQ)"),
    (("-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "arib-std-b67"), "HDR (HLG)"),
])
def test_bt2020_and_hdr_inputs_are_said_not_to_be_colour_managed(tmp_path, tags, named):
    source = media.open_source(_encode(tmp_path / "wide.mp4", *tags))
    assert len(source.warnings) == 1
    assert f"tagged {named}" in source.warnings[0] and "not colour-managed" in source.warnings[0]


# --- pixel aspect --------------------------------------------------------------------------------


def _aspect(path: Path) -> tuple[str, str, str]:
    shown = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,sample_aspect_ratio,"
                            "display_aspect_ratio", "-select_streams", "v:0", "-of", "csv=p=0", str(path)],
                           check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    return tuple(shown.split(","))


@pytest.fixture(scope="module")
def anamorphic(tmp_path_factory) -> Path:
    """A 160x128 picture of pixels 16:15 as wide as tall (PAL 4:3's shape at a smaller size): shown 4:3."""
    path = tmp_path_factory.mktemp("aspect") / "anamorphic.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x128:rate=25", "-frames:v", "4",
                    "-vf", "setsar=16/15", "-pix_fmt", "yuv420p", "-c:v", "libx264", str(path)], check=True, timeout=60)
    return path


@pytest.mark.parametrize(("name", "layout", "shown"), [
    ("out.mp4", "motion", ("160", "16:15", "4:3")), ("out.mov", "motion", ("160", "16:15", "4:3")),
    ("out.avi", "motion", ("160", "16:15", "4:3")), ("h264.mkv", "motion", ("160", "16:15", "4:3")),
    ("side.mp4", "side", ("320", "16:15", "8:3")),
])
def test_an_anamorphic_input_keeps_its_pixel_aspect(anamorphic, tmp_path, name, layout, shown):
    output = tmp_path / name
    codec = ["--codec", "h264"] if name == "h264.mkv" else []
    result = _run(anamorphic, "-o", output, "--layout", layout, *codec)
    assert result.returncode == 0, result.stderr
    assert _aspect(output) == shown
    assert "anamorphic" not in result.stderr


def test_an_output_that_cannot_keep_the_pixel_aspect_says_so(anamorphic, tmp_path):
    result = _run(anamorphic, "-o", tmp_path / "out.mkv")  # FFV1 in Matroska
    assert result.returncode == 0, result.stderr
    assert "not square (anamorphic, 16/15), which ffv1 in .mkv cannot record" in result.stderr


def test_the_vse_engine_gives_the_same_warning_for_hdr_input(tmp_path):
    source = _encode(tmp_path / "pq.mp4", "-colorspace", "bt2020nc", "-color_primaries", "bt2020",
                     "-color_trc", "smpte2084")
    result = _run(source, "-o", tmp_path / "out.mp4", "--engine", "vse")
    assert result.returncode == 0, result.stderr
    assert "tagged HDR (PQ), and the output is not colour-managed" in result.stderr
