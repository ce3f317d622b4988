"""Movies through FFmpeg's libraries (PyAV): every writer's round trip, and every kind of picture and time read right.

Test inputs are made with Debian's ffmpeg, and ffprobe checks what the writers wrote: both are
FFmpeg builds independent of the one inside PyAV.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from media_helpers import (
    COUNT,
    HEIGHT,
    WIDTH,
    ffmpeg,
    ffmpeg_i420,
    ffprobe,
    frame_times,
    largest_error,
    media_threads,
    noise_frames,
    read_all,
    smooth_frames,
    video_stream,
    write_frames,
    write_image,
)

from blender_addon.core.engine import EngineStats, choose_strategy, extract_motion
from blender_addon.core.plan import resolve
from blender_addon.core.settings import Settings
from blender_addon.media import open_source, open_writer

NTSC = Fraction(30000, 1001)


@pytest.fixture(autouse=True)
def no_thread_outlives_its_test():
    yield
    assert media_threads() == []


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A folder for the inputs ffmpeg makes, shared by the tests of this module."""
    return tmp_path_factory.mktemp("inputs")


def make_input(folder: Path, name: str, *args: str) -> Path:
    """``folder/name`` made by ffmpeg once per module (the arguments go before the output name)."""
    path = folder / name
    if not path.exists():
        ffmpeg(*args, path)
    return path


TESTSRC = ("-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=25")


def gop_h264(folder: Path) -> Path:
    """30 frames of H.264, each different, with B-frames and a keyframe every 10 frames."""
    return make_input(folder, "gop.mp4", *TESTSRC, "-frames:v", "30", "-vf", "noise=alls=10:allf=t",  # no two alike
                      "-c:v", "libx264", "-g", "10", "-bf", "3", "-pix_fmt", "yuv420p")


def smooth_pngs(folder: Path) -> Path:
    """The smooth frames as PNG files, for ffmpeg to encode in other pixel formats."""
    pattern = folder / "smooth" / "%03d.png"
    if not pattern.parent.exists():
        for index, frame in enumerate(smooth_frames(6)):
            write_image(pattern.parent / f"{index:03d}.png", frame)
    return pattern


# --- every writer: count, exact rate, codec and colour tags, pixels ----------------------------------

TAGGED = {"color_space": "smpte170m", "color_range": "tv", "color_primaries": "bt709", "color_transfer": "bt709"}

# (extension, --codec, ffprobe's codec, pixel format, colour tags, (mean, largest) error on smooth frames or None
# for lossless). Errors measured on 64x48 smooth frames: mean 1.4-3.1, largest 7-25.
WRITERS = [
    ("mp4", None, "h264", "yuv420p", TAGGED, (4, 32)),
    ("mp4", "h265", "hevc", "yuv420p", TAGGED, (4, 32)),
    ("mp4", "av1", "av1", "yuv420p", TAGGED, (4, 32)),
    ("mp4", "mpeg4", "mpeg4", "yuv420p", TAGGED, (3, 24)),
    ("mov", None, "prores", "yuv422p10le", TAGGED, (2, 12)),
    ("mkv", None, "ffv1", "bgr0", {}, None),
    ("webm", None, "vp9", "yuv420p", TAGGED, (4, 32)),
    ("webm", "av1", "av1", "yuv420p", TAGGED, (4, 32)),
    ("avi", None, "mjpeg", "yuvj420p", {"color_range": "pc"}, (2.5, 16)),
]


@pytest.mark.parametrize("extension, codec, codec_name, pix_fmt, tags, tolerance", WRITERS)
def test_round_trip_through_every_movie_writer(tmp_path, capfd, extension, codec, codec_name, pix_fmt, tags,
                                               tolerance):
    frames = smooth_frames() if tolerance else noise_frames()
    path = write_frames(tmp_path / f"out.{extension}", frames, fps=NTSC, codec=codec)
    assert capfd.readouterr().err == ""  # no encoder chatter (SVT-AV1 prints its settings unless told not to)
    stream = video_stream(path)
    assert (stream["codec_name"], stream["pix_fmt"], stream["width"], stream["height"]) == (
        codec_name, pix_fmt, WIDTH, HEIGHT)
    assert int(stream["nb_read_packets"]) == COUNT
    assert stream["r_frame_rate"] == stream["avg_frame_rate"] == "30000/1001"
    assert {key: stream.get(key) for key in tags} == tags
    if codec_name == "prores":
        assert stream["profile"] == "HQ"
    if codec_name == "mjpeg":  # JPEG's own matrix: BT.601 under either name
        assert stream.get("color_space") in ("bt470bg", "smpte170m")

    source = open_source(path)
    assert (source.frame_count, source.width, source.height) == (COUNT, WIDTH, HEIGHT)
    assert source.rate == NTSC and source.timestamps is None and not source.fps_guessed
    assert source.time_of(COUNT - 1) == (COUNT - 1) * Fraction(1001, 30000)
    decoded = read_all(source)
    assert all(frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8 for frame in decoded)
    if tolerance is None:
        assert all(np.array_equal(a, b) for a, b in zip(frames, decoded, strict=True))
    else:
        mean, largest = largest_error(frames, decoded)
        assert mean < tolerance[0] and largest < tolerance[1], (mean, largest)


def test_the_h264_writer_takes_crf_and_encoder_preset(tmp_path):
    frames = smooth_frames()
    fine = write_frames(tmp_path / "fine.mp4", frames, crf=0, encoder_preset="ultrafast")
    coarse = write_frames(tmp_path / "coarse.mp4", frames, crf=45, encoder_preset="ultrafast")
    assert fine.stat().st_size > 3 * coarse.stat().st_size
    fine_error = largest_error(frames, read_all(open_source(fine)))
    coarse_error = largest_error(frames, read_all(open_source(coarse)))
    assert fine_error[0] < 2 < coarse_error[0]  # CRF 0 keeps the 4:2:0 planes: only chroma subsampling is left


@pytest.mark.parametrize(
    "extension, codec, stored",
    [("mp4", None, (66, 50)), ("mp4", "h265", (66, 50)), ("mov", None, (66, 50)), ("webm", None, (66, 50)),
     ("avi", None, (66, 50)), ("mkv", None, (65, 49))],
)
def test_odd_frame_sizes_are_padded_for_4_2_0_codecs_and_kept_by_ffv1(tmp_path, extension, codec, stored):
    frames = smooth_frames(3, width=65, height=49)
    path = write_frames(tmp_path / f"out.{extension}", frames, codec=codec)
    stream = video_stream(path)
    assert (stream["width"], stream["height"]) == stored
    source = open_source(path)
    assert (source.width, source.height) == stored
    decoded = read_all(source)
    if stored == (65, 49):
        assert all(np.array_equal(a, b) for a, b in zip(frames, decoded, strict=True))
        return
    # The last column and row repeated: nothing lost, one line more.
    assert largest_error(frames, [frame[:49, :65] for frame in decoded])[0] < 4
    padded = [cv2.copyMakeBorder(frame, 0, 1, 0, 1, cv2.BORDER_REPLICATE) for frame in frames]
    assert largest_error(padded, decoded)[0] < 4
    for frame in decoded:
        assert np.abs(frame[:, 65].astype(int) - frame[:, 64]).mean() < 4
        assert np.abs(frame[49].astype(int) - frame[48]).mean() < 4


@pytest.mark.parametrize("width, height", [(1, 48), (64, 1), (1, 1)])
def test_ffv1_keeps_a_one_pixel_wide_or_tall_video_losslessly(tmp_path, width, height):
    frames = noise_frames(3, width=width, height=height)
    decoded = read_all(open_source(write_frames(tmp_path / "line.mkv", frames)))
    assert all(np.array_equal(a, b) for a, b in zip(frames, decoded, strict=True))


# --- frame rates and time ----------------------------------------------------------------------------


def test_29_97_fps_is_read_as_exactly_30000_over_1001(made):
    path = make_input(made, "ntsc.mp4", "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=30000/1001",
                      "-frames:v", "15", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    source = open_source(path)
    assert source.rate == NTSC and source.timestamps is None
    assert source.frame_count == 15
    assert [source.time_of(i) for i in range(15)] == frame_times(path) == [i * Fraction(1001, 30000) for i in range(15)]
    assert str(source).endswith("(64x48, 15 frames, 29.97 fps)")


# Frames 0-9 every 40 ms, 10-19 every 100 ms, 20-29 every 20 ms, on a millisecond grid.
VFR_PTS = "if(lt(N,10),N*40,if(lt(N,20),400+(N-10)*100,1400+(N-20)*20))"


def vfr_input(folder: Path) -> Path:
    return make_input(folder, "vfr.mp4", *TESTSRC, "-frames:v", "30", "-vf", f"settb=1/1000,setpts='{VFR_PTS}/1000/TB'",
                      "-fps_mode", "passthrough", "-enc_time_base:v", "1:1000", "-c:v", "libx264", "-g", "10",
                      "-pix_fmt", "yuv420p")


def test_variable_frame_rate_keeps_every_frames_timestamp(made):
    path = vfr_input(made)
    probed = frame_times(path)
    steps = {b - a for a, b in zip(probed, probed[1:], strict=False)}
    assert len(steps) >= 3  # the file really is variable
    source = open_source(path)
    assert source.frame_count == 30
    assert source.timestamps == tuple(probed)
    assert [source.time_of(i) for i in range(30)] == probed
    assert str(source).endswith(", variable)")
    # A frame rate given by the user spaces the frames evenly instead.
    even = open_source(path, fps=25)
    assert even.timestamps is None and even.time_of(29) == Fraction(29, 25)


@pytest.mark.parametrize("extension", ["mp4", "mov", "mkv", "webm"])
def test_writing_with_the_sources_time_base_keeps_its_timestamps(made, tmp_path, extension):
    source = open_source(vfr_input(made))
    output = tmp_path / f"out.{extension}"
    with open_writer(output, source.rate, source.width, source.height, time_base=source.time_base) as writer:
        for index, frame in enumerate(source.read_from(0)):
            writer.write(source.expand(frame), time=source.time_of(index))
    assert frame_times(output) == list(source.timestamps)
    assert open_source(output).timestamps == source.timestamps


def test_a_variable_frame_rate_chunk_starts_at_zero_and_keeps_its_steps(made, tmp_path):
    source = open_source(vfr_input(made))
    first, stop = 8, 24  # across both changes of rate
    output = tmp_path / "chunk.mp4"
    with open_writer(output, source.rate, source.width, source.height, time_base=source.time_base,
                     start=source.time_of(first)) as writer:
        for index, frame in zip(range(first, stop), source.read_from(first), strict=False):
            writer.write(source.expand(frame), time=source.time_of(index))
    assert frame_times(output) == [time - source.time_of(first) for time in source.timestamps[first:stop]]


# --- pictures: rotation, bit depth, chroma, range, odd sizes, alpha -----------------------------------


@pytest.mark.parametrize("rotate, turns", [(90, 1), (270, -1), (180, 2)])
def test_a_rotation_tagged_movie_reads_upright(made, tmp_path, rotate, turns):
    """Phone videos store frames sideways with a display rotation; they come out as players show them."""
    plain = gop_h264(made)
    tagged = tmp_path / f"rotate{rotate}.mp4"
    ffmpeg("-i", plain, "-c", "copy", "-metadata:s:v", f"rotate={rotate}", tagged)
    source = open_source(tagged)
    size = (HEIGHT, WIDTH) if rotate % 180 else (WIDTH, HEIGHT)
    assert (source.width, source.height) == size
    assert source.frame_bytes == WIDTH * HEIGHT * 3  # rotated frames are expanded on the read head's thread
    upright = read_all(source)
    stored = read_all(open_source(plain))
    assert len(upright) == 30
    assert all(np.array_equal(a, np.rot90(b, turns)) for a, b in zip(upright, stored, strict=True))
    # The direction is the one OpenCV's FFmpeg applies (its colour conversion differs by a few levels).
    capture = cv2.VideoCapture(str(tagged), cv2.CAP_FFMPEG)
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    ok, shown = capture.read()
    capture.release()
    assert ok and shown.shape == upright[0].shape
    assert np.abs(shown.astype(int) - upright[0]).mean() < 2
    if rotate != 180:
        assert np.abs(shown.astype(int) - np.rot90(stored[0], -turns)).mean() > 20  # the other way round is wrong


PIXEL_FORMATS = [
    ("yuv420p10le", "libx264"),
    ("yuv422p", "libx264"),
    ("yuv444p", "libx264"),
    ("yuv422p10le", "libx264"),
    ("yuv444p10le", "libx265"),
    ("yuvj420p", "libx264"),  # full range, as some phones write
    ("yuvj420p", "mjpeg"),
]


@pytest.mark.parametrize("pix_fmt, encoder", PIXEL_FORMATS)
def test_deep_and_full_chroma_and_full_range_inputs_read_as_8bit_like_4_2_0(made, pix_fmt, encoder):
    """Reduced once to 8-bit limited-range 4:2:0, then converted like any H.264: near the 8-bit 4:2:0 encode."""
    pngs = smooth_pngs(made)
    lossless = {"libx264": ["-qp", "0"], "libx265": ["-x265-params", "lossless=1:log-level=error"],
                "mjpeg": ["-q:v", "1"]}[encoder]
    reference = make_input(made, "smooth_yuv420p.mp4", "-framerate", "25", "-i", pngs, "-c:v", "libx264",
                           "-qp", "0", "-pix_fmt", "yuv420p")
    path = make_input(made, f"smooth_{pix_fmt}_{encoder}.{'avi' if encoder == 'mjpeg' else 'mp4'}",
                      "-framerate", "25", "-i", pngs, "-c:v", encoder, *lossless, "-pix_fmt", pix_fmt)
    assert video_stream(path)["pix_fmt"] == pix_fmt
    source = open_source(path)
    assert source.frame_bytes == WIDTH * HEIGHT * 3 // 2  # held as 8-bit 4:2:0
    frames = read_all(source)
    assert all(frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8 for frame in frames)
    # Measured: the 8-bit 4:2:0 encode is within mean 1.4, largest 5 of the PNGs; these within 1.5 / 8 (MJPEG
    # 1.8 / 11) of the PNGs and 1.1 / 5 (MJPEG 1.4 / 9) of that encode. Full range read as if limited would
    # stretch the contrast: mean 4.8, largest 18.
    largest_allowed = 12 if encoder == "mjpeg" else 8
    mean, largest = largest_error(frames, smooth_frames(6))
    assert mean < 2.2 and largest <= largest_allowed, (mean, largest)
    mean, largest = largest_error(frames, read_all(open_source(reference)))
    assert mean < 1.6 and largest <= largest_allowed, (mean, largest)


@pytest.mark.parametrize("encoder, extension", [("libvpx-vp9", "webm"), ("ffv1", "mkv"), ("mpeg4", "mp4")])
def test_odd_sized_4_2_0_inputs_read_at_their_size(made, encoder, extension):
    path = make_input(made, f"odd.{extension}", "-f", "lavfi", "-i", "testsrc2=size=66x50:rate=25", "-frames:v", "6",
                      "-vf", "format=rgb24,crop=65:49:0:0,format=yuv420p", "-c:v", encoder)
    assert (video_stream(path)["width"], video_stream(path)["height"]) == (65, 49)
    source = open_source(path)
    assert (source.width, source.height) == (65, 49)
    assert source.frame_bytes == 66 * 50 * 3 // 2  # compact planes of the even size
    frames = read_all(source)
    assert all(frame.shape == (49, 65, 3) for frame in frames)
    # FFmpeg's own planes, converted as documented, give the same pixels.
    reference = ffmpeg_i420(path, 65, 49)
    assert all(np.array_equal(a, b) for a, b in zip(frames, reference, strict=True))


def rgba_frames(count: int = 4) -> list[np.ndarray]:
    """BGRA frames whose alpha runs from transparent (left) to opaque (right)."""
    frames = []
    for colour in noise_frames(count, seed=5):
        alpha = np.broadcast_to(np.linspace(0, 255, WIDTH).round().astype(np.uint8), (HEIGHT, WIDTH))
        frames.append(np.dstack([colour, alpha]))
    return frames


@pytest.mark.parametrize("codec, pix_fmt", [("png", "rgba"), ("qtrle", "argb")])
def test_inputs_with_alpha_are_flattened_over_black(tmp_path, codec, pix_fmt):
    frames = rgba_frames()
    for index, frame in enumerate(frames):
        write_image(tmp_path / "rgba" / f"{index:02d}.png", frame)
    path = tmp_path / f"{codec}.mov"
    ffmpeg("-framerate", "25", "-i", tmp_path / "rgba" / "%02d.png", "-c:v", codec, "-pix_fmt", pix_fmt, path)
    assert video_stream(path)["pix_fmt"] == pix_fmt
    decoded = read_all(open_source(path))
    expected = [np.rint(frame[:, :, :3] * (frame[:, :, 3:] / 255)).astype(np.uint8) for frame in frames]
    assert all(np.array_equal(a, b) for a, b in zip(decoded, expected, strict=True))
    assert all(frame[:, 0].max() == 0 for frame in decoded)  # fully transparent: black


# --- compact frames, read heads and seeking ------------------------------------------------------------


def test_4_2_0_frames_are_held_in_half_the_bytes_of_bgr(made, tmp_path):
    source = open_source(gop_h264(made))
    assert source.frame_bytes == WIDTH * HEIGHT * 3 // 2
    compact = next(iter(source.read_from(0, compact=True)))
    assert compact.shape == (HEIGHT * 3 // 2, WIDTH) and compact.nbytes == source.frame_bytes
    assert source.expand(compact).shape == (HEIGHT, WIDTH, 3)
    assert np.array_equal(source.expand(compact), read_all(source)[0])
    lossless = open_source(write_frames(tmp_path / "rgb.mkv", noise_frames(2)))
    assert lossless.frame_bytes == WIDTH * HEIGHT * 3  # FFV1 BGR is read as BGR


def test_read_from_a_frame_equals_reading_from_zero_and_skipping_across_b_frames_and_keyframes(made):
    path = gop_h264(made)
    types = [frame["pict_type"] for frame in ffprobe(path, "-show_entries", "frame=pict_type")["frames"]]
    assert types.count("I") == 3 and "B" in types
    source = open_source(path)
    full = read_all(source)
    assert len(full) == 30
    assert all(not np.array_equal(a, b) for a, b in zip(full, full[1:], strict=False))  # a frame off would show
    for start in (1, 2, 9, 10, 11, 13, 19, 20, 21, 28, 29, 30):
        assert all(np.array_equal(a, b) for a, b in zip(read_all(source, start), full[start:], strict=True)), start
        compact = [source.expand(frame).copy() for frame in source.read_from(start, compact=True)]
        assert all(np.array_equal(a, b) for a, b in zip(compact, full[start:], strict=True)), start


def test_seeking_a_variable_frame_rate_file_lands_on_the_frame(made):
    source = open_source(vfr_input(made))
    full = read_all(source)
    for start in (5, 10, 15, 21, 27):
        assert all(np.array_equal(a, b) for a, b in zip(read_all(source, start), full[start:], strict=True)), start


class ExpandedSource:
    """A movie seen through its BGR read heads only: no ``expand``, so the engine's window holds BGR frames."""

    def __init__(self, source) -> None:
        self._source = source
        self.frame_count, self.width, self.height = source.frame_count, source.width, source.height

    def read_from(self, start: int):
        return self._source.read_from(start)


SETTINGS = [
    Settings(offset=3),
    Settings(offset=-2, edges="trim"),
    Settings(offset=2, time_colour=True, trails=0.5),
    Settings(mode="freeze", reference=12),
]


def render(source, settings: Settings, **options) -> list[np.ndarray]:
    return [frame.copy() for frame in extract_motion(source, settings, **options)]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda settings: settings.describe())
def test_compact_window_rgb_window_and_two_heads_render_byte_identical_frames(made, settings):
    source = open_source(gop_h264(made))
    stats = {name: EngineStats() for name in ("compact", "rgb", "heads")}
    compact = render(source, settings, stats=stats["compact"])
    rgb = render(ExpandedSource(source), settings, stats=stats["rgb"])
    heads = render(source, settings, max_memory=0, stats=stats["heads"])
    assert len(compact) == len(rgb) == len(heads) > 20
    assert all(np.array_equal(a, b) for a, b in zip(compact, rgb, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(compact, heads, strict=True))
    assert stats["heads"].strategy == "two-heads" and stats["heads"].heads_opened >= 2
    if settings.mode == "shift":
        assert stats["compact"].strategy == stats["rgb"].strategy == "window"
        span = settings.reach + 1
        assert stats["compact"].max_frames_held == stats["rgb"].max_frames_held == span
        assert stats["compact"].heads_opened == 1
        # Compact frames fit twice as many in the same memory: a budget for the span of 4:2:0 frames
        # holds a window of them, while BGR frames need two heads.
        budget = span * WIDTH * HEIGHT * 3 // 2
        plan = resolve(settings, (source.height, source.width))
        assert choose_strategy(plan, source, budget) == "window"
        assert choose_strategy(plan, ExpandedSource(source), budget) == "two-heads"


def test_ffmpeg_logs_through_no_python_callback():
    """A Python log callback takes the GIL from FFmpeg's threads: freeing a decoder while one logs deadlocks."""
    from blender_addon.media import encode, movie  # noqa: F401  (importing them must leave the log alone)

    assert av.logging.get_level() is None


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="FFmpeg decodes on one thread on one core anyway")
def test_only_the_first_read_head_decodes_on_frame_threads(tmp_path):
    source = open_source(write_frames(tmp_path / "clip.mp4", smooth_frames(12)))

    def threads() -> int:
        return len(os.listdir("/proc/self/task"))

    before = threads()
    first, partner = source.read_planes(0), source.read_planes(4)
    try:
        next(first)
        one = threads() - before  # its read-ahead thread and FFmpeg's frame threads, one a core
        assert one == 1 + os.cpu_count()
        next(partner)  # beside it: a partner running behind, or a reference
        assert threads() - before - one == 1 < one  # its read-ahead thread only
    finally:
        first.close(), partner.close()
    again = source.read_planes(0)  # the first head once the others have ended
    try:
        next(again)
        assert threads() - before == one
    finally:
        again.close()
