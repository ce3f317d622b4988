"""The planar path through the engine and the media: movies decoded to 4:2:0 planes, the look on them, and the
encoder taking them as they are; against the RGB path as the encoder would store it."""

from __future__ import annotations

import subprocess

import av
import cv2
import numpy as np
import pytest
from media_helpers import noise_frames, smooth_frames, write_frames, yuv420p_movie

from blender_addon import media
from blender_addon.core.engine import extract_motion
from blender_addon.core.settings import Settings
from blender_addon.media.encode import MovieWriter


def _as_stored(frame: np.ndarray) -> np.ndarray:
    """An RGB path frame as the H.264 writer stores it: padded to even by repeating, then OpenCV's I420."""
    height, width = frame.shape[:2]
    frame = cv2.copyMakeBorder(frame, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)


@pytest.fixture(scope="module", params=[(64, 48), (63, 47)], ids=["even", "odd"])
def movie(request, tmp_path_factory):
    width, height = request.param
    folder = tmp_path_factory.mktemp("planar")
    if width % 2:
        return yuv420p_movie(folder / "smooth.mkv", smooth_frames(12, width, height))
    return write_frames(folder / "smooth.mp4", smooth_frames(12, width, height), crf=10)


@pytest.mark.parametrize("settings", [
    Settings(), Settings(mode="freeze", reference=3), Settings(mix=0.3, offset=-2), Settings(edges="source"),
    Settings(edges="trim", offset=2), Settings(layout="stacked"), Settings(layout="side"),
], ids=["default", "freeze", "mix-back", "edges-source", "trim", "stacked", "side"])
def test_the_engines_planar_path_is_within_a_level_of_the_rgb_path(movie, settings):
    source = media.open_source(movie)
    assert source.yields_planes and (source.width, source.height) in ((64, 48), (63, 47))
    if settings.layout == "side" and source.width % 2 or settings.layout == "stacked" and source.height % 2:
        with pytest.raises(ValueError, match="odd-sized"):
            next(extract_motion(source, settings, planar=True))
        return
    planar = [frame.copy() for frame in extract_motion(source, settings, planar=True)]
    rgb = [_as_stored(frame) for frame in extract_motion(source, settings)]
    assert len(planar) == len(rgb)
    apart = np.abs(np.array(planar, np.int16) - np.array(rgb))
    assert apart.max() <= 1 and apart.mean() <= 0.2


def test_a_chunk_equals_the_whole_render(movie):
    source = media.open_source(movie)
    whole = [frame.copy() for frame in extract_motion(source, Settings(offset=3), planar=True)]
    chunk = [frame.copy() for frame in extract_motion(source, Settings(offset=3), 5, 9, planar=True)]
    np.testing.assert_array_equal(np.array(chunk), np.array(whole[5:9]))


def test_the_planar_path_refuses_measures_and_rgb_inputs(tmp_path, movie):
    source = media.open_source(movie)
    with pytest.raises(ValueError, match="measures"):
        next(extract_motion(source, Settings(), planar=True, measure=lambda motion, flow: None))
    rgb = media.open_source(write_frames(tmp_path / "rgb.mkv", noise_frames(4)))
    assert not rgb.yields_planes
    with pytest.raises(ValueError, match="4:2:0 planes"):
        next(extract_motion(rgb, Settings(), planar=True))


@pytest.mark.parametrize(("width", "height", "name"), [(64, 48, "planes.mp4"), (63, 47, "planes.mp4"),
                                                     (63, 47, "planes.mkv")])
def test_the_writer_takes_planes_as_they_are(tmp_path, width, height, name):
    """x264 at QP 0 and FFV1 (which stores them as limited-range 4:2:0, tagged BT.601) keep the planes exactly."""
    rng = np.random.default_rng(5)
    shape = ((height + height % 2) * 3 // 2, width + width % 2)
    buffers = [rng.integers(16, 236, shape, dtype=np.uint8) for _ in range(3)]
    path = tmp_path / name
    lossless = {"crf": 0, "encoder_options": {"qp": "0"}} if name.endswith(".mp4") else {}
    with media.open_writer(path, 25, width, height, planes=True, **lossless) as writer:
        assert writer.frame_shape == shape
        with pytest.raises(ValueError, match="expected"):
            writer.write(np.zeros((height, width, 3), np.uint8))
        for buffer in buffers:
            writer.write(buffer)
    stream = av.open(str(path)).streams.video[0]
    assert (stream.width, stream.height, stream.format.name) == (shape[1], shape[0] * 2 // 3, "yuv420p")
    assert (stream.codec_context.color_range, stream.codec_context.colorspace) == (1, 6)  # limited, BT.601
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                         check=True, capture_output=True).stdout
    stored = np.frombuffer(raw, np.uint8).reshape(-1, *shape)
    np.testing.assert_array_equal(stored, np.array(buffers))


def test_only_4_2_0_movies_take_planes(tmp_path, movie):
    for name in ("out.mov", "out_####.png"):
        with pytest.raises(ValueError, match="planes"):
            media.open_writer(tmp_path / name, 25, 64, 48, planes=True)
    source = media.open_source(movie)
    assert media.planar_reasons(source, tmp_path / "out.mp4") == []
    assert media.planar_reasons(source, tmp_path / "out.mp4", "mpeg4") == []
    assert media.planar_reasons(source, tmp_path / "out.mkv") == []  # FFV1 stores the planes losslessly
    assert media.planar_reasons(source, tmp_path / "out.avi") == [
        "the mjpeg codec (not 8-bit limited-range 4:2:0 or lossless)"]
    assert "image-sequence" in media.planar_reasons(source, tmp_path / "out_####.png")[0]
    assert media.planar_reasons(source, None) == []  # a null sink
    assert media.planar_reasons(source, tmp_path / "out.mp4", settings=Settings(glow=1.0)) == ["glow"]
    rgb = media.open_source(write_frames(tmp_path / "rgb.mkv", noise_frames(2)))
    assert "RGB" in media.planar_reasons(rgb, tmp_path / "out.mp4")[0]


@pytest.mark.parametrize(("codec", "options"), [("h264", {}), ("mpeg4", {"bf": "2"})])
def test_the_writer_reusing_its_pictures_writes_what_fresh_ones_would(tmp_path, monkeypatch, codec, options):
    rng = np.random.default_rng(6)
    buffers = [rng.integers(16, 236, (96, 64), dtype=np.uint8) for _ in range(9)]

    def packets(name: str) -> list[bytes]:
        with media.open_writer(tmp_path / name, 25, 64, 64, planes=True, codec=codec,
                               encoder_options=options) as writer:
            for buffer in buffers:
                writer.write(buffer)
        with av.open(str(tmp_path / name)) as container:
            return [bytes(packet) for packet in container.demux(container.streams.video[0]) if packet.size]

    reused = packets("reused.mp4")
    monkeypatch.setattr(MovieWriter, "_take_buffer", lambda writer: writer._new_buffer())
    assert packets("fresh.mp4") == reused and len(reused) == len(buffers)


def _stored_planes(path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8)


@pytest.mark.parametrize("settings", [
    Settings(), Settings(edges="source"), Settings(offset=2, edges="trim"), Settings(layout="side"),
    Settings(layout="stacked", mode="freeze", reference=2),
], ids=["default", "edges-source", "trim", "side", "stacked-freeze"])
def test_the_engine_renders_into_the_writers_own_pictures_without_a_copy(tmp_path, monkeypatch, movie, settings):
    """With the writer's ``lend`` as the planar path's target, every frame is rendered into the picture the
    encoder is handed (nothing is copied) and the movie holds what writing copies of the frames gives."""
    source = media.open_source(movie)
    if settings.layout != "motion" and source.width % 2:  # such a render takes the RGB path
        with pytest.raises(ValueError, match="odd-sized"):
            next(extract_motion(source, settings, planar=True, planar_target=lambda: None))
        return
    width, height = (source.width * (2 if settings.layout == "side" else 1),
                     source.height * (2 if settings.layout == "stacked" else 1))
    with media.open_writer(tmp_path / "copied.mkv", 25, width, height, planes=True) as writer:
        for frame in extract_motion(source, settings, planar=True):
            writer.write(frame)
    copies = []
    monkeypatch.setattr(MovieWriter, "_fill", lambda writer, buffer, frame: copies.append(frame))
    lent = []
    with media.open_writer(tmp_path / "lent.mkv", 25, width, height, planes=True) as writer:
        def target():
            lent.append(writer.lend())
            return lent[-1]

        for frame in extract_motion(source, settings, planar=True, planar_target=target):
            assert frame is lent[-1] and writer.lend() is frame  # lent again before the write: the same picture
            writer.write(frame)
    assert copies == [] and len(lent) == writer.frames_written > 0
    np.testing.assert_array_equal(_stored_planes(tmp_path / "lent.mkv"), _stored_planes(tmp_path / "copied.mkv"))


def test_a_frame_written_in_place_of_a_lent_picture_is_copied_into_it(tmp_path):
    rng = np.random.default_rng(7)
    buffers = [rng.integers(16, 236, (72, 64), dtype=np.uint8) for _ in range(5)]
    path = tmp_path / "out.mkv"
    with media.open_writer(path, 25, 64, 48, planes=True) as writer:
        for index, buffer in enumerate(buffers):
            planes = writer.lend()
            if index % 2:  # rendered into the lent planes
                for target, plane in zip(planes, (buffer[:48], buffer[48:60].reshape(24, 32),
                                                  buffer[60:].reshape(24, 32)), strict=True):
                    target[...] = plane
                writer.write(planes)
            else:  # something else written: copied into them
                writer.write(buffer)
    with pytest.raises(ValueError, match="closed"):
        writer.lend()
    np.testing.assert_array_equal(_stored_planes(path), np.array(buffers).reshape(-1))


@pytest.mark.parametrize(("name", "codec", "options", "settings"), [
    ("lent.mkv", None, {}, Settings(offset=2, mix=0.3, edges="source")),
    ("lent.mp4", "mpeg4", {"bf": "2"}, Settings(offset=-2)),
], ids=["ffv1-table", "mpeg4-b-frames"])
def test_lent_pictures_with_padded_lines_or_kept_by_the_encoder_write_what_copies_would(tmp_path, name, codec,
                                                                                     options, settings):
    """A writer's pictures 250 wide have lines longer than their width (256 and 128 bytes), and MPEG-4 with
    B-frames encodes them out of order: the look rendered into lent pictures writes what copies of it give."""
    movie = yuv420p_movie(tmp_path / "wide.mkv", smooth_frames(10, 250, 140))

    def written(lend: bool) -> list[bytes]:
        source = media.open_source(movie)
        path = tmp_path / f"{lend}{name}"
        with media.open_writer(path, 25, 250, 140, planes=True, codec=codec, encoder_options=options) as writer:
            if lend:
                assert any(plane.base is not None and not plane.flags.c_contiguous for plane in writer.lend())
            for frame in extract_motion(source, settings, planar=True, planar_target=writer.lend if lend else None):
                writer.write(frame)
        with av.open(str(path)) as container:
            return [bytes(packet) for packet in container.demux(container.streams.video[0]) if packet.size]

    copied = written(False)
    assert written(True) == copied and len(copied) == 10
