"""Real-world inputs read right: MPEG-TS and M2TS seeks, and files that are damaged, odd or change mid-stream.

Inputs are made with Debian's ffmpeg; renders go to lossless FFV1 so that decoded frames compare exactly.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import av
import numpy as np
import pytest
from chunk_helpers import decoded
from media_helpers import ffmpeg, ffprobe, media_threads, read_all

from blender_addon import cli, join
from blender_addon.core.engine import extract_motion
from blender_addon.core.planar import planes
from blender_addon.core.settings import Settings
from blender_addon.media import open_source
from blender_addon.media.streams import VideoSource


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


def test_lent_planes_equal_the_copied_buffers_wherever_a_head_starts(broadcast):
    source = open_source(broadcast)
    for start in (0, 1, 24, 25, 26, 50, 74):
        copied = [frame.copy() for frame in source.read_from(start, compact=True)]
        lent = list(source.read_planes(start))  # all held at once, as a window holds them
        assert len(lent) == len(copied) == 75 - start
        for index, (frame, buffer) in enumerate(zip(lent, copied, strict=True)):
            assert isinstance(frame, tuple), "an even-sized 4:2:0 picture is lent as it is"
            for plane, expected in zip(frame, planes(buffer), strict=True):
                assert np.array_equal(plane, expected), f"start {start}, frame {index}"


@pytest.mark.parametrize(("settings", "max_memory"), [
    (Settings(offset=30), None), (Settings(offset=-55), 0), (Settings(mode="freeze", reference=60), None),
], ids=["window", "two heads", "freeze"])
def test_the_planar_path_on_lent_planes_equals_it_on_copied_buffers(broadcast, monkeypatch, settings, max_memory):
    source = open_source(broadcast)
    memory = {} if max_memory is None else {"max_memory": max_memory}
    lent = [frame.copy() for frame in extract_motion(source, settings, planar=True, **memory)]
    chunk = [frame.copy() for frame in extract_motion(source, settings, 26, 60, planar=True, **memory)]
    monkeypatch.setattr(type(source), "read_planes", VideoSource.read_planes)  # compact buffers, copied
    copied = [frame.copy() for frame in extract_motion(source, settings, planar=True, **memory)]
    assert_same_frames(copied, lent)
    assert_same_frames(lent[26:60], chunk)


# --- damaged and odd files ---------------------------------------------------------------------------------------


def test_a_matroska_file_damaged_mid_file_is_an_error_naming_where(tmp_path):
    whole = tmp_path / "whole.mkv"  # with sound: only the video track's own length tag promises its frames
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=3", "-f", "lavfi", "-i", "sine=d=3",
           "-c:v", "libx264", "-g", "25", "-c:a", "aac", whole)
    data = bytearray(whole.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 2000] = b"\xff" * 2000  # the demuxer skips to the next cluster it recognises
    damaged = tmp_path / "damaged.mkv"
    damaged.write_bytes(data)
    code, message = render(damaged, "-o", tmp_path / "out.mkv")
    assert code == 1 and "the file is damaged: 13 frames are missing after frame 3" in message, message
    assert not (tmp_path / "out.mkv").exists()
    truncated = tmp_path / "truncated.mkv"  # a file that honestly ends early renders what it holds, and says so
    truncated.write_bytes(whole.read_bytes()[: middle])
    code, message = render(truncated, "-o", tmp_path / "out.mkv")
    held = open_source(truncated).frame_count
    assert code == 0 and f"promises 75 frames but holds {held}" in message, message


@pytest.fixture(scope="module")
def mpeg2_ts(tmp_path_factory) -> Path:
    """50 frames of 320x240 MPEG-2 video with MP2 sound in MPEG-TS, as ffmpeg makes them (about 240 KB)."""
    path = tmp_path_factory.mktemp("mpeg2") / "whole.ts"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2", "-f", "lavfi", "-i", "sine=d=2",
           "-c:v", "mpeg2video", "-c:a", "mp2", path)
    return path


def damage(path: Path, at: int, count: int, to: Path) -> Path:
    """``path`` with ``count`` random bytes written from ``at`` on, as ``dd conv=notrunc`` writes them (past its
    end, the file grows)."""
    data = bytearray(path.read_bytes())
    data[at:at + count] = np.random.default_rng(21).integers(0, 256, count, dtype=np.uint8).tobytes()
    to.write_bytes(data)
    return to


def test_an_mpeg_ts_damaged_to_its_end_is_an_error_naming_the_last_frame_in_both_engines(mpeg2_ts, tmp_path):
    size = mpeg2_ts.stat().st_size
    damaged = damage(mpeg2_ts, size - 80_000, 100_000, tmp_path / "damaged.ts")  # FFmpeg decodes the frames before
    witness = subprocess.run(["ffmpeg", "-v", "quiet", "-i", str(damaged), "-map", "0:v", "-f", "framemd5", "-"],
                             capture_output=True, text=True).stdout
    decoded_frames = sum(not line.startswith("#") for line in witness.splitlines())
    assert 10 < decoded_frames < 50  # and the container's duration ends with them: nothing else tells
    expected = f" KB after frame {decoded_frames - 1} ("
    code, message = render(damaged, "-o", tmp_path / "out.mkv")
    assert code == 1 and message.count("\n") == 1 and expected in message, message
    assert f"{damaged}: the file is damaged: the " in message
    assert int(message.split("damaged: the ")[1].split(" KB")[0]) >= 80
    assert "are not MPEG-TS packets, and the frames there are lost" in message
    assert not (tmp_path / "out.mkv").exists()
    script = Path(__file__).resolve().parent.parent / "scripts" / "motion_extract.py"
    vse = subprocess.run([sys.executable, str(script), str(damaged), "-o", str(tmp_path / "vse.mp4"), "--engine",
                          "vse"], capture_output=True, text=True, timeout=300)
    assert vse.returncode == 1 and expected in vse.stderr and vse.stderr.count("\n") == 1, vse.stderr

    middle = damage(mpeg2_ts, size // 4, 50_000, tmp_path / "middle.ts")  # frames after the damage: a hole
    code, message = render(middle, "-o", tmp_path / "out.mkv")
    assert code == 1 and "the file is damaged: " in message and "frames are missing after frame" in message, message

    truncated = tmp_path / "truncated.ts"  # a file that honestly ends early renders what it holds, and says so
    truncated.write_bytes(mpeg2_ts.read_bytes()[: size // 2 + 100])
    held = open_source(truncated).frame_count
    code, message = render(truncated, "-o", tmp_path / "out.mkv")
    assert code == 0 and f"the file ends inside a packet after frame {held - 1} (" in message, message
    assert f"rendering the {held} frames it holds" in message


def test_an_mpeg_program_stream_renders_with_its_sound(tmp_path):
    path = tmp_path / "clip.mpg"  # MPEG-PS shows its streams only once probed: no options per stream at opening
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=1", "-f", "lavfi", "-i", "sine=d=1",
           "-c:v", "mpeg2video", "-c:a", "mp2", path)
    code, message = render(path, "-o", tmp_path / "out.mp4")
    assert code == 0 and "warning" not in message, message
    assert open_source(tmp_path / "out.mp4").frame_count == 25
    assert [stream["codec_type"] for stream in ffprobe(tmp_path / "out.mp4", "-show_streams")["streams"]] == [
        "video", "audio"]


def test_an_mpeg_program_stream_damaged_to_its_end_is_an_error_and_one_cut_short_a_warning(tmp_path):
    whole = tmp_path / "whole.mpg"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2", "-f", "lavfi", "-i", "sine=d=2",
           "-c:v", "mpeg2video", "-c:a", "mp2", whole)
    size = whole.stat().st_size
    damaged = damage(whole, size - 80_000, 100_000, tmp_path / "damaged.mpg")
    code, message = render(damaged, "-o", tmp_path / "out.mkv")
    assert code == 1 and message.count("\n") == 1, message
    assert f"{damaged}: the file is damaged: the " in message and " KB after frame " in message, message
    assert "are not MPEG-PS packets, and the frames there are lost" in message
    truncated = tmp_path / "truncated.mpg"
    truncated.write_bytes(whole.read_bytes()[: size // 2 + 100])
    held = open_source(truncated).frame_count
    code, message = render(truncated, "-o", tmp_path / "out.mkv")
    assert code == 0 and f"the file ends inside a packet after frame {held - 1} (" in message, message


@pytest.mark.parametrize("kind", ["b-frames", "interlaced", "constant-rate-padded", "rate-halved", "stream-copied-cut"])
def test_clean_mpeg_ts_files_render_without_a_false_alarm(tmp_path, kind):
    path = tmp_path / f"{kind}.ts"
    clip = ("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=2", "-f", "lavfi", "-i", "sine=d=2")
    if kind == "b-frames":
        ffmpeg(*clip, "-c:v", "libx264", "-bf", "3", "-x264-params", "open-gop=1:keyint=12", "-c:a", "aac", path)
    elif kind == "interlaced":
        ffmpeg(*clip, "-c:v", "mpeg2video", "-flags", "+ildct+ilme", "-top", "1", "-c:a", "mp2", path)
    elif kind == "constant-rate-padded":  # a broadcast mux: null packets fill a constant rate
        ffmpeg(*clip, "-c:v", "mpeg2video", "-c:a", "mp2", "-muxrate", "4M", path)
    elif kind == "rate-halved":  # a variable rate: from frame 20 on, every other frame's time (a phone in the dark)
        ffmpeg(*clip[:4], "-vf", "setpts='if(lt(N,20),N,2*N-20)/25/TB'", "-fps_mode", "vfr", "-c:v", "libx264", path)
    else:
        whole = tmp_path / "whole.ts"
        ffmpeg(*clip, "-c:v", "libx264", "-bf", "2", "-g", "25", "-c:a", "aac", whole)
        ffmpeg("-ss", "0.7", "-i", whole, "-c", "copy", path)
    frames = open_source(path).frame_count
    code, message = render(path, "-o", tmp_path / "out.mkv")
    assert code == 0 and "warning" not in message and "damaged" not in message, message
    assert open_source(tmp_path / "out.mkv").frame_count == frames


def test_a_matroska_file_with_negative_timestamps_reads_every_frame(tmp_path):
    source_path = tmp_path / "negative.mkv"  # its first second's packets carry no times: Matroska cannot store them
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=3", "-c:v", "libx264", "-bf", "2",
           "-output_ts_offset", "-1", "-avoid_negative_ts", "disabled", source_path)
    source = open_source(source_path)
    assert (source.frame_count, source.rate, source.timestamps) == (75, 25, None)
    full = read_all(source)
    assert len(full) == 75
    for start in (10, 40):
        assert_same_frames(full[start:], read_all(source, start))
    assert render(source_path, "-o", tmp_path / "out.mkv", "-q") == (0, "")
    assert open_source(tmp_path / "out.mkv").frame_count == 75
    assert render(source_path, "-o", tmp_path / "out.mkv", "--print-ffmpeg")[0] == 0


def test_a_picture_size_that_changes_mid_stream_is_refused_naming_the_frame(tmp_path):
    parts = []
    for size in ("320x180", "240x160"):
        parts.append(tmp_path / f"{size}.ts")
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration=1", "-c:v", "libx264", parts[-1])
    joined = tmp_path / "joined.ts"
    joined.write_bytes(b"".join(part.read_bytes() for part in parts))
    code, message = render(joined, "-o", tmp_path / "out.mkv")
    assert code == 1 and message.count("\n") == 1, message
    assert "the picture size changes at frame 25, from 320x180 to 240x160" in message
    assert not (tmp_path / "out.mkv").exists()
    assert render(joined, "-o", tmp_path / "first.mkv", "--frames", ":25", "-q") == (0, "")  # the first part renders


def test_a_named_pipe_as_input_is_refused_up_front_instead_of_waiting_forever(tmp_path):
    fifo = tmp_path / "movie.mp4"
    os.mkfifo(fifo)
    script = Path(__file__).resolve().parent.parent / "scripts" / "motion_extract.py"
    result = subprocess.run([sys.executable, str(script), str(fifo), "-o", str(tmp_path / "out.mkv")],
                            capture_output=True, text=True, timeout=60)  # nothing ever writes to the pipe
    assert result.returncode == 1
    assert result.stderr.strip() == (f"motion_extract: error: {fifo}: is a pipe, which can be read only once: "
                                     "save the movie to a file first")


def test_exr_images_are_refused_in_one_line_as_a_folder_a_pattern_or_a_file(tmp_path):
    folder = tmp_path / "exr"
    folder.mkdir()
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=0.12", "-pix_fmt", "gbrpf32le", "-c:v", "exr",
           folder / "f_%03d.exr")
    assert len(list(folder.iterdir())) == 3
    for source in (folder, folder / "f_%03d.exr", folder / "f_001.exr"):
        code, message = render(source, "-o", tmp_path / "out.mkv")
        assert code == 1 and message.count("\n") == 1, message
        assert f"{source}: EXR and HDR images hold scene-linear light" in message


# Wide and short: DIS picks its scales from the width alone there (an assertion, or a crash at 320x20).
@pytest.mark.parametrize("size", ["8x8", "4x20", "1x30", "320x20", "320x1", "640x24"])
def test_the_flow_look_renders_frames_smaller_than_the_flow_takes(tmp_path, size):
    source = tmp_path / "tiny.mkv"
    width, height = size.split("x")
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=640x48:rate=25:duration=0.4", "-vf", f"crop={width}:{height}",
           "-pix_fmt", "bgr0", "-c:v", "ffv1", source)
    flow = tmp_path / "flow.mkv"
    assert render(source, "-o", flow, "--look", "flow", "--data", tmp_path / "flow.csv", "-q") == (0, "")
    frames = decoded(flow)
    assert len(frames) == 10 and frames[0].shape == (int(height), int(width), 3)


def test_a_stream_copied_cut_holds_the_frames_its_edit_list_shows_without_a_false_warning(tmp_path):
    whole, cut = tmp_path / "whole.mp4", tmp_path / "cut.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=6", "-c:v", "libx264", "-g", "50", whole)
    ffmpeg("-ss", "2.3", "-i", whole, "-c", "copy", cut)  # starts at the keyframe at 2 s; the edit list hides 0.3 s
    shown = int(ffprobe(cut, "-count_frames", "-select_streams", "v", "-show_entries",
                        "stream=nb_read_frames")["streams"][0]["nb_read_frames"])
    assert shown == 92
    code, message = render(cut, "-o", tmp_path / "out.mkv")
    assert code == 0 and "promises" not in message, message
    assert open_source(tmp_path / "out.mkv").frame_count == shown


@pytest.mark.parametrize("extension", ["mov", "mp4"])
def test_a_movie_with_a_timecode_track_renders_and_joins(tmp_path, extension):
    source = tmp_path / f"camera.{extension}"  # a data track, as camera and editing-app files carry
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x54:rate=25:duration=1", "-f", "lavfi", "-i", "sine=d=1",
           "-c:v", "libx264", "-c:a", "aac", "-timecode", "01:00:00:00", source)
    assert "data" in [stream["codec_type"] for stream in ffprobe(source, "-show_streams")["streams"]]
    for output in ("out.mkv", "out.mp4", "seq/%02d.png"):
        assert render(source, "-o", tmp_path / output, "-q") == (0, ""), output
    assert render(source, "-o", tmp_path / "out.webm", "--spectrum", tmp_path / "sound.csv", "-q") == (0, "")
    chunks = [tmp_path / "a.mkv", tmp_path / "b.mkv"]
    assert render(source, "-o", chunks[0], "--frames", ":10", "--no-audio", "-q") == (0, "")
    assert render(source, "-o", chunks[1], "--frames", "10:", "--no-audio", "-q") == (0, "")
    assert join.main([*map(str, chunks), "-o", str(tmp_path / "joined.mp4"), "--audio-from", str(source)],
                            io.StringIO(), io.StringIO()) == 0
    assert open_source(tmp_path / "joined.mp4").frame_count == 25


def test_a_packet_the_decoder_rejects_is_skipped_with_a_warning_naming_its_frame(tmp_path):
    whole = tmp_path / "whole.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x54:rate=25:duration=2", "-f", "lavfi", "-i", "sine=d=2",
           "-c:v", "libx264", "-bf", "0", "-g", "50", "-c:a", "aac", "-movflags", "+faststart", whole)
    with av.open(str(whole)) as container:
        packets = [packet for packet in container.demux(container.streams.video[0]) if packet.size]
        position = packets[30].pos
    data = bytearray(whole.read_bytes())
    data[position + 4] = 0xFF  # frame 30's NAL header: a forbidden bit the decoder rejects; the rest decodes
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(data)
    source = open_source(damaged)
    frames = read_all(source)
    assert len(frames) == 50 and source.lost_frames == {30}
    assert np.array_equal(frames[30], frames[29])  # shown as players show it, the frame before
    assert_same_frames(frames[35:], read_all(open_source(damaged), 35))
    code, message = render(damaged, "-o", tmp_path / "out.mkv")
    assert code == 0, message
    assert f"{damaged}: the file is damaged: the decoder rejected frame 30 (1.20 s), shown as the frame before" \
        in message
    assert open_source(tmp_path / "out.mkv").frame_count == 50
    code, message = render(damaged, "-o", tmp_path / "jobs.mkv", "--jobs", "2")
    assert code == 0 and "rejected frame 30" in message, message
    assert_same_frames(decoded(tmp_path / "out.mkv"), decoded(tmp_path / "jobs.mkv"))


def _gray_png(path: Path, width: int, height: int) -> None:
    """A black 8-bit gray PNG of any size, compressed row by row (a few hundred KB however large it is)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row = zlib.compressobj(9), bytes(width + 1)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def test_pictures_larger_than_ffmpeg_or_the_codec_takes_are_refused_up_front(tmp_path):
    huge = tmp_path / "huge"
    huge.mkdir()
    _gray_png(huge / "0000.png", 20000, 20000)  # 400 million pixels: decoding them took minutes and gigabytes
    (huge / "0001.png").write_bytes((huge / "0000.png").read_bytes())
    for output in ("out.mkv", "out_%04d.png"):
        code, message = render(huge, "-o", tmp_path / output)
        assert code == 1 and message.count("\n") == 1, message
        assert (f"{huge / '0000.png'}: the pictures are 20000x20000, larger than FFmpeg takes (about 16000x16000"
                in message)
    wide = tmp_path / "wide"  # FFmpeg takes it; H.264 only to 16384 a side
    wide.mkdir()
    for index in range(3):
        _gray_png(wide / f"{index:04d}.png", 16400, 64)
    code, message = render(wide, "-o", tmp_path / "wide.mp4")
    assert code == 1 and message.count("\n") == 1, message
    assert f"{tmp_path / 'wide.mp4'}: H.264 takes pictures up to 16384x16384, not 16400x64: use --codec h265" in message
    assert render(wide, "-o", tmp_path / "wide.mp4", "--codec", "h265", "-q") == (0, "")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["huge", "wide", "wide.mp4"]


def test_an_avi_with_null_frames_renders_at_its_frames_times_instead_of_being_called_damaged(tmp_path):
    source_path = tmp_path / "dropped.avi"  # 4 frames of every 10 kept: the AVI index holds null frames for the rest
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x54:rate=25:duration=2", "-vf", "select='lt(mod(n\\,10)\\,4)'",
           "-fps_mode", "passthrough", "-c:v", "mjpeg", source_path)
    assert ffprobe(source_path, "-show_entries", "stream=nb_frames")["streams"][0]["nb_frames"] == "44"
    source = open_source(source_path)
    assert source.frame_count == 20 and source.warnings == []
    assert [source.time_of(index) * 25 for index in range(6)] == [0, 1, 2, 3, 10, 11]  # each at its own time
    code, message = render(source_path, "-o", tmp_path / "out.mkv")
    assert code == 0 and "damaged" not in message and "promises" not in message, message
    assert render(source_path, "-o", tmp_path / "tail.mkv", "--frames", "6:", "-q") == (0, "")

    def pictures(path: Path) -> list[np.ndarray]:  # FFmpeg's frames, as they are stored
        with av.open(str(path)) as container:
            return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]

    whole = pictures(tmp_path / "out.mkv")
    assert len(whole) == 20
    assert_same_frames(whole[6:], pictures(tmp_path / "tail.mkv"))


def test_a_stream_copied_cut_missing_its_last_b_frames_renders_with_a_warning(tmp_path):
    """``ffmpeg -ss A -t B -c copy`` keeps the reference frame decoded before the B-frames past the cut and drops
    those: a hole of a few frames just before the last is not damage."""
    whole, cut = tmp_path / "gop.mp4", tmp_path / "cut.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3", "-c:v", "libx264", "-threads", "1",
           "-g", "10", "-bf", "2", "-pix_fmt", "yuv420p", whole)
    ffmpeg("-ss", "0.52", "-i", whole, "-t", "1.6", "-c", "copy", cut)
    source = open_source(cut)
    assert len(source.warnings) == 1 and "near its end" in source.warnings[0], source.warnings
    code, message = render(cut, "-o", tmp_path / "out.mp4")
    assert code == 0 and "damaged" not in message, message
