"""Helpers for the media tests: synthetic frames, writing and reading them back, and ffmpeg/ffprobe as witnesses."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import threading
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from blender_addon import media
from blender_addon.media import open_writer
from blender_addon.media.streams import VideoSource

WIDTH, HEIGHT = 64, 48
COUNT = 12


def noise_frames(count: int = COUNT, width: int = WIDTH, height: int = HEIGHT, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def smooth_frames(count: int = COUNT, width: int = WIDTH, height: int = HEIGHT) -> list[np.ndarray]:
    """Soft moving gradients: what lossy codecs keep well."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = []
    for t in range(count):
        channels = [128 + 60 * np.sin((x + 2 * t) / 9 + k) * np.cos((y - t) / 11) for k in range(3)]
        frames.append(np.dstack(channels).round().astype(np.uint8))
    return frames


def flat_frame(value: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    return np.full((height, width, 3), value, dtype=np.uint8)


def write_frames(path: Path | str, frames: list[np.ndarray], fps: float | Fraction = 25.0, **options) -> Path:
    height, width = frames[0].shape[:2]
    with open_writer(path, fps, width, height, **options) as writer:
        for frame in frames:
            writer.write(frame)
    assert writer.frames_written == len(frames)
    return Path(path)


def yuv420p_movie(path, frames: list[np.ndarray]):
    """A lossless 8-bit 4:2:0 movie (FFV1 in yuv420p, which takes odd sizes) of BGR ``frames``, converted by swscale."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24").reformat(format="yuv420p")))
        container.mux(stream.encode(None))
    return path


def read_all(source: VideoSource, start: int = 0) -> list[np.ndarray]:
    """Every frame from ``start`` as (H, W, 3) BGR, each a copy of its own."""
    return [source.expand(frame).copy() for frame in source.read_from(start)]


def write_image(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)


def largest_error(a: list[np.ndarray], b: list[np.ndarray]) -> tuple[float, int]:
    """(largest mean, largest single) absolute difference over pairs of frames."""
    assert len(a) == len(b)
    errors = [np.abs(x.astype(int) - y.astype(int)) for x, y in zip(a, b, strict=True)]
    return max(float(error.mean()) for error in errors), max(int(error.max()) for error in errors)


def has_audio(path: Path | str) -> bool:
    """Whether the file has a sound stream."""
    with av.open(str(path)) as container:
        return bool(container.streams.audio)


def media_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("media")]


def ffmpeg(*args: str | Path) -> None:
    """Run Debian's ffmpeg (an independent witness: not the FFmpeg inside PyAV)."""
    assert shutil.which("ffmpeg"), "ffmpeg is not installed: run scripts/test.sh, which installs it"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *map(str, args)], check=True)


def ffprobe(path: Path | str, *args: str) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)], check=True, capture_output=True, text=True,
    )
    return json.loads(result.stdout)


def video_stream(path: Path | str) -> dict:
    """ffprobe's description of the first video stream, with its packets counted."""
    return ffprobe(path, "-select_streams", "v:0", "-count_packets", "-show_streams")["streams"][0]


def frame_times(path: Path | str) -> list[Fraction]:
    """Every video frame's presentation time as ffprobe decodes them, exactly, from the first frame."""
    info = ffprobe(path, "-select_streams", "v:0", "-show_entries", "stream=time_base:frame=pts")
    time_base = Fraction(info["streams"][0]["time_base"])
    pts = [frame["pts"] for frame in info["frames"]]
    return [(p - pts[0]) * time_base for p in pts]


def ffmpeg_i420(path: Path | str, width: int, height: int) -> list[np.ndarray]:
    """ffmpeg's own yuv420p planes of every frame, converted as the reader documents: the odd last row and
    column repeated, OpenCV's ``COLOR_YUV2BGR_I420``, cut back to size."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
        check=True, capture_output=True,
    ).stdout
    chroma_width, chroma_height = (width + 1) // 2, (height + 1) // 2
    size = width * height + 2 * chroma_width * chroma_height
    frames = []
    for start in range(0, len(raw), size):
        data = np.frombuffer(raw[start:start + size], np.uint8)
        luma = data[: width * height].reshape(height, width)
        luma = np.pad(luma, ((0, 2 * chroma_height - height), (0, 2 * chroma_width - width)), mode="edge")
        planes = np.concatenate([luma.reshape(-1), data[width * height:]]).reshape(3 * chroma_height, 2 * chroma_width)
        frames.append(cv2.cvtColor(planes, cv2.COLOR_YUV2BGR_I420)[:height, :width])
    return frames


def run_printed_command(settings, source: Path, output: Path, clip) -> list[np.ndarray]:
    """Run the command ``--print-ffmpeg`` prints for ``settings`` on ``clip``, and read back its frames."""
    from blender_addon.media.ffmpeg_command import ffmpeg_command

    command = ffmpeg_command(settings, str(source), str(output), clip.frame_count, clip.fps)
    arguments = shlex.split(command.shell())
    assert arguments == command.arguments  # the printed line parses back to the same arguments
    subprocess.run([arguments[0], "-v", "error", "-y", *arguments[1:]], check=True, timeout=120)
    return list(media.open_source(output).read_from(0))
