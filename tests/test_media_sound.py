"""Sound in movie outputs: copied or re-encoded, cut to the rendered range, and in sync with the pictures.

The inputs carry a beep from 1.0 s to 1.2 s in silence; where the beep lands in an output shows
whether the sound was cut and shifted with the pictures. ffmpeg and ffprobe (not PyAV) measure.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from media_helpers import HEIGHT, WIDTH, ffmpeg, ffprobe, media_threads

from blender_addon.media import SoundClip, open_source, open_writer
from blender_addon.media.sound import standard_layout

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "motion_extract.py"
RATE = 48000
BEEP = f"aevalsrc=if(between(t\\,1\\,1.2)\\,0.5*sin(2*PI*440*t)\\,0):s={RATE}:d=2"
PICTURES = ("-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=25:duration=2")
INPUTS = {
    "aac.mp4": ("-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p", "-c:a", "aac"),
    "pcm.mov": ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le"),
    "opus.webm": ("-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", "-c:a", "libopus"),
}
PACKET = Fraction(1024, RATE)  # the longest audio packet here (AAC; Opus packets are 20 ms, PCM in MOV 1024 samples)


@pytest.fixture(autouse=True)
def no_thread_outlives_its_test():
    yield
    assert media_threads() == []


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sound")
    made = {}
    for name, codecs in INPUTS.items():
        made[name] = folder / name
        ffmpeg(*PICTURES, "-f", "lavfi", "-i", BEEP, *codecs, made[name])
    return made


@dataclass
class Sound:
    """A movie's first audio stream as ffmpeg decodes it, in seconds from the first video frame."""

    codec: str
    start: float
    duration: float
    beep_start: float
    beep_end: float

    @property
    def end(self) -> float:
        return self.start + self.duration


def first_time(path: Path, stream: str) -> float:
    frames = ffprobe(path, "-select_streams", stream, "-show_entries", "frame=pts_time")["frames"]
    return min(float(frame["pts_time"]) for frame in frames)


def sound_of(path: Path) -> Sound:
    streams = ffprobe(path, "-show_streams")["streams"]
    codecs = [stream["codec_name"] for stream in streams if stream["codec_type"] == "audio"]
    assert len(codecs) == 1, codecs
    start = first_time(path, "a:0") - first_time(path, "v:0")
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
        check=True, capture_output=True,
    ).stdout
    samples = np.frombuffer(raw, np.float32)
    loud = np.flatnonzero(np.abs(samples) > 0.1)
    assert loud.size, "the beep is missing"
    return Sound(codecs[0], start, samples.size / RATE, start + loud[0] / RATE, start + (loud[-1] + 1) / RATE)


def audio_bytes(path: Path) -> bytes:
    """The coded sound, every packet's bytes in a row (containers cut PCM into packets of their own sizes)."""
    with av.open(str(path)) as container:
        return b"".join(bytes(packet) for packet in container.demux(container.streams.audio[0]) if packet.size)


def render_with_sound(source_path: Path, output: Path, first: int, stop: int | None) -> tuple[Fraction, Fraction]:
    """Writes frames ``first`` to ``stop - 1`` with their sound, as a ``--frames`` chunk does; (begin, end) of it."""
    source = open_source(source_path)
    assert source.has_audio
    stop = source.frame_count if stop is None else stop
    begin = source.time_of(first)
    end = source.time_of(stop) if stop < source.frame_count else source.frame_count / source.rate
    clip = SoundClip(str(source_path), source.start_time, begin, end)
    with open_writer(output, source.rate, source.width, source.height, sound=clip) as writer:
        for _, frame in zip(range(first, stop), source.read_from(first), strict=False):
            writer.write(source.expand(frame))
    assert writer.frames_written == stop - first
    return begin, end


# (input, output extension, audio codec written, copied without re-encoding)
CASES = [
    ("aac.mp4", "mp4", "aac", True),
    ("aac.mp4", "mov", "aac", True),
    ("aac.mp4", "mkv", "aac", True),
    ("aac.mp4", "webm", "opus", False),
    ("aac.mp4", "avi", "pcm_s16le", False),
    ("pcm.mov", "mov", "pcm_s16le", True),
    ("pcm.mov", "mkv", "pcm_s16le", True),
    ("pcm.mov", "mp4", "aac", False),
    # AVI numbers its sound from 0: a copied first packet would lose where the range begins inside it
    # (measured: 5.3 ms early), so even PCM, which AVI takes as it is, is decoded and cut to the sample.
    ("pcm.mov", "avi", "pcm_s16le", False),
    ("opus.webm", "webm", "opus", True),
    ("opus.webm", "mkv", "opus", True),
    ("opus.webm", "mp4", "opus", True),
    ("opus.webm", "mov", "pcm_s16le", False),
]


@pytest.mark.parametrize("frames", [(0, None), (10, 40)], ids=["whole", "chunk"])
@pytest.mark.parametrize("name, extension, codec, copied", CASES)
def test_sound_is_cut_to_the_rendered_range_and_stays_in_sync(inputs, tmp_path, name, extension, codec, copied,
                                                              frames):
    output = tmp_path / f"out.{extension}"
    begin, end = render_with_sound(inputs[name], output, *frames)
    source = sound_of(inputs[name])
    sound = sound_of(output)
    assert sound.codec == codec
    frame = 1 / 25
    length = float(end - begin)
    assert abs(sound.start) <= frame and abs(sound.end - length) <= frame and abs(sound.duration - length) <= frame
    # The beep sits where it was relative to the pictures: to the sample when re-encoded, within the packet
    # the cut falls in when copied (measured: up to 6.5 ms early or late).
    shift = float(PACKET) if copied else 0.002
    assert abs(sound.beep_start - (source.beep_start - float(begin))) <= shift, (sound, source)
    assert abs(sound.beep_end - (source.beep_end - float(begin))) <= shift, (sound, source)
    if copied:  # a run of the input's coded sound, byte for byte
        assert audio_bytes(output) in audio_bytes(inputs[name])


def test_no_sound_unless_given(inputs, tmp_path):
    source = open_source(inputs["aac.mp4"])
    output = tmp_path / "silent.mp4"
    with open_writer(output, source.rate, source.width, source.height) as writer:
        for frame in source.read_from(0):
            writer.write(source.expand(frame))
    assert [stream["codec_type"] for stream in ffprobe(output, "-show_streams")["streams"]] == ["video"]


def test_sources_say_whether_they_have_sound_and_where_their_pictures_start(inputs, tmp_path):
    assert open_source(inputs["aac.mp4"]).has_audio
    silent = tmp_path / "silent.mp4"
    ffmpeg(*PICTURES, "-frames:v", "3", "-c:v", "libx264", silent)
    assert not open_source(silent).has_audio
    # WebM shifts everything by Opus's encoder delay: the first picture is 7 ms in.
    assert open_source(inputs["opus.webm"]).start_time == Fraction(7, 1000)
    assert open_source(inputs["aac.mp4"]).start_time == 0


@pytest.mark.parametrize("extension, codec", [("webm", "opus"), ("avi", "pcm_s16le"), ("mp4", "aac")])
def test_surround_sound_keeps_its_channels_when_it_is_encoded_again(tmp_path, extension, codec):
    source = tmp_path / "surround.mov"  # 5.1 PCM: encoded again for each of these outputs
    ffmpeg(*PICTURES, "-f", "lavfi", "-i", BEEP, "-filter_complex", "[1]pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", source)
    output = tmp_path / f"out.{extension}"
    render_with_sound(source, output, 0, None)
    (stream,) = ffprobe(output, "-select_streams", "a", "-show_entries", "stream=codec_name,channels")["streams"]
    assert (stream["codec_name"], stream["channels"]) == (codec, 6)
    assert sound_of(output).beep_start == pytest.approx(1.0, abs=0.03)  # and it still plays in time


@pytest.mark.parametrize("extension, codec", [("webm", "opus"), ("mp4", "aac")])
def test_5_1_side_sound_is_encoded_as_the_standard_5_1_with_its_side_channels_at_the_back(tmp_path, extension,
                                                                                           codec):
    source = tmp_path / "side.mov"  # AC-3's usual 5.1 layout, sound only in its side channels
    ffmpeg(*PICTURES, "-f", "lavfi", "-i", BEEP, "-filter_complex", "[1]pan=5.1(side)|c4=c0|c5=c0",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", source)
    output = tmp_path / f"out.{extension}"
    render_with_sound(source, output, 0, None)
    (stream,) = ffprobe(output, "-select_streams", "a", "-show_entries",
                        "stream=codec_name,channel_layout")["streams"]
    assert (stream["codec_name"], stream["channel_layout"]) == (codec, "5.1")
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(output), "-map", "0:a:0", "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    levels = np.abs(np.frombuffer(raw, np.float32).reshape(-1, 6)).max(axis=0)
    assert levels[4] > 0.4 and levels[5] > 0.4 and levels[:4].max() < 0.05  # the side channels, at the back


# Distinct levels per channel: where each lands in the output shows whether channels kept their places.
LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
SURROUND = {  # PCM in MOV is read in FFmpeg's custom channel order (its side channels before its back ones)
    "pcm71.mov": ("7.1", ("-c:a", "pcm_s16le")),
    "pcm61.mov": ("6.1", ("-c:a", "pcm_s16le")),
    "aac71.mp4": ("7.1", ("-c:a", "aac")),
}


@pytest.mark.parametrize("extension, codec", [("webm", "opus"), ("avi", "pcm_s16le"), ("mp4", "aac")])
@pytest.mark.parametrize("name", list(SURROUND))
def test_6_1_and_7_1_sound_is_encoded_again_with_every_channel_and_no_crash(tmp_path, name, extension, codec):
    layout, codecs = SURROUND[name]
    channels = 8 if layout == "7.1" else 7
    pan = "|".join(f"c{index}={LEVELS[index]}*c0" for index in range(channels))
    source = tmp_path / name
    ffmpeg(*PICTURES, "-f", "lavfi", "-i", f"sine=f=440:r={RATE}:d=2", "-filter_complex", f"[1]pan={layout}|{pan}",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", *codecs, source)
    output = tmp_path / f"out.{extension}"
    # A child process: PyAV's defects with these layouts crash natively, which must fail this test, not pytest.
    result = subprocess.run([sys.executable, str(SCRIPT), str(source), "-o", str(output), "--frames", "10:40"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (result.returncode, result.stderr)
    (stream,) = ffprobe(output, "-select_streams", "a", "-show_entries", "stream=codec_name,channels")["streams"]
    assert (stream["codec_name"], stream["channels"]) == (codec, channels)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(output), "-map", "0:a:0", "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    samples = np.frombuffer(raw, np.float32).reshape(-1, channels)
    assert abs(len(samples) / RATE - 1.2) < 0.03  # frames 10 to 39 at 25 fps
    levels = np.sqrt(2 * np.mean(samples[RATE // 10: -RATE // 10].astype(float) ** 2, axis=0)) / 0.125
    lfe = 3  # AAC and Opus keep only the lowest frequencies of the LFE channel
    others = [index for index in range(channels) if index != lfe or (codec, name[:3]) == ("pcm_s16le", "pcm")]
    # Every level arrives once, not mixed with another; the front ones, whose places no convention disputes,
    # where they were (Opus stores channels in its own order, which the witness's older FFmpeg maps otherwise).
    assert sorted(np.round(levels[others], 1)) == pytest.approx(sorted(LEVELS[index] for index in others), abs=0.02)
    if codec != "opus":
        assert levels[:3] == pytest.approx(LEVELS[:3], abs=0.02)


def test_a_layout_in_custom_order_is_put_in_standard_order():
    assert standard_layout(["FL", "FR", "FC", "LFE", "SL", "SR", "BL", "BR"]) == ("7.1", [0, 1, 2, 3, 6, 7, 4, 5])
    assert standard_layout(["FL", "FR", "FC", "LFE", "BC", "SL", "SR"]) == ("6.1", None)
    assert standard_layout(["NONE"] * 7) == ("6.1", None)  # unlabelled: FFmpeg's default for the count
    assert standard_layout(["FL", "FL"]) == ("stereo", None)


def _joined_recordings(folder: Path) -> Path:
    """Two one-second recordings joined as they were (a broadcast's programmes, a camera's files): the sound's
    sample rate changes from 44.1 to 48 kHz a second in."""
    parts = []
    for rate in (44100, 48000):
        parts.append(folder / f"{rate}.ts")
        ffmpeg(*PICTURES[:-1], PICTURES[-1].replace("duration=2", "duration=1"), "-f", "lavfi", "-i",
               f"sine=r={rate}:d=1", "-c:v", "libx264", "-c:a", "aac", parts[-1])
    listing = folder / "parts.txt"
    listing.write_text("".join(f"file '{part}'\n" for part in parts))
    joined = folder / "joined.ts"
    ffmpeg("-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", joined)
    return joined


@pytest.mark.parametrize("extension", ["mp4", "mkv", "mov", "webm", "avi"])
def test_sound_whose_sample_rate_changes_mid_stream_is_resampled(tmp_path, extension):
    joined = _joined_recordings(tmp_path)
    output = tmp_path / f"out.{extension}"
    result = subprocess.run([sys.executable, str(SCRIPT), str(joined), "-o", str(output)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(output), "-map", "0:a:0", "-ac", "1", "-ar", str(RATE),
                          "-f", "f32le", "-"], check=True, capture_output=True).stdout
    assert len(raw) / 4 / RATE == pytest.approx(2.0, abs=0.06)


def test_opening_a_movie_hears_where_its_sound_jumps_and_a_render_reads_the_file_for_it_no_more(tmp_path, monkeypatch):
    """The first demuxing (which reads every packet anyway) keeps where the sound does not follow on, as a scan of
    the file finds it; a render's sound takes that, and the file is not read again for it."""
    from blender_addon.core.settings import Settings
    from blender_addon.media import sound
    from blender_addon.media.sound_jumps import steady_between
    from blender_addon.render import RenderRequest, render

    joined = _joined_recordings(tmp_path)
    source = open_source(joined)
    start = source.start_time
    assert source.sound_jumps and all(after - start > Fraction(9, 10) for _, after in source.sound_jumps)
    assert steady_between(source.sound_jumps, start, start + Fraction(1, 2))  # the first recording alone
    assert not steady_between(source.sound_jumps, start, start + 2)
    for begin, end in ((0, 2), (0, Fraction(1, 2)), (Fraction(1, 2), Fraction(3, 2)), (Fraction(3, 2), 2)):
        begin, end = start + begin, start + end
        assert steady_between(source.sound_jumps, begin, end) == sound._steady(str(joined), begin, end)
    assert open_source(write_plain_movie(tmp_path)).sound_jumps == ()

    def read_again(*args):
        raise AssertionError("the sound was read again to know whether it jumps")

    monkeypatch.setattr(sound, "_steady", read_again)
    render(RenderRequest(input=joined, output=tmp_path / "out.mp4", settings=Settings()))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(tmp_path / "out.mp4"), "-map", "0:a:0", "-ac", "1", "-ar",
                          str(RATE), "-f", "f32le", "-"], check=True, capture_output=True).stdout
    assert len(raw) / 4 / RATE == pytest.approx(2.0, abs=0.06)  # resampled across the change, nothing lost


def write_plain_movie(folder: Path) -> Path:
    path = folder / "plain.mp4"
    ffmpeg(*PICTURES, "-f", "lavfi", "-i", f"sine=r={RATE}:d=2", "-c:v", "libx264", "-c:a", "aac", path)
    return path
