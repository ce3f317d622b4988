"""Media I/O: names and kinds of outputs, image sequences, read heads, threads, and one clear error per bad file.

Movie pictures and time are in test_media_movie.py, sound in test_media_sound.py.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import traceback
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from media_helpers import (
    COUNT,
    HEIGHT,
    WIDTH,
    ffmpeg,
    flat_frame,
    media_threads,
    noise_frames,
    read_all,
    smooth_frames,
    video_stream,
    write_frames,
    write_image,
)

from blender_addon import media
from blender_addon.core.engine import SourceEndedEarly, extract_motion
from blender_addon.core.rates import exact_rate, usable_fps
from blender_addon.core.settings import Settings
from blender_addon.media import MediaError, open_source, open_writer, output_kind
from blender_addon.media import movie as movie_module


@pytest.fixture(autouse=True)
def no_thread_outlives_its_test():
    """Read heads and writers run threads of their own: none may be left running after a test."""
    yield
    assert media_threads() == []


# --- output kinds and encoder options --------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kind",
    [
        ("out.avi", "movie"),
        ("out.mp4", "movie"),
        ("OUT.MKV", "movie"),
        ("out.mov", "movie"),
        ("out.webm", "movie"),
        ("frames/%05d.png", "sequence"),
        ("frames/shot_%04d.jpg", "sequence"),
        ("frames/%d.tif", "sequence"),
        ("frames/shot_####.png", "sequence"),
        ("take#1.mp4", "movie"),  # a movie is one file, whatever its name holds
        ("50%done.mkv", "movie"),
    ],
)
def test_output_kind_follows_the_extension_and_pattern(name, kind):
    assert output_kind(name) == kind


@pytest.mark.parametrize(
    "name, message",
    [
        ("out.flv", "out.flv: cannot write .flv; use .mp4, .mov, .mkv, .webm, .avi or a numbered image sequence"),
        ("motion", "motion: cannot write a file without an extension"),
        ("out.png", "out.png: an image output needs a frame number in its name, such as frames/%05d.png"),
        ("frames/%05d.bmp", "image sequences can be .png, .jpg or .tif, not .bmp"),
    ],
)
def test_output_kind_refuses_other_outputs_and_names_the_supported_ones(name, message):
    with pytest.raises(MediaError) as caught:
        output_kind(name)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("out.webm", {"codec": "h264"}, ".webm takes --codec vp9, av1, not h264"),
        ("out.mp4", {"codec": "prores"}, ".mp4 takes --codec h264, h265, av1, mpeg4, not prores"),
        ("out.mp4", {"crf": 52}, "--crf for h264 is 0 to 51, not 52"),
        ("out.webm", {"crf": 64}, "--crf for vp9 is 0 to 63, not 64"),
        ("out.mkv", {"crf": 10}, "--crf applies to h264, h265, av1 and vp9, not ffv1"),
        ("out.mp4", {"encoder_preset": "quick"}, "--encoder-preset for h264 is one of ultrafast, superfast"),
        ("out.mov", {"encoder_preset": "fast"}, "--encoder-preset applies to h264, h265, av1 and vp9, not prores"),
        ("seq/%04d.png", {"crf": 20}, "--codec, --crf and --encoder-preset apply to movie outputs"),
    ],
)
def test_codec_crf_and_preset_the_output_does_not_take_are_refused_before_anything_is_written(
    tmp_path, name, options, message,
):
    with pytest.raises(MediaError, match=re.escape(message)):
        open_writer(tmp_path / name, 25, WIDTH, HEIGHT, **options)
    assert os.listdir(tmp_path) == []


def test_frame_rates_are_kept_as_fractions():
    assert exact_rate(29.97) == Fraction(30000, 1001)
    assert exact_rate(30000 / 1001) == Fraction(30000, 1001)
    assert exact_rate(23.976) == Fraction(24000, 1001)
    assert exact_rate(25.0) == 25 and exact_rate(Fraction(60000, 1001)) == Fraction(60000, 1001)


# --- image sequences ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, exact", [("seq/%05d.png", True), ("seq/%05d.tif", True), ("seq/%04d.jpg", False)])
def test_image_sequence_round_trip_keeps_count_size_and_pixels(tmp_path, name, exact):
    frames = noise_frames() if exact else smooth_frames()
    path = write_frames(tmp_path / name, frames)
    source = open_source(path, fps=Fraction(30000, 1001))  # image files carry no frame rate
    assert (source.frame_count, source.width, source.height) == (COUNT, WIDTH, HEIGHT)
    assert source.rate == Fraction(30000, 1001) and not source.fps_guessed
    assert source.timestamps is None and source.time_of(3) == Fraction(3 * 1001, 30000)
    decoded = read_all(source)
    assert all(frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8 for frame in decoded)
    if exact:
        assert all(np.array_equal(a, b) for a, b in zip(frames, decoded, strict=True))
    else:
        errors = [np.abs(a.astype(int) - b) for a, b in zip(frames, decoded, strict=True)]
        assert max(error.mean() for error in errors) < 2  # JPEG quality 95: measured 0.9
        assert max(error.max() for error in errors) < 16


def test_sequences_are_numbered_from_zero_like_output_frames(tmp_path):
    write_frames(tmp_path / "seq" / "f_%03d.png", noise_frames(3))
    assert sorted(os.listdir(tmp_path / "seq")) == ["f_000.png", "f_001.png", "f_002.png"]


def test_folder_input_takes_the_most_common_image_extension_in_natural_order(tmp_path):
    folder = tmp_path / "shots"
    for number, value in [(10, 30), (2, 20), (1, 10)]:
        write_image(folder / f"f{number}.png", flat_frame(value))
    write_image(folder / "extra.jpg", flat_frame(200))
    write_image(folder / ".hidden.png", flat_frame(250))
    (folder / "notes.txt").write_text("not an image")
    source = open_source(folder)
    assert [os.path.basename(file) for file in source.files] == ["f1.png", "f2.png", "f10.png"]
    assert [int(frame[0, 0, 0]) for frame in read_all(source)] == [10, 20, 30]
    assert source.fps == 25.0 and source.fps_guessed


def test_pattern_input_starts_at_the_first_number(tmp_path):
    for number in [3, 4, 5, 6]:
        write_image(tmp_path / f"img_{number:04d}.png", flat_frame(number))
    write_image(tmp_path / "img_12.png", flat_frame(99))  # not zero-padded like the pattern
    source = open_source(tmp_path / "img_%04d.png", fps=12)
    assert source.frame_count == 4
    assert [int(frame[0, 0, 0]) for frame in read_all(source, 1)] == [4, 5, 6]
    assert (source.rate, source.fps_guessed) == (12, False)
    assert [int(frame[0, 0, 0]) for frame in read_all(open_source(tmp_path / "img_####.png"))] == [3, 4, 5, 6]


def test_a_gap_in_a_numbered_sequence_is_an_error_naming_the_missing_file(tmp_path):
    for number in [3, 4, 5, 6, 8, 9]:
        write_image(tmp_path / f"img_{number:04d}.png", flat_frame(number))
    with pytest.raises(MediaError) as caught:
        open_source(tmp_path / "img_%04d.png")
    assert str(caught.value) == (
        f"{tmp_path / 'img_%04d.png'}: img_0007.png is missing from the sequence img_0003.png to img_0009.png"
    )
    os.remove(tmp_path / "img_0005.png")
    with pytest.raises(MediaError, match=re.escape("img_0005.png is missing from the sequence img_0003.png to "
                                                   "img_0009.png (and 1 more)")):
        open_source(tmp_path / "img_%04d.png")


def test_sequence_images_become_8bit_bgr(tmp_path):
    rng = np.random.default_rng(3)
    gray = rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8)
    bgra = rng.integers(0, 256, (HEIGHT, WIDTH, 4), dtype=np.uint8)
    deep = rng.integers(0, 65536, (HEIGHT, WIDTH, 3), dtype=np.uint16)
    for number, image in enumerate([gray, bgra, deep], start=1):
        write_image(tmp_path / f"{number:02d}.png", image)
    frames = read_all(open_source(tmp_path / "%02d.png"))
    assert all(frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8 for frame in frames)
    assert np.array_equal(frames[0], np.dstack([gray] * 3))
    # Alpha flattened over black, as movies with alpha are: round(colour * alpha / 255).
    assert np.array_equal(frames[1], np.rint(bgra[:, :, :3] * (bgra[:, :, 3:] / 255)).astype(np.uint8))
    assert np.array_equal(frames[2], np.rint(deep / 257).astype(np.uint8))  # 16 bits rounded, not truncated


@pytest.mark.parametrize("extension", ["png", "jpg", "tif"])  # PNG and JPEG headers are parsed, TIFF is decoded
def test_mixed_image_sizes_are_refused_naming_the_file(tmp_path, extension):
    write_image(tmp_path / f"a.{extension}", flat_frame(1))
    write_image(tmp_path / f"b.{extension}", flat_frame(2, width=32, height=24))
    message = f"{tmp_path / f'b.{extension}'}: the image is 32x24 but the sequence is 64x48 (from a.{extension})"
    with pytest.raises(MediaError) as caught:
        open_source(tmp_path)
    assert str(caught.value) == message


def test_an_image_that_does_not_decode_is_named(tmp_path):
    write_image(tmp_path / "01.png", flat_frame(1))
    (tmp_path / "02.png").write_bytes(b"\x89PNG but not really")
    with pytest.raises(MediaError, match=re.escape(f"{tmp_path / '02.png'}: not an image OpenCV can read")):
        open_source(tmp_path / "%02d.png")


# --- read heads ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["clip.mp4", "clip.avi", "clip.mkv", "clip.mov", "clip.webm", "seq/%05d.png"])
def test_read_from_start_equals_reading_from_zero_and_skipping(tmp_path, name):
    source = open_source(write_frames(tmp_path / name, noise_frames()), fps=25 if "%" in name else None)
    full = read_all(source)
    assert len(full) == COUNT
    for start in (1, 5, COUNT - 1, COUNT):
        assert all(np.array_equal(a, b) for a, b in zip(read_all(source, start), full[start:], strict=True))
    assert read_all(source, COUNT) == []
    # Two heads open at once stay independent.
    ahead, behind = source.read_from(4), source.read_from(0)
    for index in range(COUNT - 4):
        assert np.array_equal(source.expand(next(ahead)), full[index + 4])
        assert np.array_equal(source.expand(next(behind)), full[index])
    ahead.close()
    behind.close()


def test_reading_stops_at_frame_count_even_if_the_decoder_has_more(tmp_path):
    source = open_source(write_frames(tmp_path / "clip.mp4", noise_frames()))
    source.frame_count = 4
    assert len(read_all(source)) == 4
    assert len(read_all(source, 3)) == 1


def test_read_from_refuses_a_start_outside_the_clip(tmp_path):
    source = open_source(write_frames(tmp_path / "clip.mkv", noise_frames(3)))
    for start in (-1, 4):
        with pytest.raises(ValueError):
            source.read_from(start)


@pytest.mark.parametrize("name", ["clip.mp4", "clip.mkv", "clip.webm", "clip.avi", "clip.mov"])
def test_every_container_counts_its_frames_from_its_packets(tmp_path, name):
    """MKV and WebM headers hold no frame count: the packets are counted instead, as ffprobe does."""
    path = write_frames(tmp_path / name, noise_frames(7))
    assert open_source(path).frame_count == 7 == int(video_stream(path)["nb_read_packets"])


# --- errors when opening ------------------------------------------------------------------------------


def test_missing_inputs_are_named(tmp_path):
    with pytest.raises(MediaError, match=re.escape(f"{tmp_path / 'input.mp4'}: no such file")):
        open_source(tmp_path / "input.mp4")
    with pytest.raises(MediaError, match=re.escape(f"{tmp_path / 'frames/%05d.png'}: no files match this pattern")):
        open_source(tmp_path / "frames/%05d.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MediaError, match=re.escape(f"{tmp_path / 'empty'}: no image files in this folder")):
        open_source(tmp_path / "empty")


def test_a_text_file_named_mp4_is_not_a_video_and_only_the_error_says_so(tmp_path, capfd):
    notes = tmp_path / "notes.mp4"
    notes.write_text("shopping list\n")
    with pytest.raises(MediaError, match=re.escape(f"{notes}: not a movie FFmpeg can read (")):
        open_source(notes)
    assert capfd.readouterr().err == ""  # not FFmpeg's "moov atom not found"


def test_a_video_without_frames_is_refused(tmp_path):
    empty = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(empty), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (WIDTH, HEIGHT))
    writer.release()  # an AVI with headers and no frames
    with pytest.raises(MediaError, match=re.escape(f"{empty}: the video has no frames")):
        open_source(empty)


def test_a_file_without_video_is_refused(tmp_path):
    sound = tmp_path / "sound.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=0.2", "-c:a", "aac", sound)
    with pytest.raises(MediaError, match=re.escape(f"{sound}: has no video stream")):
        open_source(sound)


@pytest.mark.parametrize("name", ["clip.mp4", "clip.avi", "clip.mkv"])
def test_a_truncated_video_fails_cleanly(tmp_path, name):
    """Observed: a half MP4 lacks its index (written last) and does not open: MediaError. A half AVI
    holds 4 packets of which 3 decode: a short read, which the engine reports as SourceEndedEarly.
    A half MKV opens as the 5 frames that survive and reads them all.
    """
    whole = write_frames(tmp_path / name, smooth_frames())
    half = tmp_path / f"half{whole.suffix}"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    try:
        source = open_source(half)
    except MediaError as error:
        assert str(error).startswith(f"{half}: not a movie FFmpeg can read (")
        assert name == "clip.mp4"
        return
    frames = read_all(source)
    assert 0 < len(frames) <= source.frame_count < COUNT
    assert all(frame.shape == (HEIGHT, WIDTH, 3) for frame in frames)
    if len(frames) < source.frame_count:
        with pytest.raises(SourceEndedEarly, match=f"decoding stopped at frame {len(frames)} of {source.frame_count}"):
            for _ in extract_motion(source, Settings(offset=1)):
                pass


def test_frame_rate_falls_back_to_25_when_the_file_has_none_usable(tmp_path):
    for junk in (0.0, -1.0, math.nan, math.inf, 90000.0):
        assert usable_fps(junk) is None
    assert usable_fps(23.976) == 23.976
    path = write_frames(tmp_path / "clip.mp4", noise_frames(2), fps=Fraction(30000, 1001))
    replaced = open_source(path, fps=12.5)
    assert (replaced.rate, replaced.time_of(1)) == (Fraction(25, 2), Fraction(2, 25))
    for bad in (0, -5, math.nan):
        with pytest.raises(ValueError):
            open_source(path, fps=bad)


def test_a_source_describes_itself(tmp_path):
    path = write_frames(tmp_path / "clip.mp4", noise_frames(3), fps=30000 / 1001)
    assert str(open_source(path)) == f"{path} (64x48, 3 frames, 29.97 fps)"
    write_image(tmp_path / "seq" / "1.png", flat_frame(0))
    assert str(open_source(tmp_path / "seq")) == f"{tmp_path / 'seq'} (64x48, 1 frames, 25 fps, guessed)"


# --- errors when writing ------------------------------------------------------------------------------


def test_an_existing_output_is_kept_unless_overwrite(tmp_path):
    path = write_frames(tmp_path / "out.mp4", noise_frames(3))
    before = path.read_bytes()
    with pytest.raises(MediaError) as caught:
        open_writer(path, 25.0, WIDTH, HEIGHT)
    assert str(caught.value) == f"{path} already exists (use --overwrite to replace it)"
    assert path.read_bytes() == before
    write_frames(path, noise_frames(5), overwrite=True)
    assert open_source(path).frame_count == 5
    assert os.listdir(tmp_path) == ["out.mp4"]


def test_movie_output_gets_the_usual_file_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_frames(tmp_path / "clip.mp4", noise_frames(2))
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_an_existing_sequence_is_kept_unless_overwrite(tmp_path):
    pattern = tmp_path / "seq" / "%04d.png"
    write_frames(pattern, noise_frames(5))
    with pytest.raises(MediaError, match="5 frame files already exist"):
        open_writer(pattern, 25.0, WIDTH, HEIGHT)
    fresh = noise_frames(3, seed=7)
    write_frames(pattern, fresh, overwrite=True)
    replaced = [cv2.imread(str(pattern.parent / f"{number:04d}.png")) for number in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(replaced, fresh, strict=True))


def test_sequence_chunks_number_their_files_and_sit_side_by_side(tmp_path):
    pattern = tmp_path / "seq" / "%04d.png"
    first, second = noise_frames(3, seed=1), noise_frames(2, seed=2)
    for frames, first_number in ((first, 0), (second, 3)):
        with open_writer(pattern, 25.0, WIDTH, HEIGHT, first_number=first_number, frame_count=len(frames)) as writer:
            for frame in frames:
                writer.write(frame)
    assert sorted(os.listdir(pattern.parent)) == [f"{number:04d}.png" for number in range(5)]
    assert all(np.array_equal(a, b) for a, b in zip(read_all(open_source(pattern)), first + second, strict=True))
    with pytest.raises(MediaError, match="1 frame files already exist"):
        open_writer(pattern, 25.0, WIDTH, HEIGHT, first_number=4, frame_count=2)


def test_the_output_may_not_be_an_input(tmp_path):
    source = write_frames(tmp_path / "in.mkv", noise_frames(2))
    before = source.read_bytes()
    (tmp_path / "link.mkv").symlink_to(source)
    for output in [source, tmp_path / "." / "sub" / ".." / "in.mkv", tmp_path / "link.mkv"]:
        with pytest.raises(MediaError, match="would overwrite the input"):
            open_writer(output, 25.0, WIDTH, HEIGHT, overwrite=True, protect=[source])
    assert source.read_bytes() == before
    frames = tmp_path / "frames" / "%05d.png"
    write_frames(frames, noise_frames(2))
    for protected in [frames, frames.parent]:  # the same pattern, or the folder of images it writes into
        with pytest.raises(MediaError, match="would overwrite the input"):
            open_writer(frames, 25.0, WIDTH, HEIGHT, overwrite=True, protect=[protected])


def test_a_folder_that_cannot_be_created_is_refused(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    for output in [blocker / "out.mp4", blocker / "frames" / "%05d.png"]:
        with pytest.raises(MediaError, match=re.escape(f"cannot write to {output.parent}: ")):
            open_writer(output, 25.0, WIDTH, HEIGHT)
    assert blocker.read_text() == "a file, not a folder"


def run_without_root(check) -> None:
    """Runs ``check`` in a child process that cannot bypass file permissions (drops root if needed)."""
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)  # nobody
            check()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the check failed in the child process (see stderr)"


def test_a_read_only_folder_is_refused():
    base = Path(tempfile.mkdtemp(prefix="motion-readonly-"))
    try:
        base.chmod(0o755)
        folder = base / "locked"
        folder.mkdir(mode=0o555)
        folder.chmod(0o555)

        def check() -> None:
            for output in [folder / "out.mp4", folder / "%05d.png"]:
                with pytest.raises(MediaError, match=re.escape(f"cannot write to {folder}: permission denied")):
                    open_writer(output, 25.0, WIDTH, HEIGHT)

        run_without_root(check)
        assert os.listdir(folder) == []
    finally:
        shutil.rmtree(base)


@pytest.mark.parametrize("name", ["out.mp4", "out.mkv", "out.avi", "seq/%05d.png"])
@pytest.mark.parametrize("error", [RuntimeError("render failed"), KeyboardInterrupt()])
def test_an_exception_in_the_with_block_leaves_nothing_behind(tmp_path, name, error):
    output = tmp_path / "renders" / name
    with pytest.raises(type(error)):
        with open_writer(output, 25.0, WIDTH, HEIGHT) as writer:
            for frame in noise_frames(3):
                writer.write(frame)
            temporaries = os.listdir(output.parent)
            raise error
    # While writing there was one hidden temporary beside the output, now gone with everything else.
    # (Hidden, marked partial, and for a movie the output's extension, so that FFmpeg picks the same container.)
    expected = r"\..*\.partial-[-\w]+" + ("" if "%" in name else re.escape(os.path.splitext(name)[1]))
    assert len(temporaries) == 1 and re.fullmatch(expected, temporaries[0]), temporaries
    assert os.listdir(tmp_path) == []  # the folders the writer made for the output went with it


def test_a_wrong_frame_or_no_frames_leaves_nothing_behind(tmp_path):
    with pytest.raises(ValueError, match=r"expected \(48, 64, 3\) uint8 frames"):
        with open_writer(tmp_path / "out.mp4", 25.0, WIDTH, HEIGHT) as writer:
            writer.write(flat_frame(0, width=32))
    with pytest.raises(MediaError, match="no frames were written"):
        with open_writer(tmp_path / "out.mp4", 25.0, WIDTH, HEIGHT):
            pass
    assert os.listdir(tmp_path) == []


# --- threads ------------------------------------------------------------------------------------------


def test_a_read_head_reuses_buffers_once_the_reader_lets_frames_go(tmp_path, monkeypatch):
    pools = []

    class RecordedPool(movie_module._FramePool):
        def __init__(self, shape):
            super().__init__(shape)
            pools.append(self)

    monkeypatch.setattr(movie_module, "_FramePool", RecordedPool)
    source = open_source(write_frames(tmp_path / "clip.mp4", smooth_frames(40)))
    expected = [source.expand(frame).copy() for frame in source.read_from(0, compact=True)]
    pools.clear()
    for want, frame in zip(expected, source.read_from(0, compact=True), strict=True):
        assert frame.shape == (HEIGHT * 3 // 2, WIDTH)  # 4:2:0 planes, the decoder's compact form
        assert np.array_equal(source.expand(frame), want)
    # The frame held here, the queue, the one being decoded and one the decoder thread still names.
    assert 0 < len(pools[0]) <= media.READ_AHEAD + 3
    # Frames the reader keeps stay intact: each has its own buffer.
    kept = list(source.read_from(0, compact=True))
    assert len({id(frame) for frame in kept}) == 40
    assert all(np.array_equal(source.expand(a), b) for a, b in zip(kept, expected, strict=True))


def test_closing_or_dropping_a_read_head_stops_its_thread(tmp_path):
    source = open_source(write_frames(tmp_path / "clip.mp4", noise_frames()))
    head = source.read_from(0)
    next(head)
    assert media_threads() == ["media read-ahead"]
    head.close()
    assert media_threads() == []
    head = source.read_from(3)
    next(head)
    del head  # a dropped generator is closed at once (CPython) and takes its thread along
    assert media_threads() == []


def test_an_error_while_reading_ahead_comes_after_the_frames_before_it(tmp_path):
    for number in range(4):
        write_image(tmp_path / f"{number:02d}.png", flat_frame(number))
    source = open_source(tmp_path / "%02d.png")
    write_image(tmp_path / "02.png", flat_frame(9, width=32, height=24))  # changed after opening
    head = source.read_from(0)
    assert [int(next(head)[0, 0, 0]) for _ in range(2)] == [0, 1]
    with pytest.raises(MediaError, match=re.escape(f"{tmp_path / '02.png'}: the image is 32x24")):
        next(head)


def test_the_writer_copies_each_frame_so_the_caller_may_reuse_its_array(tmp_path):
    frames = noise_frames(6)
    buffer = np.empty_like(frames[0])
    with open_writer(tmp_path / "clip.mkv", 25.0, WIDTH, HEIGHT) as writer:
        for frame in frames:
            buffer[...] = frame
            writer.write(buffer)
            buffer[...] = 0  # at once, while the frame may still wait in the queue
    assert all(np.array_equal(a, b) for a, b in zip(read_all(open_source(tmp_path / "clip.mkv")), frames, strict=True))


def failing_on_the_third_frame(writer: media.FrameWriter) -> media.FrameWriter:
    encode = writer._write

    def write(frame: np.ndarray, index: int, time: Fraction | None) -> None:
        if index == 2:
            raise MediaError(f"{writer.path}: disk full")
        encode(frame, index, time)

    writer._write = write
    return writer


@pytest.mark.parametrize("name", ["out.mp4", "out.mkv", "seq/%05d.png"])
@pytest.mark.parametrize("count", [30, 3])  # raised by a later write(), or by commit() after the last one
def test_an_encoding_error_is_raised_in_the_callers_thread_and_nothing_is_left(tmp_path, name, count):
    output = tmp_path / name
    with pytest.raises(MediaError, match="disk full"):
        with failing_on_the_third_frame(open_writer(output, 25.0, WIDTH, HEIGHT)) as writer:
            for frame in noise_frames(count):
                writer.write(frame)
    assert os.listdir(tmp_path) == []  # a sequence's folder, made for it, went with it


def test_abort_drops_queued_frames_and_stops_the_thread(tmp_path):
    for output in [tmp_path / "seq" / "%03d.png", tmp_path / "clip.mp4"]:
        writer = open_writer(output, 25.0, WIDTH, HEIGHT)
        for frame in noise_frames(5):
            writer.write(frame)
        assert media_threads() == ["media writer"]
        writer.abort()
        assert media_threads() == []
    assert os.listdir(tmp_path) == []  # the sequence's folder, made for it, went with it


def test_seeking_counts_frames_as_the_decoder_shows_them_when_timestamps_are_in_decode_order(tmp_path):
    """Some files carry each frame's decode time as its presentation time (box.mp4 in OpenCV's samples; AVI with
    packed B-frames): the decoder shows the frames in their true order under shuffled timestamps. Reading from
    any frame gives the frame a read from the start gives there."""
    import av

    from blender_addon.core.sample_clip import SampleClip, decode_frame

    clip = SampleClip(160, 96, 40, 25.0)
    path = tmp_path / "decode_order.mp4"
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = clip.width, clip.height, "yuv420p"
        stream.options = {"bframes": "2", "keyint": "12", "crf": "10"}
        frames = (av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
                  for frame in clip.read_from(0))
        for frame in [*frames, None]:
            for packet in stream.encode(frame):
                packet.pts = packet.dts  # the shown order's timestamps lost
                output.mux(packet)
    whole = [decode_frame(frame).frame for frame in open_source(path).read_from(0)]
    assert whole == sorted(whole) and len(whole) >= 30  # the whole decode: the clip's own order
    for start in range(1, len(whole)):
        frames = open_source(path).read_from(start)
        assert decode_frame(next(frames)).frame == whole[start], start
        frames.close()


def test_a_folder_whose_numbered_images_skip_a_number_is_warned_about(tmp_path):
    for number in (1, 2, 3, 5, 6, 9):
        write_image(tmp_path / f"shot_{number:04d}.png", flat_frame(number))
    source = open_source(tmp_path)
    assert source.frame_count == 6  # each image is one frame, as before
    assert source.warnings == [f"{tmp_path}: images numbered 1 to 9 lack 3 numbers (the first: 4); each image is "
                               "one frame, so the frames after a gap come early"]
    other = tmp_path / "whole"
    other.mkdir()
    for number in (7, 8, 9):
        write_image(other / f"shot_{number:04d}.png", flat_frame(number))
    write_image(other / "title.png", flat_frame(1))  # not numbered alike: nothing to say
    assert open_source(other).warnings == []
