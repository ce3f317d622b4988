"""Headless renders through the VSE rig: a file in, a motion clip out, with Blender's FFmpeg.

:func:`render_with_vse` builds the same rig the artist gets from *Extract Motion* in a fresh
scene, adds the input's audio as a sound strip, and renders with Blender's own encoders;
:func:`render_blend_file` renders the sequencer of an existing ``.blend``. The scene's set-up (the
input as a strip, its sound and size, Blender's output format) is :mod:`.batch_scene`'s.

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
from fractions import Fraction
from pathlib import Path

import bpy

from ..core.rates import DEFAULT_FPS, blender_fps
from ..core.settings import Settings, SettingsError
from ..core.timing import FrameRangeError, frame_range, output_size
from ..media.errors import os_error
from ..media.names import extension, output_kind
from ..media.publish import PendingFile, complete_png, incomplete_reason, input_overlap
from ..render.inputs import check_for_clip, sequencer_frames_problem
from ..render.request import RenderError, RequestError
from . import colors
from .batch_scene import (
    VseRenderError,
    VseSettingsError,
    add_audio,
    add_source,
    check_even_size,
    fresh_scene,
    media_errors,
    quiet_caches,
    set_output,
    source_size,
)
from .compat import timing
from .rig.build import build_rig
from .rig.record import RigError
from .strips import media_frame_count

Progress = Callable[[int, int], None]

# Clean-ups of the renders under way, for clean_up_before_exit().
_PENDING_DISCARDS: list[Callable[[], None]] = []
BLENDER_FRAMES = "blender"  # the folder in a sequence's temporary that Blender writes its frames to


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


def _output_kind(path: str | os.PathLike) -> str:
    """``"movie"`` or ``"sequence"``; raises :class:`VseRenderError` for names Blender cannot write."""
    with media_errors():
        return output_kind(path, blender=True)


@contextlib.contextmanager
def _pending_output(output: Path, kind: str, inputs: list[Path], overwrite: bool, numbers: range,
                    whole: bool) -> Iterator[PendingFile]:
    """The output's :class:`~..media.publish.PendingFile`, checked as every output is (never one of ``inputs``,
    never an existing file without ``overwrite``; ``numbers``: the file numbers a sequence writes, ``whole``: all
    of them); unless the block commits it, it is discarded with the folders made for it, as it is by
    :func:`clean_up_before_exit`."""
    with media_errors():
        pending = PendingFile(os.fspath(output), overwrite, inputs, numbers if kind == "sequence" else None, whole)

    def discard() -> None:
        pending.discard()
        if kind == "movie":  # Blender may add a suffix, such as the frame range, to the name
            folder, stem = os.path.split(os.path.splitext(os.path.abspath(pending.temp))[0])
            with contextlib.suppress(OSError):
                for name in os.listdir(folder):
                    if name.startswith(stem):
                        os.remove(os.path.join(folder, name))

    _PENDING_DISCARDS.append(discard)
    try:
        yield pending
    finally:
        discard()
        _PENDING_DISCARDS.remove(discard)


# --- rendering ---------------------------------------------------------------------------------


def _render(scene: bpy.types.Scene, pending: PendingFile, kind: str, frames: range, numbers: range,
            progress: Progress | None) -> None:
    """Render scene ``frames`` into ``pending`` and publish it (:meth:`PendingFile.commit`); a sequence's files get
    ``numbers``. Without ``overwrite``, an output file that appeared during the render is not replaced (nor is
    any other of the sequence's published)."""
    scene.frame_start = frames.start
    scene.frame_end = frames.stop - 1
    count = len(frames)
    output = pending.path
    # An absolute path: Blender writes nothing to a bare file name such as "a.mp4". A sequence's frames go to a
    # folder of their own in the temporary, under Blender's names, and are moved to the output's names there.
    temporary = os.path.abspath(pending.temp)
    target = temporary if kind == "movie" else os.path.join(temporary, BLENDER_FRAMES, "frame_########")
    # Braces start a path template ("{blend_name}") in Blender 5.0; doubled they are themselves.
    scene.render.filepath = target.replace("{", "{{").replace("}", "}}")
    done = 0

    def on_write(*_args: object) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, count)

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
        try:
            if kind == "movie":
                if os.path.abspath(written[0]) != temporary:
                    os.replace(written[0], temporary)
            else:
                for file, number in zip(written, numbers, strict=True):
                    os.replace(file, pending.frame_path(number))
                os.rmdir(os.path.join(temporary, BLENDER_FRAMES))
        except OSError as error:
            raise VseRenderError(str(os_error(output, error))) from None
        with media_errors():
            pending.commit(numbers if kind == "sequence" else None)
    finally:
        bpy.app.handlers.render_write.remove(on_write)


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


def _sample_aspect(path: Path) -> Fraction | None:
    """The movie's non-square pixel aspect, read with PyAV where it is at hand (``None`` without it)."""
    try:
        from ..media.movie import file_sample_aspect
    except ImportError:
        return None
    return file_sample_aspect(os.fspath(path))


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
    with fresh_scene("Motion Extraction Render") as scene:
        strip = add_source(scene, source_path)
        rate = float(strip.fps) if strip.type == "MOVIE" else float(fps or DEFAULT_FPS)
        try:
            given, settings = settings, settings.in_frames(rate)
            for line in given.seconds_in_frames(rate) if report is not None else ():
                report(line)
            seen = media_frame_count(strip)
            try:  # a clip the defaults cannot render either is the input's failure, as for the exact engine
                check_for_clip(source_path, settings, seen)
            except RenderError as error:
                raise VseRenderError(str(error)) from None
            except RequestError as error:
                raise VseSettingsError(str(error)) from None
            problem = None if expected_frames is None else sequencer_frames_problem(source_path, expected_frames,
                                                                                    False, seen)
            if problem:
                raise VseRenderError(f"{problem}: use --engine exact")
        except SettingsError as error:
            raise VseSettingsError(f"{source_path}: {error}") from None
        scene.render.fps, scene.render.fps_base = blender_fps(rate)
        source_width, source_height = source_size(strip)
        width, height = output_size(settings, source_width, source_height)
        scene.render.resolution_x, scene.render.resolution_y = width, height  # twice the source for side/stacked
        scene.render.resolution_percentage = 100
        aspect = _sample_aspect(source_path) if strip.type == "MOVIE" else None
        if aspect is not None:  # anamorphic pixels: Blender's movies record the pixel aspect of the scene
            scene.render.pixel_aspect_x, scene.render.pixel_aspect_y = aspect.numerator, aspect.denominator
        try:
            rig = build_rig(scene, strip, settings)
        except RigError as error:
            raise VseRenderError(f"{source_path}: {error}") from None
        rig_time = timing(rig)
        numbers = _render_range(rig_time.duration, start, stop)
        check_even_size(output, kind, width, height)
        with _pending_output(output, kind, [source_path], overwrite, numbers,
                             whole=numbers == range(rig_time.duration)) as pending:
            audio = strip.type == "MOVIE" and kind == "movie" and add_audio(scene, source_path,
                                                                            channel=rig.channel + 1)
            colors.use_exact_colors(scene)
            quiet_caches(scene)
            set_output(scene, kind, extension(output), audio)
            frames = range(rig_time.left_handle + numbers.start, rig_time.left_handle + numbers.stop)
            _render(scene, pending, kind, frames, numbers, progress)
        return RenderSummary(output, len(numbers), rate, width, height, audio, time.monotonic() - began)


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
    overlap = input_overlap(output, [blend])
    if overlap:
        raise VseRenderError(overlap)
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
    with _pending_output(output, kind, [blend], overwrite, numbers,
                         whole=numbers == range(scene.frame_end - scene.frame_start + 1)) as pending:
        scene.render.use_sequencer = True
        if exact_colors:
            colors.use_exact_colors_on_output(scene)
        audio = any(strip.type == "SOUND" for strip in scene.sequence_editor.strips_all) and kind == "movie"
        quiet_caches(scene)
        set_output(scene, kind, extension(output), audio)
        frames = range(scene.frame_start + numbers.start, scene.frame_start + numbers.stop)
        _render(scene, pending, kind, frames, numbers, progress)
    render = scene.render
    fps = render.fps / render.fps_base
    width = render.resolution_x * render.resolution_percentage // 100
    height = render.resolution_y * render.resolution_percentage // 100
    return RenderSummary(output, len(numbers), fps, width, height, audio, time.monotonic() - began)
