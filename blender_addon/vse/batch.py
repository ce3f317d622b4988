"""Headless renders through the VSE rig: a file in, a motion clip out, with Blender's FFmpeg.

:func:`render_with_vse` builds the same rig the artist gets from *Extract Motion* in a fresh
scene, adds the input's audio as a sound strip, and renders with Blender's own encoders;
:func:`render_blend_file` renders the sequencer of an existing ``.blend``.

Outputs (chosen by the file name):

- ``.mp4``: H.264, with AAC audio when the input has audio;
- ``.mov``: ProRes 422, with PCM audio;
- ``.mkv``: lossless FFV1, with FLAC audio;
- a numbered PNG sequence such as ``frames/%05d.png`` (numbered from 1; no audio).

Which engine should be the default (recommendation for the CLI):

- ``.mp4`` and ``.mov``: **vse**. Users expect H.264 with audio and ProRes; OpenCV's wheels can
  write neither (nor any audio), and the rig's pixels equal the exact engine's on the frames
  Blender decodes (H.264 inputs decode up to 3 levels apart between Blender and OpenCV).
- ``.avi``, ``.mkv`` and image sequences: **exact**. No audio is lost, the exact engine is
  several times faster, needs no Blender, and is the reference the rig is tested against.

Failures the user can cause raise :class:`VseRenderError` with a one-line message. Output goes
to a hidden temporary beside the target and is renamed into place only after a complete render,
so a failure or Ctrl-C never leaves a half-written file.
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import bpy

from ..core.settings import Settings
from . import colors
from .rig import RigError, build_rig

Progress = Callable[[int, int], None]

# extension -> (container, video codec, audio codec)
MOVIE_FORMATS = {
    ".mp4": ("MPEG4", "H264", "AAC"),
    ".mov": ("QUICKTIME", "PRORES", "PCM"),
    ".mkv": ("MKV", "FFV1", "FLAC"),
}
SEQUENCE_EXTENSIONS = {".png": "PNG"}
FIRST_SEQUENCE_NUMBER = 1
DEFAULT_FPS = 25.0
_PRINTF_NUMBER = re.compile(r"%(0(\d+))?d")
_HASHES = re.compile(r"#+")


class VseRenderError(Exception):
    """A render through the VSE cannot be done; the one-line message names the file and the problem."""


@dataclass(frozen=True)
class RenderSummary:
    """What a render wrote."""

    output_path: Path
    frame_count: int
    fps: float
    width: int
    height: int
    has_audio: bool
    seconds: float


# --- file names --------------------------------------------------------------------------------


def _numbered(path: str) -> tuple[str, str, int] | None:
    """(prefix, suffix, digits) of a numbered name such as ``img_%05d.png`` or ``img_#####.png``."""
    name = os.path.basename(path)
    for pattern in (_PRINTF_NUMBER, _HASHES):
        matches = list(pattern.finditer(name))
        if len(matches) == 1:
            match = matches[0]
            digits = len(match.group(0)) if pattern is _HASHES else int(match.group(2) or 1)
            folder = os.path.dirname(path)
            return os.path.join(folder, name[: match.start()]), name[match.end():], digits
    return None


def _sequence_files(pattern: str) -> list[str]:
    numbered = _numbered(pattern)
    if numbered is None:
        return []
    prefix, suffix, _ = numbered
    candidates = glob.glob(glob.escape(prefix) + "*" + glob.escape(suffix))
    number = re.compile(re.escape(os.path.basename(prefix)) + r"(\d+)" + re.escape(suffix) + "$")
    found = {}
    for candidate in candidates:
        match = number.match(os.path.basename(candidate))
        if match:
            found[int(match.group(1))] = candidate
    return [found[key] for key in sorted(found)]


def output_kind(path: str | os.PathLike) -> str:
    """``"movie"`` or ``"sequence"``; raises :class:`VseRenderError` for names the VSE cannot write."""
    text = os.fspath(path)
    extension = os.path.splitext(text)[1].lower()
    if extension in MOVIE_FORMATS:
        return "movie"
    if extension in SEQUENCE_EXTENSIONS and _numbered(text) is not None:
        return "sequence"
    raise VseRenderError(
        f"{text}: the VSE engine writes .mp4 (H.264), .mov (ProRes), .mkv (FFV1) "
        "or a numbered PNG sequence such as frames/%05d.png"
    )


def _check_output(output: Path, inputs: list[Path], overwrite: bool) -> str:
    kind = output_kind(output)
    for source in inputs:
        if source.exists() and output.exists() and os.path.samefile(source, output):
            raise VseRenderError(f"{output}: the output would overwrite the input")
        if os.path.abspath(source) == os.path.abspath(output):
            raise VseRenderError(f"{output}: the output would overwrite the input")
    if kind == "movie" and output.exists() and not overwrite:
        raise VseRenderError(f"{output}: already exists (use overwrite to replace it)")
    if kind == "sequence" and _sequence_files(str(output)) and not overwrite:
        raise VseRenderError(f"{output}: numbered files already exist (use overwrite to replace them)")
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise VseRenderError(f"{output}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise VseRenderError(f"{output}: cannot write to the folder {folder}")
    return kind


# --- scene set-up ------------------------------------------------------------------------------


def _fps_pair(fps: float) -> tuple[int, float]:
    """Blender's (fps, fps_base) for a rate such as 24, 25 or 29.97 (30000/1001)."""
    ntsc = round(fps * 1.001)
    if abs(ntsc / 1.001 - fps) < 1e-3 and abs(round(fps) - fps) > 1e-3:
        return ntsc, 1.001
    fraction = Fraction(fps).limit_denominator(1001)
    whole = max(1, round(fraction))
    return whole, whole / float(fraction)


def _add_source(scene: bpy.types.Scene, input_path: Path) -> tuple[bpy.types.Strip, list[Path]]:
    strips = scene.sequence_editor.strips
    text = os.fspath(input_path)
    if _numbered(text) is not None:
        files = _sequence_files(text)
        if not files:
            raise VseRenderError(f"{text}: no numbered images match this pattern")
        strip = strips.new_image(name="Source", filepath=files[0], channel=1, frame_start=1)
        for file in files[1:]:
            strip.elements.append(os.path.basename(file))
        return strip, [Path(file) for file in files]
    if not input_path.is_file():
        raise VseRenderError(f"{text}: no such file")
    try:
        strip = strips.new_movie(name="Source", filepath=text, channel=1, frame_start=1)
    except RuntimeError:
        raise VseRenderError(f"{text}: Blender cannot decode this file") from None
    return strip, [input_path]


def _add_audio(scene: bpy.types.Scene, input_path: Path, channel: int) -> bool:
    try:
        strips = scene.sequence_editor.strips
        strips.new_sound(name="Audio", filepath=os.fspath(input_path), channel=channel, frame_start=1)
    except RuntimeError:  # the file has no audio stream
        return False
    return True


def _source_size(strip: bpy.types.Strip) -> tuple[int, int]:
    element = strip.elements[0]
    width, height = element.orig_width, element.orig_height
    if not width or not height:
        image = bpy.data.images.load(bpy.path.abspath(os.path.join(strip.directory, element.filename)))
        try:
            width, height = image.size
        finally:
            bpy.data.images.remove(image)
    if not width or not height:
        raise VseRenderError(f"{strip.name}: cannot read the frame size")
    return int(width), int(height)


def _set_output(scene: bpy.types.Scene, kind: str, extension: str, audio: bool) -> None:
    render = scene.render
    settings = render.image_settings
    if kind == "movie":
        container, codec, audio_codec = MOVIE_FORMATS[extension]
        settings.media_type = "VIDEO"  # before file_format: Blender 5.0 filters formats by media type
        settings.file_format = "FFMPEG"
        render.ffmpeg.format = container
        render.ffmpeg.codec = codec
        if codec == "H264":
            render.ffmpeg.constant_rate_factor = "HIGH"
            render.ffmpeg.ffmpeg_preset = "GOOD"
        render.ffmpeg.audio_codec = audio_codec if audio else "NONE"
        if audio:
            render.ffmpeg.audio_channels = "STEREO"
            render.ffmpeg.audio_mixrate = 48000
    else:
        settings.media_type = "IMAGE"
        settings.file_format = SEQUENCE_EXTENSIONS[extension]
        settings.color_mode = "RGB"
        settings.color_depth = "8"
    render.use_file_extension = kind == "sequence"


def _quiet_caches(scene: bpy.types.Scene) -> None:
    editor = scene.sequence_editor
    editor.use_cache_raw = False
    editor.use_cache_final = False
    editor.use_prefetch = False


# --- rendering ---------------------------------------------------------------------------------


def _render(scene: bpy.types.Scene, output: Path, kind: str, first: int, count: int,
            progress: Progress | None) -> None:
    """Render scene frames ``first`` to ``first + count - 1`` to ``output``, atomically."""
    scene.frame_start = first
    scene.frame_end = first + count - 1
    folder = output.parent
    token = secrets.token_hex(4)
    if kind == "movie":
        temporary = folder / f".{output.stem}.partial-{token}{output.suffix}"
        scene.render.filepath = os.fspath(temporary)
    else:
        temporary = folder / f".motion-partial-{token}"
        temporary.mkdir()
        scene.render.filepath = os.fspath(temporary / "frame_########")
    done = 0

    def on_write(*_args: object) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, count)

    bpy.app.handlers.render_write.append(on_write)
    try:
        result = bpy.ops.render.render(animation=True, scene=scene.name)
        if "FINISHED" not in result or done < count:
            raise VseRenderError(f"{output}: Blender stopped after {done} of {count} frames")
        if kind == "movie":
            written = Path(scene.render.frame_path(frame=first))
            os.replace(written, output)
        else:
            _publish_sequence(scene, temporary, output, first, count)
    finally:
        bpy.app.handlers.render_write.remove(on_write)
        if kind == "movie":
            for leftover in folder.glob(f".{output.stem}.partial-{token}*"):
                leftover.unlink()
        else:
            shutil.rmtree(temporary, ignore_errors=True)


def _publish_sequence(scene: bpy.types.Scene, temporary: Path, output: Path, first: int, count: int) -> None:
    prefix, suffix, digits = _numbered(os.fspath(output))
    for index in range(count):
        written = Path(scene.render.frame_path(frame=first + index))
        target = f"{prefix}{FIRST_SEQUENCE_NUMBER + index:0{digits}d}{suffix}"
        os.replace(written, target)


def _render_range(total: int, start: int, stop: int | None) -> tuple[int, int]:
    stop = total if stop is None else stop
    if not 0 <= start < stop <= total:
        raise VseRenderError(f"frame range {start}:{stop} is outside the output (frames 0 to {total - 1})")
    return start, stop


def render_with_vse(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    settings: Settings,
    start: int = 0,
    stop: int | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
    fps: float | None = None,
) -> RenderSummary:
    """Render output frames ``start`` to ``stop - 1`` of the motion clip of ``input_path`` through the rig.

    ``input_path`` is a movie or a numbered image sequence (``frames/%05d.png``; ``fps`` sets its
    rate, 25 by default; a movie's own rate is used otherwise). The scene is made and removed
    here; the rest of the Blender session is left as it was.
    """
    began = time.monotonic()
    source_path, output = Path(input_path), Path(output_path)
    scene = bpy.data.scenes.new("Motion Extraction Render")
    sounds_before = set(bpy.data.sounds)
    try:
        scene.sequence_editor_create()
        strip, inputs = _add_source(scene, source_path)
        kind = _check_output(output, inputs, overwrite)
        if strip.frame_duration < 1:
            raise VseRenderError(f"{source_path}: the input has no frames")
        rate = float(strip.fps) if strip.type == "MOVIE" else float(fps or DEFAULT_FPS)
        scene.render.fps, scene.render.fps_base = _fps_pair(rate)
        width, height = _source_size(strip)
        scene.render.resolution_x, scene.render.resolution_y = width, height
        scene.render.resolution_percentage = 100
        audio = strip.type == "MOVIE" and kind == "movie" and _add_audio(scene, source_path, channel=2)
        try:
            rig = build_rig(scene, strip, settings)
        except RigError as error:
            raise VseRenderError(f"{source_path}: {error}") from None
        first, last = _render_range(rig.frame_final_duration, start, stop)
        colors.use_exact_colors(scene)
        _quiet_caches(scene)
        _set_output(scene, kind, output.suffix.lower(), audio)
        _render(scene, output, kind, rig.frame_final_start + first, last - first, progress)
        return RenderSummary(output, last - first, rate, width, height, audio, time.monotonic() - began)
    finally:
        bpy.data.scenes.remove(scene)
        for sound in set(bpy.data.sounds) - sounds_before:
            bpy.data.sounds.remove(sound)


def render_blend_file(
    blend_path: str | os.PathLike,
    output_path: str | os.PathLike,
    start: int = 0,
    stop: int | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
    exact_colors: bool = True,
) -> RenderSummary:
    """Render the sequencer of ``blend_path`` (its frames ``start`` to ``stop - 1``, counted from the
    scene's first frame) to ``output_path``.

    Opening the file replaces the Blender session's data, as File > Open does. With
    ``exact_colors`` the output (only) is rendered with the exact engine's colours; the file
    itself is never saved.
    """
    began = time.monotonic()
    blend, output = Path(blend_path), Path(output_path)
    if not blend.is_file():
        raise VseRenderError(f"{blend}: no such file")
    kind = _check_output(output, [blend], overwrite)
    try:
        bpy.ops.wm.open_mainfile(filepath=os.fspath(blend), load_ui=False)
    except RuntimeError:
        raise VseRenderError(f"{blend}: Blender cannot open this file") from None
    scene = bpy.context.scene
    workspace = bpy.context.workspace
    if workspace is not None and getattr(workspace, "sequencer_scene", None) is not None:
        scene = workspace.sequencer_scene
    if scene.sequence_editor is None or not len(scene.sequence_editor.strips):
        raise VseRenderError(f"{blend}: the scene '{scene.name}' has no sequencer strips")
    scene.render.use_sequencer = True
    if exact_colors:
        colors.use_exact_colors_on_output(scene)
    total = scene.frame_end - scene.frame_start + 1
    first, last = _render_range(total, start, stop)
    audio = any(strip.type == "SOUND" for strip in scene.sequence_editor.strips_all) and kind == "movie"
    _quiet_caches(scene)
    _set_output(scene, kind, output.suffix.lower(), audio)
    _render(scene, output, kind, scene.frame_start + first, last - first, progress)
    render = scene.render
    fps = render.fps / render.fps_base
    width = render.resolution_x * render.resolution_percentage // 100
    height = render.resolution_y * render.resolution_percentage // 100
    return RenderSummary(output, last - first, fps, width, height, audio, time.monotonic() - began)


def has_audio_stream(path: str | os.PathLike) -> bool:
    """Whether an MP4/MOV file has a sound track (a ``hdlr`` box of type ``soun``); no ffprobe needed."""
    data = Path(path).read_bytes()
    return _find_handler(data, 0, len(data), b"soun")


_CONTAINERS = {b"moov", b"trak", b"mdia"}


def _find_handler(data: bytes, begin: int, end: int, handler: bytes) -> bool:
    position = begin
    while position + 8 <= end:
        size = int.from_bytes(data[position:position + 4], "big")
        kind = data[position + 4:position + 8]
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[position + 8:position + 16], "big"), 16
        elif size == 0:
            size = end - position
        if size < header:
            return False
        if kind == b"hdlr" and data[position + header + 8:position + header + 12] == handler:
            return True
        if kind in _CONTAINERS and _find_handler(data, position + header, position + size, handler):
            return True
        position += size
    return False
