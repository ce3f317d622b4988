"""Headless renders through the VSE rig: a file in, a motion clip out, with Blender's FFmpeg.

:func:`render_with_vse` builds the same rig the artist gets from *Extract Motion* in a fresh
scene, adds the input's audio as a sound strip, and renders with Blender's own encoders;
:func:`render_blend_file` renders the sequencer of an existing ``.blend``.

Inputs: a movie, a folder of images, or a numbered pattern such as ``frames/%04d.png`` (the
files numbered consecutively from the lowest number present; a missing number is an error).
Which files an input names, and which outputs may be written, is decided by ``media.names``,
as for the exact engine.

Outputs (chosen by the file name; ``media.formats`` says how Blender writes each):

- ``.mp4``: H.264, with AAC audio when the input has audio;
- ``.mov``: ProRes 422, with PCM audio;
- ``.mkv``: lossless FFV1, with FLAC audio;
- a numbered PNG sequence such as ``frames/%05d.png`` (no audio). As with the exact engine, a
  file's number is its output frame index: a whole render starts at 0 and output frames 10 to
  19 are ``0010`` to ``0019``, so chunks of one render fit side by side, and only the numbers
  being written count as already existing.

The command line (``cli.py``) uses this engine by default for ``.mp4`` and ``.mov``: users
expect H.264 with audio and ProRes, which OpenCV's wheels cannot write (nor any audio). For
``.avi``, ``.mkv`` and image sequences the exact engine is the default: it loses no audio
there, is several times faster, needs no Blender, and is the reference the rig is tested against.

Failures the user can cause raise :class:`VseRenderError` with a one-line message
(:class:`VseSettingsError` when the settings or frame range do not fit the input). Output goes
to a hidden temporary beside the target and is published into place only after a complete
render, so a failure never leaves a half-written file, and (without ``overwrite``) an output
that appeared during the render is left as it is. Blender's render loop cannot be cancelled from
Python (an exception raised in a render handler is printed and dropped), so a process that is
interrupted mid-render calls :func:`clean_up_before_exit` and ends with ``os._exit``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import bpy

from ..core.rates import DEFAULT_FPS, blender_fps
from ..core.settings import Settings, SettingsError
from ..core.timing import FrameRangeError, frame_range, output_size
from ..media.errors import MediaError, cannot_write, os_error
from ..media.formats import BLENDER_SEQUENCES, MOVIE_FORMATS
from ..media.names import NumberedName, extension, image_sequence_files, output_kind, same_file
from ..media.publish import check_output, complete_png, incomplete_reason, publish, remove_other_frames, temp_path_for
from . import colors
from .compat import timing
from .rig.build import build_rig
from .rig.record import RigError
from .strips import absolute_path, media_frame_count

Progress = Callable[[int, int], None]

# Clean-ups of the renders under way, for clean_up_before_exit().
_PENDING_DISCARDS: list[Callable[[], None]] = []


class VseRenderError(Exception):
    """A render through the VSE cannot be done; the one-line message names the file and the problem."""


class VseSettingsError(VseRenderError):
    """The settings or the frame range do not fit the input (the caller's mistake, not a failure)."""


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


@contextlib.contextmanager
def _media_errors() -> Iterator[None]:
    """Turn the :class:`MediaError` of ``media`` into :class:`VseRenderError`, message unchanged."""
    try:
        yield
    except MediaError as error:
        raise VseRenderError(str(error)) from None


def _output_kind(path: str | os.PathLike) -> str:
    """``"movie"`` or ``"sequence"``; raises :class:`VseRenderError` for names Blender cannot write."""
    with _media_errors():
        return output_kind(path, blender=True)


def _check_output(output: Path, inputs: list[Path], overwrite: bool, numbers: range) -> None:
    """``media.publish.check_output`` (``numbers``: the file numbers a sequence output will write)."""
    with _media_errors():
        check_output(output, inputs, overwrite, numbers)


# --- scene set-up ------------------------------------------------------------------------------


def _add_source(scene: bpy.types.Scene, input_path: Path) -> bpy.types.Strip:
    strips = scene.sequence_editor.strips
    text = os.fspath(input_path)
    with _media_errors():
        files = image_sequence_files(text)
    if files is not None:
        strip = strips.new_image(name="Source", filepath=files[0], channel=1, frame_start=1)
        for file in files[1:]:
            strip.elements.append(os.path.basename(file))
        return strip
    if not input_path.is_file():
        raise VseRenderError(f"{text}: no such file")
    try:
        with open(input_path, "rb"):
            pass
    except OSError as error:
        raise VseRenderError(str(os_error(text, error))) from None
    try:
        strip = strips.new_movie(name="Source", filepath=text, channel=1, frame_start=1)
    except RuntimeError:
        raise VseRenderError(f"{text}: Blender cannot decode this file") from None
    # An unreadable file still makes a strip, one frame long with no rate and no size.
    if strip.fps <= 0 or not strip.elements[0].orig_width:
        raise VseRenderError(f"{text}: Blender cannot decode this file (not a video, or damaged)")
    return strip


def _add_audio(scene: bpy.types.Scene, input_path: Path, channel: int) -> bool:
    """Add the movie's sound as a strip; ``False`` (and no strip) when it has none."""
    strips = scene.sequence_editor.strips
    try:
        strip = strips.new_sound(name="Audio", filepath=os.fspath(input_path), channel=channel, frame_start=1)
    except RuntimeError:
        return False
    if strip.sound.samplerate <= 0:  # a movie without an audio stream still makes an empty strip
        strips.remove(strip)
        return False
    return True


def _source_size(strip: bpy.types.Strip) -> tuple[int, int]:
    element = strip.elements[0]
    width, height = element.orig_width, element.orig_height
    if not width or not height:
        image = bpy.data.images.load(absolute_path(strip, os.path.join(strip.directory, element.filename)))
        try:
            width, height = image.size
        finally:
            bpy.data.images.remove(image)
    if not width or not height:
        raise VseRenderError(f"{strip.name}: cannot read the frame size")
    return int(width), int(height)


def _set_output(scene: bpy.types.Scene, kind: str, suffix: str, audio: bool) -> None:
    render = scene.render
    settings = render.image_settings
    if kind == "movie":
        blender = MOVIE_FORMATS[suffix].blender
        settings.media_type = "VIDEO"  # before file_format: Blender 5.0 filters formats by media type
        settings.file_format = "FFMPEG"
        render.ffmpeg.format = blender.container
        render.ffmpeg.codec = blender.codec
        if blender.constant_rate_factor is not None:
            render.ffmpeg.constant_rate_factor = blender.constant_rate_factor
        if blender.preset is not None:
            render.ffmpeg.ffmpeg_preset = blender.preset
        render.ffmpeg.audio_codec = blender.audio_codec if audio else "NONE"
        if audio:
            render.ffmpeg.audio_channels = "STEREO"
            render.ffmpeg.audio_mixrate = 48000
    else:
        settings.media_type = "IMAGE"
        settings.file_format = BLENDER_SEQUENCES[suffix]
        settings.color_mode = "RGB"
        settings.color_depth = "8"
    render.use_file_extension = kind == "sequence"


def _check_even_size(output: Path, kind: str, width: int, height: int) -> None:
    """Blender refuses odd frame sizes for the codecs that need even ones (``Codec.even_size``)."""
    movie = MOVIE_FORMATS[extension(output)] if kind == "movie" else None
    if movie is not None and movie.default_codec.even_size and (width % 2 or height % 2):
        raise VseRenderError(
            f"{output}: Blender's {movie.blender.codec} writer needs an even width and height, not "
            f"{width}x{height} (use --engine exact, which pads the frame, or a .mkv or PNG sequence output)"
        )


def _quiet_caches(scene: bpy.types.Scene) -> None:
    editor = scene.sequence_editor
    editor.use_cache_raw = False
    editor.use_cache_final = False
    editor.use_prefetch = False


# --- rendering ---------------------------------------------------------------------------------


def _render(scene: bpy.types.Scene, output: Path, kind: str, frames: range, numbers: range, overwrite: bool,
            progress: Progress | None, whole: bool = True) -> None:
    """Render scene ``frames`` to ``output`` atomically; a sequence's files get ``numbers``.

    Without ``overwrite``, an output file that appeared during the render is not replaced. With
    it, a ``whole`` render to a sequence also removes the old render's files of other numbers.
    """
    scene.frame_start = frames.start
    scene.frame_end = frames.stop - 1
    count = len(frames)
    # An absolute path: Blender writes nothing to a bare file name such as "a.mp4".
    temporary = temp_path_for(os.path.abspath(output), folder_only=kind == "sequence")
    if kind == "sequence":
        try:
            os.mkdir(temporary)
        except OSError as error:
            raise VseRenderError(cannot_write(os.path.dirname(temporary), error)) from None
    target = temporary if kind == "movie" else os.path.join(temporary, "frame_########")
    # Braces start a path template ("{blend_name}") in Blender 5.0; doubled they are themselves.
    scene.render.filepath = target.replace("{", "{{").replace("}", "}}")

    def discard() -> None:
        if kind == "sequence":
            shutil.rmtree(temporary, ignore_errors=True)
            return
        folder, stem = os.path.split(os.path.splitext(temporary)[0])
        with contextlib.suppress(OSError):  # Blender may add a suffix, such as the frame range, to the name
            for name in os.listdir(folder):
                if name.startswith(stem):
                    os.remove(os.path.join(folder, name))

    done = 0

    def on_write(*_args: object) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, count)

    _PENDING_DISCARDS.append(discard)
    bpy.app.handlers.render_write.append(on_write)
    try:
        try:
            result = bpy.ops.render.render(animation=True, scene=scene.name)
        except RuntimeError as error:  # Blender's report, e.g. a codec refusing the frame size
            message = str(error).removeprefix("Error: ").strip().splitlines()[0]
            raise VseRenderError(f"{output}: Blender cannot render it: {message}") from None
        if "FINISHED" not in result or done < count:
            raise VseRenderError(f"{output}: Blender stopped after {done} of {count} frames")
        written = [scene.render.frame_path(frame=frame) for frame in (frames if kind == "sequence" else frames[:1])]
        _check_complete(output, kind, written, count)
        with _media_errors():
            if kind == "movie":
                publish(scene.render.frame_path(frame=frames.start), os.fspath(output), overwrite)
            else:
                numbered = NumberedName.parse(output)
                for frame, number in zip(frames, numbers, strict=True):
                    publish(scene.render.frame_path(frame=frame), numbered.path(number), overwrite)
                if overwrite and whole:
                    remove_other_frames(numbered, numbers)
    finally:
        bpy.app.handlers.render_write.remove(on_write)
        discard()
        _PENDING_DISCARDS.remove(discard)


def _check_complete(output: Path, kind: str, written: list[str], count: int) -> None:
    """Refuse what Blender wrote incompletely: its writers go on, and report success, on a full disk."""
    if kind == "sequence":
        broken = next((file for file in written if not complete_png(file)), None)
    else:
        broken = written[0] if not _movie_complete(written[0], count) else None
    if broken is not None:
        raise VseRenderError(f"{output}: {incomplete_reason(os.path.dirname(broken))}")


def _movie_complete(path: str, count: int) -> bool:
    try:
        size = os.path.getsize(path)
    except OSError:
        return False
    try:
        from ..media.movie import video_frame_count
    except ImportError:  # a Blender without PyAV: only an empty file can be told
        return size > 0
    return size > 0 and video_frame_count(path) == count


def clean_up_before_exit() -> None:
    """Delete the temporaries of the renders under way and Blender's session folder.

    For a process about to end with ``os._exit`` in the middle of a render, which cannot be
    cancelled from Python: the output stays untouched, and nothing else is left behind.
    """
    for discard in list(_PENDING_DISCARDS):
        discard()
    tempdir = bpy.app.tempdir
    if tempdir and os.path.basename(os.path.normpath(tempdir)).startswith("blender_"):
        shutil.rmtree(tempdir, ignore_errors=True)


def _render_range(total: int, start: int, stop: int | None) -> range:
    try:
        return frame_range(total, start, stop)
    except FrameRangeError as error:
        raise VseSettingsError(str(error)) from None


def render_with_vse(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    settings: Settings,
    start: int = 0,
    stop: int | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
    fps: float | None = None,
    expected_frames: int | None = None,
    report: Callable[[str], None] | None = None,
) -> RenderSummary:
    """Render output frames ``start`` to ``stop - 1`` of the motion clip of ``input_path`` through the rig.

    ``input_path`` is a movie, a folder of images or a numbered pattern (``frames/%05d.png``;
    ``fps`` sets an image sequence's rate, 25 by default; a movie's own rate is used otherwise).
    Times given in seconds become frames at that rate; ``report`` is told what each became.
    The scene is made and removed here; the rest of the Blender session is left as it was.
    """
    began = time.monotonic()
    source_path, output = Path(input_path), Path(output_path)
    kind = _output_kind(output)
    with _fresh_scene("Motion Extraction Render") as scene:
        strip = _add_source(scene, source_path)
        rate = float(strip.fps) if strip.type == "MOVIE" else float(fps or DEFAULT_FPS)
        try:
            given, settings = settings, settings.in_frames(rate)
            for line in given.seconds_in_frames(rate) if report is not None else ():
                report(line)
            seen = media_frame_count(strip)
            settings.validate_for_clip(seen)
            if expected_frames is not None and seen != expected_frames:
                raise VseRenderError(
                    f"{source_path}: Blender sees {seen} frames where the file holds {expected_frames} "
                    "(damaged, truncated or with a variable frame rate): use --engine exact"
                )
        except SettingsError as error:
            raise VseSettingsError(f"{source_path}: {error}") from None
        scene.render.fps, scene.render.fps_base = blender_fps(rate)
        source_width, source_height = _source_size(strip)
        width, height = output_size(settings, source_width, source_height)
        scene.render.resolution_x, scene.render.resolution_y = width, height  # twice the source for side/stacked
        scene.render.resolution_percentage = 100
        try:
            rig = build_rig(scene, strip, settings)
        except RigError as error:
            raise VseRenderError(f"{source_path}: {error}") from None
        rig_time = timing(rig)
        numbers = _render_range(rig_time.duration, start, stop)
        _check_even_size(output, kind, width, height)
        _check_output(output, [source_path], overwrite, numbers)
        audio = strip.type == "MOVIE" and kind == "movie" and _add_audio(scene, source_path, channel=rig.channel + 1)
        colors.use_exact_colors(scene)
        _quiet_caches(scene)
        _set_output(scene, kind, extension(output), audio)
        frames = range(rig_time.left_handle + numbers.start, rig_time.left_handle + numbers.stop)
        _render(scene, output, kind, frames, numbers, overwrite, progress,
                whole=numbers == range(rig_time.duration))
        return RenderSummary(output, len(numbers), rate, width, height, audio, time.monotonic() - began)


@contextlib.contextmanager
def _fresh_scene(name: str) -> Iterator[bpy.types.Scene]:
    """A new scene with a sequencer, removed afterwards with the sounds it loaded."""
    scene = bpy.data.scenes.new(name)
    sounds_before = set(bpy.data.sounds)
    try:
        scene.sequence_editor_create()
        yield scene
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
    kind = _output_kind(output)
    if not blend.is_file():
        raise VseRenderError(f"{blend}: no such file")
    if same_file(output, blend):
        raise VseRenderError(f"{output}: the output would overwrite the input")
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
    numbers = _render_range(scene.frame_end - scene.frame_start + 1, start, stop)
    _check_output(output, [blend], overwrite, numbers)
    scene.render.use_sequencer = True
    if exact_colors:
        colors.use_exact_colors_on_output(scene)
    audio = any(strip.type == "SOUND" for strip in scene.sequence_editor.strips_all) and kind == "movie"
    _quiet_caches(scene)
    _set_output(scene, kind, extension(output), audio)
    frames = range(scene.frame_start + numbers.start, scene.frame_start + numbers.stop)
    _render(scene, output, kind, frames, numbers, overwrite, progress,
            whole=numbers == range(scene.frame_end - scene.frame_start + 1))
    render = scene.render
    fps = render.fps / render.fps_base
    width = render.resolution_x * render.resolution_percentage // 100
    height = render.resolution_y * render.resolution_percentage // 100
    return RenderSummary(output, len(numbers), fps, width, height, audio, time.monotonic() - began)
