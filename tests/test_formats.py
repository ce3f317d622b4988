"""The formats table: the engine's writer and --print-ffmpeg's command encode with the same settings.

Each container is written twice from one small synthetic clip, by the exact engine and by the
command ``--print-ffmpeg`` prints (run with Debian's ffmpeg, as test_ffmpeg_graph), and the settings
are read back from both files: x264's and x265's own settings strings in the stream, the quantiser
tables of Motion JPEG and the quantisers of MPEG-4 part 2, FFV1's configuration record, and each
stream's codec, profile, pixel format, size and colour tags.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
from fractions import Fraction

import av
import numpy as np
import pytest

from blender_addon import cli
from blender_addon.media import open_writer
from blender_addon.media.errors import MediaError
from blender_addon.media.ffmpeg_command import encoder_arguments
from blender_addon.media.formats import CODECS, MOVIE_FORMATS, check_encoder_options, encoder_options

WIDTH, HEIGHT = 97, 65  # odd, so both pad to even; SVT-AV1 takes 64 lines and more


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("formats") / "clip.mkv")
    picture = np.random.default_rng(7).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    with open_writer(path, Fraction(25), WIDTH, HEIGHT) as writer:
        for index in range(8):
            writer.write(np.roll(picture, 3 * index, axis=1))
    return path


def _both(clip: str, output, *options: str) -> tuple[str, str]:
    """The engine's render of ``clip`` and ffmpeg's run of the printed command, each to a file like ``output``."""
    engine, printed = output.with_name("engine" + output.suffix), output.with_name("ffmpeg" + output.suffix)
    stdout, stderr = io.StringIO(), io.StringIO()
    assert cli.main([clip, "-o", str(printed), "--print-ffmpeg", *options], stdout, stderr) == 0, stderr.getvalue()
    arguments = shlex.split(stdout.getvalue())
    subprocess.run([arguments[0], "-v", "error", "-y", *arguments[1:]], check=True, timeout=120)
    assert cli.main([clip, "-o", str(engine), "-q", *options], io.StringIO(), stderr) == 0, stderr.getvalue()
    return str(engine), str(printed)


def _stream(path: str) -> dict:
    fields = "codec_name,profile,pix_fmt,width,height,color_range,color_space,color_primaries,color_transfer"
    result = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", f"stream={fields}",
                             "-of", "json", path], check=True, capture_output=True, text=True)
    return json.loads(result.stdout)["streams"][0]


def _settings_string(path: str, encoder: bytes) -> dict[str, str]:
    """x264's or x265's settings, as the encoder writes them into the stream ("options: crf=20.0 ...")."""
    data = open(path, "rb").read()
    start = data.index(encoder)
    text = data[start:data.index(b"\0", start)].decode("ascii", "replace")
    options = text.split(" options: ", 1)[1].split()
    return dict(option.partition("=")[::2] for option in options)


def _jpeg_quantisers(path: str) -> bytes:
    data = open(path, "rb").read()
    start = data.index(b"\xff\xdb")  # the first quantisation table segment
    return data[start:start + 2 + int.from_bytes(data[start + 2:start + 4], "big")]


def _mpeg4_quantisers(path: str) -> set[str]:
    log = subprocess.run(["ffmpeg", "-hide_banner", "-debug", "qp", "-i", path, "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    rows = (re.fullmatch(r"\[mpeg4 @ [^]]*\]((?: +\d+)+) *", line) for line in log.splitlines())
    return {value for row in rows if row for value in row[1].split()}


CASES = [(extension, None) for extension in MOVIE_FORMATS] + [(".mp4", "h265"), (".mp4", "av1"), (".mp4", "mpeg4")]


@pytest.mark.parametrize("extension, codec", CASES, ids=lambda value: str(value))
def test_the_printed_command_encodes_as_the_engine_does(clip, tmp_path, extension, codec):
    engine, printed = _both(clip, tmp_path / f"out{extension}", *(["--codec", codec] if codec else []))
    chosen = check_encoder_options(engine, codec, None, None)
    ours, theirs = _stream(engine), _stream(printed)
    if chosen.colour_range is None:  # RGB: the engine leaves it untagged, ffmpeg's gbrp graph tags it
        for tag in ("color_range", "color_space"):
            ours.pop(tag, None), theirs.pop(tag, None)
    assert ours == theirs
    assert (ours["width"], ours["height"]) == ((WIDTH + 1, HEIGHT + 1) if chosen.even_size else (WIDTH, HEIGHT))
    if chosen.name == "h264":
        x264 = _settings_string(engine, b"x264 - core")
        assert x264 == _settings_string(printed, b"x264 - core")
        assert x264["crf"] == "20.0" and x264["subme"] == "2"  # CRF 20 at x264's veryfast preset
    elif chosen.name == "h265":
        x265, other = _settings_string(engine, b"x265 (build"), _settings_string(printed, b"x265 (build")
        common = x265.keys() & other.keys()  # each x265 version adds settings of its own
        assert len(common) > 100 and {key: x265[key] for key in common} == {key: other[key] for key in common}
        assert x265["crf"] == "24.0"
    elif chosen.name == "mjpeg":
        assert _jpeg_quantisers(engine) == _jpeg_quantisers(printed)
    elif chosen.name == "mpeg4":
        assert _mpeg4_quantisers(engine) == _mpeg4_quantisers(printed) == {str(chosen.qscale)}
    elif chosen.name == "ffv1":
        with av.open(engine) as ours_file, av.open(printed) as theirs_file:
            record = ours_file.streams.video[0].codec_context.extradata
            assert record and record == theirs_file.streams.video[0].codec_context.extradata


def test_the_printed_command_takes_the_engines_codec_options(clip, tmp_path):
    stdout, stderr = io.StringIO(), io.StringIO()
    options = ["--codec", "h265", "--crf", "30", "--encoder-preset", "fast"]
    assert cli.main([clip, "-o", str(tmp_path / "out.mkv"), "--print-ffmpeg", *options], stdout, stderr) == 0
    assert "-c:v libx265 -crf:v 30 -preset:v fast" in stdout.getvalue()
    stderr = io.StringIO()
    assert cli.main([clip, "-o", str(tmp_path / "out.webm"), "--print-ffmpeg", "--codec", "h264"],
                    io.StringIO(), stderr) == 2
    assert stderr.getvalue().count("\n") == 1 and ".webm takes --codec vp9, av1, not h264" in stderr.getvalue()


def test_every_encoder_setting_is_printed():
    for codec in CODECS.values():
        arguments = encoder_arguments(codec)
        assert arguments[:2] == ["-c:v", codec.encoder]
        assert arguments[arguments.index("-pix_fmt") + 1] == codec.pixel_format
        for name, value in encoder_options(codec).items():
            assert arguments[arguments.index(f"-{name}:v") + 1] == value
        assert ("-q:v" in arguments) == (codec.qscale is not None)


def test_the_even_size_rule_is_the_codecs_chroma():
    assert [name for name, codec in CODECS.items() if not codec.even_size] == ["ffv1"]


def test_a_container_refuses_a_codec_it_does_not_take():
    with pytest.raises(MediaError, match=r"out\.avi: \.avi takes --codec mjpeg, not h264"):
        check_encoder_options("out.avi", "h264", None, None)
    with pytest.raises(MediaError, match="--crf applies to h264, h265, av1 and vp9, not prores"):
        check_encoder_options("out.mov", None, 20, None)
