"""The one exact render: :func:`render` takes a :class:`~.request.RenderRequest` and gives a
:class:`~.request.RenderResult`, for every front end (the command line, Bake Motion, a farm task).

Decode, the effect, the measures and the encoder run here (through ``core.engine`` and ``media``),
in this process or, with ``jobs``, in several (``render.jobs``). Progress is a callable
``(done, total)``; cancelling is a :class:`threading.Event`, looked at before each frame. Whatever
way a render ends early (an error, a cancel, an exception from ``progress``), it leaves no file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

from ..core.engine import SourceEndedEarly, extract_motion
from ..core.measures import check_regions
from ..core.settings import Settings
from ..core.timing import FrameRangeError, frame_range, output_frame_count, output_size, plan_frame
from ..media.errors import MediaError
from ..media.formats import keeps_sample_aspect, movie_codec
from ..media.names import not_a_regular_file, signals_path
from ..media.publish import published_together
from . import recording
from .alignment import AlignmentLog
from .chunk_record import chunk_tags
from .inputs import check_for_clip, in_frames, load_media, truncated
from .log import collected
from .request import (
    MATHS,
    AlignmentSummary,
    RenderCancelled,
    RenderError,
    RenderRequest,
    RenderResult,
    RequestError,
)

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], object]


def sample_aspect_note(output: Path, source: object, aspect: Fraction, codec: str,
                       keeping: str = ".mp4, .mov or --codec h264") -> str:
    """The warning of a movie whose codec and container cannot record the input's non-square pixels; ``keeping``
    names the formats that can, in the front end's terms."""
    return (f"{output.name}: {source}'s pixels are not square (anamorphic, {aspect}), which {codec} in "
            f"{output.suffix} cannot record: the output shows them square; {keeping} keep their shape")


def render(request: RenderRequest, progress: Progress | None = None,
           cancelled: threading.Event | None = None) -> RenderResult:
    """Render ``request`` with the exact engine; see the module's notes.

    Raises :class:`RequestError` for a request it cannot honour, :class:`RenderError` when the render
    fails, :class:`RenderCancelled` once ``cancelled`` is set. The result's warnings are the notes and
    warnings this render logged (on this thread), in order.
    """
    found: list = []  # the frequency report, when one is asked for
    signals: list[Path] = []  # a chunk's motion signals, when it records them
    try:
        with collected() as messages, published_together():  # the movie and its side files appear together or none
            frames, alignment, math, reasons = _render(request, progress, cancelled, found, signals)
    except MediaError as error:  # publishing, once every output is finished
        raise RenderError(str(error)) from None
    return RenderResult(request.outputs + tuple(signals), frames, tuple(messages), alignment,
                        found[0] if found else None, math, reasons)


def whole_render_math(request: RenderRequest) -> str:
    """The path (``"planar"`` or ``"rgb"``) a whole render of ``request`` takes: what chunks of it rendered to another
    output (lossless FFV1, which stores either) take, so that their join equals the whole render."""
    media = load_media()
    try:
        source = media.open_source(request.input, request.fps)
    except media.MediaError as error:
        raise RenderError(str(error)) from None
    return choose_math(request, source, in_frames(request.settings, source.rate))[0]


def choose_math(request: RenderRequest, source, settings: Settings) -> tuple[str, tuple[str, ...]]:
    """The path the look takes (``"planar"`` or ``"rgb"``) for ``request`` on ``source`` with ``settings`` (in
    frames), and what sends it to the RGB path (empty when ``math="rgb"`` asked for it); :class:`RequestError` for
    ``math="planar"`` where something needs RGB."""
    from .. import media

    if request.math == "rgb":
        return "rgb", ()
    reasons = media.planar_reasons(source, request.output, request.encode.codec, settings)
    if request.data.wanted:
        reasons.append("motion data (measured on the RGB motion frame)")
    if reasons and request.math == "planar":
        raise RequestError(f"--math planar: {request.output.name} needs the RGB path for {', '.join(reasons)}")
    return ("rgb", tuple(reasons)) if reasons else ("planar", ())


def _render(request: RenderRequest, progress: Progress | None, cancelled: threading.Event | None,
            found: list, written: list) -> tuple[tuple[int, int], AlignmentSummary | None, str, tuple[str, ...]]:
    if request.math not in MATHS:
        raise RequestError(f"--math is one of {', '.join(MATHS)}, not {request.math}")
    media = load_media()
    output, encode = request.output, request.encode
    problem = request.output_problem([request.input])
    if problem:
        raise RequestError(problem)
    try:  # what the output can be is known before the input is opened: a bad name or option is a request error
        for path in request.outputs:
            problem = not_a_regular_file(os.fspath(path))
            if problem:
                raise media.MediaError(problem)
        kind = media.output_kind(output)
        if kind == "movie":
            media.check_encoder_options(str(output), encode.codec, encode.crf, encode.encoder_preset)
        elif encode.given:
            raise media.MediaError(f"{output}: --codec, --crf and --encoder-preset apply to movie outputs")
    except media.MediaError as error:
        raise RequestError(str(error)) from None
    try:
        source = media.open_source(request.input, request.fps)
    except media.MediaError as error:
        raise RenderError(str(error)) from None
    if source.timestamps is not None and kind == "movie" and output.suffix.lower() == ".avi":
        logger.warning("%s: AVI stores a constant frame rate, so %s's variable timing is lost and its sound "
                       "drifts; .mp4, .mov, .mkv and .webm keep it", output.name, source.path)
    if source.sample_aspect is not None and kind == "movie":
        codec = movie_codec(output, encode.codec).name
        if not keeps_sample_aspect(output, codec):
            logger.warning("%s", sample_aspect_note(output, source.path, source.sample_aspect, codec))
    settings = in_frames(request.settings, source.rate)
    check_for_clip(source.path, settings, source.frame_count)
    try:
        check_regions(request.data.regions, source.width, source.height)  # the spectrum's as the data's
    except ValueError as error:
        raise RequestError(f"{source.path}: {error}") from None
    for warning in source.warnings:
        logger.warning("%s", warning)

    total = output_frame_count(settings, source.frame_count)
    try:
        frames = frame_range(total, request.frames[0] or 0, request.frames[1])
    except FrameRangeError as error:
        raise RequestError(str(error)) from None
    start, stop = frames.start, frames.stop

    def input_frame(index: int) -> int:
        return plan_frame(settings, source.frame_count, index).frame

    # The output's time runs with the input frames it shows; the sound is cut to the same span.
    first, last = input_frame(start), input_frame(stop - 1)
    begin = source.time_of(first)
    end = source.time_of(last + 1) if last + 1 < source.frame_count else source.time_of(last) + 1 / source.rate
    sound = None
    if getattr(source, "has_audio", False) and request.sound and kind == "movie":
        sound = media.SoundClip(source.path, source.start_time, begin, end, getattr(source, "sound_jumps", None))

    math, reasons = choose_math(request, source, settings)
    width, height = output_size(settings, source.width, source.height)
    signals = None  # a chunk with a spectrum records its motion signals beside it, for the join's spectrum
    if kind == "movie" and (start, stop) != (0, total) and request.frequency.chunk_signals:
        signals = (signals_path(output), secrets.token_hex(8))
        written.append(Path(signals[0]))
    metadata = chunk_tags(settings, source, start, stop, total, begin, end, width, height, math,
                          None if signals is None else {"file": os.path.basename(signals[0]), "token": signals[1]})
    alignments = AlignmentLog(source, settings)
    try:
        with _align_report(request) as report, media.open_writer(
            output, source.rate, width, height, overwrite=request.overwrite, protect=[request.input],
            first_number=start, frame_count=stop - start, codec=encode.codec, crf=encode.crf,
            encoder_preset=encode.encoder_preset, sound=sound, whole=(start, stop) == (0, total),
            time_base=getattr(source, "time_base", None) if source.timestamps is not None else None, start=begin,
            metadata=metadata, planes=math == "planar", sample_aspect=source.sample_aspect,
        ) as writer, contextlib.closing(
            _frames(request, source, settings, start, stop, alignments if alignments else None, found,
                    math == "planar", signals, writer.lend)
        ) as frames:
            alignments.report = report
            for done, frame in enumerate(frames, start=1):
                if cancelled is not None and cancelled.is_set():
                    raise RenderCancelled
                writer.write(frame, source.time_of(input_frame(start + done - 1)))
                if progress is not None:
                    progress(done, stop - start)
    except media.MediaError as error:
        raise RenderError(str(error)) from None
    except SourceEndedEarly as error:
        raise truncated(source.path, error) from None
    damage = source.damage_warning()
    if damage is not None:
        logger.warning("%s", damage)
    if not alignments:
        return (start, stop), None, math, reasons
    for warning in alignments.warnings():
        logger.warning("%s", warning)
    summary = AlignmentSummary(alignments.pairs, tuple((frame, why) for frame, why in alignments.failed))
    return (start, stop), summary, math, reasons


@contextlib.contextmanager
def _align_report(request: RenderRequest) -> Iterator:
    """A csv writer for ``--align-report`` with its header written (``None`` without one); the file appears
    only when the render succeeds."""
    if request.align_report is None:
        yield None
        return
    import csv

    from ..core.align import REPORT_COLUMNS
    from ..media.text_output import text_output

    with text_output(request.align_report, [request.input, request.output], request.overwrite) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(REPORT_COLUMNS)
        yield writer


def _frames(request: RenderRequest, source, settings: Settings, start: int, stop: int,
            alignments: AlignmentLog | None = None, found: list | None = None, planar: bool = False,
            signals: tuple[str, str] | None = None, target: Callable[[], object] | None = None) -> Iterator:
    """The output frames ``[start, stop)``, from this process or from ``jobs`` processes; ``alignments`` hears
    what ``--align`` did; with a frequency output, its report is appended to ``found`` once the frames end;
    ``planar``: on the planar path, as compact 4:2:0 buffers, rendered in this process where ``target`` (the
    writer's ``lend``) says; ``signals``: the path and token of a chunk's motion signals."""
    try:  # --data, --motiongram, --plot: their files are opened now, before the first frame
        recorder = recording.recorder(request.data, settings, source, request.input, request.output, start,
                                      request.overwrite)
    except ValueError as error:
        raise RequestError(f"{source.path}: {error}") from None
    measures = None if recorder is None else recorder.measures
    heard = None if alignments is None else alignments.heard
    frequency = on_frame = None
    if request.frequency.wanted:  # in one process, fed the frames the engine decodes
        from .frequency import FrequencyRecorder

        frequency = FrequencyRecorder(request, settings, source, start, stop, signals, fed=request.jobs == 1)
        on_frame = frequency.hear if frequency.fed else None
    if request.jobs == 1:
        frames = extract_motion(source, settings, start, stop, max_memory=request.max_memory, on_alignment=heard,
                                measure=measures, planar=planar, on_frame=on_frame,
                                planar_target=target if planar else None)
    else:
        from .jobs import parallel_frames

        frames = parallel_frames(source, str(request.input), settings, start, stop, request.jobs,
                                 str(request.output), request.max_memory, on_alignment=heard,
                                 on_child_alignment=None if alignments is None else alignments.merge,
                                 measures=measures, planar=planar)
    if recorder is not None:
        frames = recording.recorded(frames, recorder, settings, source, start)
    if frequency is not None:
        from .frequency import recorded

        frames = recorded(frames, frequency, start, found)
    return frames
