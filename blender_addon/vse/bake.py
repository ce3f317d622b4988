"""Bake Motion: the exact engine's render of a strip (or of a rig's source) as a movie strip above it.

A bake has three steps, so that the render can run off Blender's main thread:

1. :func:`plan_bake` (main thread, reads the scene): which file, which frames, where the movie goes;
2. :func:`render_bake` (any thread, no bpy): the exact render (``render.render``)
   writes the movie through a temporary that only a finished render publishes, so a cancelled or
   failed bake leaves no file; :class:`BakeJob` runs it on a thread;
3. :func:`place_bake` (main thread): adds the movie strip above the source (or the rig), or updates
   the baked strip in place (Re-bake), and records what it was made from.

A bake shows what the sequencer shows: a trimmed strip bakes the frames it shows (partners still
come from the whole file, as the rig takes them), and the baked strip starts where the first of
them is on screen. It reads the strip's file: the strip's own modifiers are not applied.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import bpy

from ..core.settings import Settings, SettingsError
from ..core.timing import Span, output_frame_count, output_range, plan_frame
from ..media.errors import MediaError
from ..media.formats import BAKE_FORMATS, MOVIE_FORMATS, bake_format_name, keeps_sample_aspect, movie_codec
from ..media.names import bake_output
from ..render import (
    EncodeOptions,
    RenderCancelled,
    RenderError,
    RenderRequest,
    RequestError,
    load_media,
    render,
    sequencer_frames_problem,
)
from ..render.exact import sample_aspect_note
from ..render.request import output_tag
from .compat import timing
from .rig.checks import media_problem, placement, rig_problem
from .rig.record import SOURCE_TYPES, RigError, rig_of, rig_source
from .strips import (
    absolute_path,
    container,
    copy_properties,
    free_channel,
    make_active,
    media_frame_count,
    media_rate,
    scene_edit_problem,
    strip_input,
)

BAKE_KEY = "motion_extraction_bake"
IDENTITY_KEY = "motion_extraction_id"  # on a baked strip's source, as recorded on the baked strip
RECORD_VERSION = 1


class BakeError(Exception):
    """The bake cannot be made; the message says why, in one line."""


class BakeCancelled(Exception):
    """The bake was cancelled: nothing was written."""


@dataclass(frozen=True)
class BakePlan:
    """One bake, gathered from the scene: everything the render and the placing need, no bpy objects."""

    input_path: str
    fps: Fraction | None  # the input's rate when Blender sets it (image sequences), else the file's
    settings: Settings  # as given (times in seconds stay so)
    frames: tuple[int, int]  # the output frames rendered, [start, stop)
    output: str  # absolute path of the movie
    scene_start: int  # scene frame of the first baked frame
    hold: tuple[int, int]  # frames the strip holds its first and last frame for, as the source holds its media's
    source: str  # name of the strip whose file is baked
    anchor: str  # name of the strip the bake goes above (the source, or its rig)
    target: str | None  # name of the baked strip a Re-bake updates
    warnings: tuple[str, ...] = ()  # what the bake leaves out, for the user
    sound: bool = True  # the movie carries the source's sound (the part it shows), so it is whole outside Blender
    media_frames: int | None = None  # the frames Blender shows of the source's media, to check the file's against
    placed_alike: bool = False  # a new baked strip takes the source's flip, transform and crop

    @property
    def frame_count(self) -> int:
        return self.frames[1] - self.frames[0]


def is_baked(strip: bpy.types.Strip | None) -> bool:
    return strip is not None and strip.type == "MOVIE" and BAKE_KEY in strip


def bake_problem(scene: bpy.types.Scene, strip: bpy.types.Strip | None) -> str | None:
    """Why the active ``strip`` cannot be baked (or re-baked), or ``None`` when it can."""
    problem = scene_edit_problem(scene)  # the bake adds a strip to the scene (Key Motion Data: keys)
    if problem:
        return problem
    try:
        _subject(scene, strip)
    except BakeError as error:
        return str(error)
    return None


def _subject(scene: bpy.types.Scene, strip: bpy.types.Strip | None) -> tuple[bpy.types.Strip, bpy.types.Strip,
                                                                             bpy.types.Strip | None]:
    """``(source, anchor, target)`` for the active strip: a baked strip, a rig, or a movie or image strip."""
    if strip is None:
        raise BakeError("No active strip")
    if is_baked(strip):
        return baked_source(scene, strip), strip, strip
    found = rig_of(strip)
    if found is not None:
        try:
            return rig_source(found), found, None
        except RigError:  # the panel's line: what is wrong and how to recover
            raise BakeError(rig_problem(found)) from None
    if strip.type not in SOURCE_TYPES:
        raise BakeError(f"'{strip.name}' is a {strip.type.lower()} strip, not a movie or image strip")
    return strip, strip, None


def baked_source(scene: bpy.types.Scene, baked: bpy.types.Strip) -> bpy.types.Strip:
    """The strip ``baked`` was baked from, by the identity the bake gave it (whatever it is named now); raises
    :class:`BakeError` when it is gone, or copies of it leave it unclear."""
    record = baked[BAKE_KEY]
    name, identity = record["source"], record.get("identity")
    strips = scene.sequence_editor.strips_all
    if identity is None:  # baked before bakes recorded their source's identity: its name
        found = [strips[name]] if name in strips else []
    else:
        found = [strip for strip in strips if strip.get(IDENTITY_KEY) == identity]
        if len(found) > 1:  # copies (Duplicate copies the identity): the one with the name, if it is one of them
            found = [strip for strip in found if strip.name == name] or found
    if not found:
        raise BakeError(f"'{baked.name}' was baked from '{name}', which is gone")
    if len(found) > 1:
        names = ", ".join(f"'{strip.name}'" for strip in found)
        raise BakeError(f"'{baked.name}' was baked from '{name}', and {names} are copies of it: bake the one "
                        "meant anew")
    return found[0]


def identity(strip: bpy.types.Strip) -> str:
    """The identity a bake records of its source: it follows the strip through renames (and copies of it)."""
    if IDENTITY_KEY not in strip:
        strip[IDENTITY_KEY] = secrets.token_hex(8)
    return strip[IDENTITY_KEY]


def plan_bake(scene: bpy.types.Scene, strip: bpy.types.Strip | None, settings: Settings, extension: str,
              sound: bool = True) -> BakePlan:
    """What baking the active ``strip`` with ``settings`` into a movie of ``extension`` (with the source's sound,
    where it has some and ``sound``) renders, and where it goes."""
    if extension not in BAKE_FORMATS:
        raise BakeError(f"cannot bake to {extension} (use one of {', '.join(BAKE_FORMATS)})")
    problem = scene_edit_problem(scene)
    if problem:
        raise BakeError(problem)
    source, anchor, target = _subject(scene, strip)
    missing = media_problem(source)  # the strip named, and what to do
    if missing:
        raise BakeError(missing)
    try:
        input_path, fps = strip_input(scene, source)
    except MediaError as error:
        raise BakeError(str(error)) from None
    count = media_frame_count(source)
    try:
        frames = settings.in_frames(media_rate(scene, source))
        total = output_frame_count(frames, count)
    except SettingsError as error:
        raise BakeError(f"'{source.name}': {error}") from None
    if len(getattr(source, "retiming_keys", ())):
        raise BakeError(f"'{source.name}' is retimed: bake it without its retiming, then retime the baked strip")
    if source.use_reverse_frames:  # the frames it shows run backwards, the engine's pairs forwards
        raise BakeError(f"'{source.name}' plays its media backwards (Reverse Frames), which the exact engine reads "
                        "forwards: turn Reverse Frames off to bake or key it, then reverse the baked strip")
    placed = timing(source)
    first = min(max(int(placed.left_handle - placed.content_start), 0), count)
    stop = min(max(int(placed.right_handle - placed.content_start), first), count)
    shown = output_range(frames, count, first, stop)
    if not shown:
        raise BakeError(f"'{source.name}': none of the frames it shows has a partner (offset {frames.offset})")
    span = (None, None) if (shown.start, shown.stop) == (0, total) else (shown.start, shown.stop)
    read = Path(input_path)  # a movie file, or an image sequence's folder
    name = f"{read.name if read.is_dir() else read.stem}{output_tag(settings, span)}{extension}"
    made_from = json.dumps([os.path.abspath(input_path), settings.to_dict(), sound], sort_keys=True)
    shown_file = absolute_path(target, target.filepath) if target is not None else ""
    output = bake_output(bpy.data.filepath, input_path, name, made_from, shown_file)
    scene_start = int(placed.content_start) + plan_frame(frames, count, shown.start).frame
    # Where the source holds its first or last media frame past the media's ends, the bake holds its motion.
    end = scene_start + len(shown)
    media_end = int(placed.content_start) + count
    hold = (max(int(placed.content_start - placed.left_handle), 0) if scene_start == placed.content_start else 0,
            max(int(placed.right_handle - media_end), 0) if end == media_end else 0)
    placed_alike = target is None and settings.layout == "motion" and settings.look != "flow"
    warnings = tuple(warning for warning in (
        f"'{source.name}' has modifiers: the bake reads its file without them"
        if any(modifier.enable for modifier in source.modifiers) else None,
        _not_baked(source, placed_alike)) if warning)
    return BakePlan(input_path, fps, settings, (shown.start, shown.stop), output, scene_start, hold, source.name,
                    anchor.name, target.name if target is not None else None, warnings, sound, count, placed_alike)


# How a strip shows its media that a baked strip placed alike takes over: the motion of a mirrored, moved or
# cropped picture is the picture's motion mirrored, moved or cropped.
PLACEMENT = ("use_flip_x", "use_flip_y")
# How it shows its media that the bake does not (the engine reads the file as it is).
NOT_BAKED = ("strobe", "color_multiply", "color_saturation")


def _not_baked(source: bpy.types.Strip, placed_alike: bool) -> str | None:
    """The warning naming, in Blender's words, how ``source`` shows its media that the baked strip will not."""
    changed = [source.bl_rna.properties[name].name for name in (*NOT_BAKED, *(() if placed_alike else PLACEMENT))
               if getattr(source, name) != source.bl_rna.properties[name].default]
    placed = placement(source)
    if placed == "animated" or (placed and not placed_alike):
        changed.append(f"its {'animated ' if placed == 'animated' else ''}transform or crop")
    if not changed:
        return None
    return f"'{source.name}' shows its media with {', '.join(changed)}: the bake shows it without"


def _place_alike(source: bpy.types.Strip, strip: bpy.types.Strip) -> None:
    """Show the baked ``strip`` where and as ``source`` shows its picture: mirrored, moved and cropped alike."""
    for name in PLACEMENT:
        if getattr(strip, name) != getattr(source, name):
            setattr(strip, name, getattr(source, name))
    copy_properties(source.transform, strip.transform)
    copy_properties(source.crop, strip.crop)


def check_frames(plan: BakePlan, frame_count: int, variable: bool) -> None:
    """Refuse (:class:`BakeError`) a movie whose frames, as the exact engine decodes them (``frame_count``, at a
    ``variable`` rate), are not the ones Blender shows: the bake could not put them where the source shows them."""
    if plan.fps is not None:  # images: Blender shows each file, at the scene's rate
        return
    problem = sequencer_frames_problem(f"'{plan.source}'", frame_count, variable, plan.media_frames)
    if problem:
        raise BakeError(f"{problem}, so its motion cannot be put where the strip shows it: re-encode the file at a "
                        "constant rate and use that")


def render_bake(plan: BakePlan, progress: Callable[[int], None] | None = None,
                cancelled: threading.Event | None = None) -> list[str]:
    """Write the plan's movie with the exact engine (no bpy: any thread); returns its notes (such as warnings).

    ``progress`` is told the frames done; setting ``cancelled`` stops the render and leaves no file
    (:class:`BakeCancelled`). Raises :class:`BakeError` when the render fails.
    """
    in_blender_terms = {}
    if plan.fps is None:
        try:
            source = load_media().open_source(plan.input_path)
        except (RenderError, MediaError) as error:
            raise BakeError(str(error)) from None
        check_frames(plan, source.frame_count, source.timestamps is not None)
        if source.sample_aspect is not None:  # the render names the command line's way out: the bake's is a format
            output, codec = Path(plan.output), movie_codec(plan.output, None).name
            keeping = [bake_format_name(suffix) for suffix in BAKE_FORMATS
                       if keeps_sample_aspect(f"baked{suffix}", MOVIE_FORMATS[suffix].default_codec.name)]
            in_blender_terms[sample_aspect_note(output, source.path, source.sample_aspect, codec)] = (
                sample_aspect_note(output, source.path, source.sample_aspect, codec,
                                   f"the Bake Formats {' and '.join(keeping)}"))
    # The RGB path, which the rig matches: a lossless bake holds exactly the rig's pictures.
    request = RenderRequest(plan.input_path, Path(plan.output), plan.settings, plan.frames, EncodeOptions(),
                            sound=plan.sound, overwrite=True, fps=plan.fps, math="rgb")
    try:
        result = render(request, None if progress is None else lambda done, total: progress(done), cancelled)
    except RenderCancelled:
        raise BakeCancelled from None
    except (RequestError, RenderError) as error:
        raise BakeError(str(error)) from None
    return [in_blender_terms.get(warning, warning) for warning in result.warnings]


# The work a job runs: the plan, a progress callback (frames done) and the cancel event; returns its result.
Work = Callable[[BakePlan, Callable[[int], None], threading.Event], object]


class BakeJob:
    """A plan's work on a thread of its own (the bake's render, unless ``work`` is given, such as Key Motion
    Data's measures): frames done, cancel, and the outcome (``result``, or ``error`` in one line)."""

    def __init__(self, plan: BakePlan, work: Work | None = None) -> None:
        self.plan = plan
        self.done = 0
        self.result: object = None  # what the work returned: render_bake's notes by default
        self.error: str | None = None
        self._work = work or render_bake
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="motion-bake", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop the work after the frame under way (a render's temporary file is deleted)."""
        self._cancelled.set()

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        def count(done: int) -> None:
            self.done = done

        try:
            self.result = self._work(self.plan, count, self._cancelled)
        except BakeCancelled:
            pass
        except BakeError as error:
            self.error = str(error)
        except Exception as error:  # noqa: BLE001 (a thread's failure is reported by the operator, in one line)
            self.error = f"{type(error).__name__}: {error}"


def place_bake(scene: bpy.types.Scene, plan: BakePlan) -> bpy.types.Strip:
    """Put the movie in the sequencer: the Re-bake's strip updated in place, else a new strip above the source."""
    editor = scene.sequence_editor
    path = plan.output
    if bpy.data.filepath:
        try:
            path = bpy.path.relpath(plan.output)  # "//motion/...": moves with the .blend
        except ValueError:  # on another drive (Windows): no relative path
            pass
    strip = editor.strips_all.get(plan.target) if plan.target else None
    source = editor.strips_all.get(plan.source)
    if strip is not None:
        strip.filepath = path  # reopens the movie: its length is the new file's
        timing(strip).content_start = plan.scene_start
    else:
        anchor = editor.strips_all.get(plan.anchor) or editor.strips_all.get(plan.source)
        if anchor is None:
            raise BakeError(f"'{plan.source}' is gone")
        strips = container(anchor)
        span = Span(plan.scene_start - plan.hold[0], plan.scene_start + plan.frame_count + plan.hold[1])
        channel = free_channel(strips, span, lowest=anchor.channel + 1)
        if channel is None:
            raise BakeError(f"no free channel above channel {anchor.channel} for the baked strip")
        strip = strips.new_movie(name=f"{plan.source} Baked", filepath=path, channel=channel,
                                 frame_start=plan.scene_start)
        if plan.placed_alike and source is not None:
            _place_alike(source, strip)
    placed = timing(strip)
    placed.left_handle_offset, placed.right_handle_offset = -plan.hold[0], -plan.hold[1]
    strip[BAKE_KEY] = {"version": RECORD_VERSION, "source": plan.source, "settings": plan.settings.to_dict(),
                       "frames": list(plan.frames)} | ({"identity": identity(source)} if source is not None else {})
    make_active(scene, strip)
    return strip

