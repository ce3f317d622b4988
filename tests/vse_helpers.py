"""Helpers for the bpy tests: small scenes, synthetic sources on disk, renders read back as BGR frames."""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import bpy
import cv2
import numpy as np

from blender_addon.core.rates import blender_fps
from blender_addon.core.sample_clip import SampleClip

if TYPE_CHECKING:
    from blender_addon.vse.batch import RenderSummary

WIDTH, HEIGHT, FRAMES, FPS = 160, 90, 16, 24.0


def sample_clip(frame_count: int = FRAMES) -> SampleClip:
    return SampleClip(width=WIDTH, height=HEIGHT, frame_count=frame_count, fps=FPS)


def write_png_sequence(clip: SampleClip, folder: Path) -> list[Path]:
    """The clip as ``0001.png``, ``0002.png``, ... (lossless: Blender and OpenCV read the same pixels)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(clip.frame_count):
        path = folder / f"{index + 1:04d}.png"
        cv2.imwrite(str(path), clip.frame(index))
        paths.append(path)
    return paths


def write_ffv1(clip: SampleClip, path: Path) -> Path:
    """The clip as a lossless FFV1 movie (Blender decodes it to exactly OpenCV's pixels)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), clip.fps, (clip.width, clip.height))
    for index in range(clip.frame_count):
        writer.write(clip.frame(index))
    writer.release()
    return path


def read_movie(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def new_scene() -> bpy.types.Scene:
    """An empty session with one scene in the exact engine's colours, sized for the sample clip."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.data.scenes[0] if bpy.data.scenes else bpy.data.scenes.new("Scene")
    bpy.context.window.scene = scene
    bpy.context.workspace.sequencer_scene = scene
    render = scene.render
    render.resolution_x, render.resolution_y, render.resolution_percentage = WIDTH, HEIGHT, 100
    render.fps = int(FPS)
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    render.image_settings.file_format = "PNG"
    render.image_settings.color_mode = "RGB"
    scene.sequence_editor_create()
    return scene


def add_image_strip(scene: bpy.types.Scene, files: list[Path], channel: int = 2, start: int = 1,
                    name: str = "clip") -> bpy.types.Strip:
    strips = scene.sequence_editor.strips
    strip = strips.new_image(name=name, filepath=str(files[0]), channel=channel, frame_start=start)
    for file in files[1:]:
        strip.elements.append(file.name)
    return strip


def encode_with_sound(video: Path | str, sound: Path, output: Path) -> RenderSummary:
    """``video`` (a movie, or numbered images such as ``frames/%04d.png``, played at ``FPS``) with ``sound`` as
    its audio, encoded by Blender's FFmpeg with the pictures in the exact engine's colours: test clips with
    sound. A .blend of the two strips rendered by ``batch.render_blend_file`` (it replaces the session's data)."""
    from blender_addon import media  # PyAV: only the tests that make clips with sound need it
    from blender_addon.vse import batch

    source = media.open_source(video)
    scene = new_scene()
    scene.render.resolution_x, scene.render.resolution_y = source.width, source.height
    if "%" in str(video):
        pattern = Path(video)
        add_image_strip(scene, sorted(pattern.parent.glob(f"*{pattern.suffix}")), channel=1)
    else:
        strip = scene.sequence_editor.strips.new_movie(name="clip", filepath=str(video), channel=1, frame_start=1)
        scene.render.fps, scene.render.fps_base = blender_fps(strip.fps)
    scene.sequence_editor.strips.new_sound(name="sound", filepath=str(sound), channel=2, frame_start=1)
    scene.frame_start, scene.frame_end = 1, source.frame_count
    with tempfile.TemporaryDirectory() as folder:
        blend = Path(folder) / "encode.blend"
        bpy.ops.wm.save_as_mainfile(filepath=str(blend))
        return batch.render_blend_file(blend, output)


def select_only(scene: bpy.types.Scene, strip: bpy.types.Strip) -> None:
    for other in scene.sequence_editor.strips_all:
        other.select = False
    strip.select = True
    scene.sequence_editor.active_strip = strip


def render_frames(scene: bpy.types.Scene, first: int, end: int, folder: Path) -> list[np.ndarray]:
    """Render scene frames ``first`` to ``end - 1`` to PNG and read them back as BGR arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in glob.glob(str(folder / "*.png")):
        os.remove(old)
    scene.frame_start, scene.frame_end = first, end - 1
    scene.render.filepath = str(folder / "####")
    scene.render.image_settings.media_type = "IMAGE"
    scene.render.image_settings.file_format = "PNG"
    bpy.ops.render.render(animation=True, scene=scene.name)
    return [cv2.imread(path) for path in sorted(glob.glob(str(folder / "*.png")))]


def max_mean_difference(frames: list[np.ndarray], expected: list[np.ndarray]) -> tuple[int, float]:
    assert len(frames) == len(expected), f"{len(frames)} frames rendered, {len(expected)} expected"
    differences = [np.abs(a.astype(np.int16) - b.astype(np.int16)) for a, b in zip(frames, expected, strict=True)]
    return max(int(d.max()) for d in differences), float(np.mean([d.mean() for d in differences]))


class Opens:
    """How often a file was opened, by anyone (Blender, FFmpeg, Python), while a ``with opens_of(path)`` block
    ran: ``count`` once the block has ended."""

    count = 0


@contextlib.contextmanager
def opens_of(path: Path) -> Iterator[Opens]:
    """Count the opens of ``path`` during the block (Linux inotify's open events; reads and closes are watched
    too, as inotify merges an event into an identical one still unread, and an open is read or closed before
    the next)."""
    libc = ctypes.CDLL(None, use_errno=True)
    in_access, in_open, in_close = 0x01, 0x20, 0x08 | 0x10
    watch = libc.inotify_init1(os.O_NONBLOCK)
    assert watch >= 0, "inotify is not available"
    wanted = in_access | in_open | in_close
    assert libc.inotify_add_watch(watch, os.fsencode(path), wanted) >= 0, "inotify is not available"
    opens = Opens()
    try:
        yield opens
        while True:
            try:
                events = os.read(watch, 1 << 16)
            except BlockingIOError:
                break
            at = 0
            while at < len(events):  # struct inotify_event: wd, mask, cookie, len, then len bytes of name
                _, mask, _, length = struct.unpack_from("iIII", events, at)
                opens.count += bool(mask & in_open)
                at += 16 + length
    finally:
        os.close(watch)


@contextlib.contextmanager
def user_scripts_in(folder: Path) -> Iterator[Path]:
    """Point Blender's user scripts (where presets are saved) at ``folder`` while the block runs."""
    previous = os.environ.get("BLENDER_USER_SCRIPTS")
    os.environ["BLENDER_USER_SCRIPTS"] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            del os.environ["BLENDER_USER_SCRIPTS"]
        else:
            os.environ["BLENDER_USER_SCRIPTS"] = previous


class LabelLayout:
    """A stand-in for ``bpy.types.UILayout`` that records the labels drawn (every other call is accepted)."""

    def __init__(self, labels: list[str]) -> None:
        self.__dict__["labels"] = labels

    def label(self, text: str = "", **_: object) -> None:
        self.labels.append(text)

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: LabelLayout(self.labels)

    def __setattr__(self, name: str, value: object) -> None:
        pass
